# awsrole hook for zsh. Load it from ~/.zshrc with
#
#   eval "$(awsrole hook zsh)"
#
# Before every prompt and after every change of directory (also inside
# scripts and functions) it runs `awsrole export zsh` and, if that succeeds,
# evaluates what it printed, which moves this shell's AWS variables to what
# the current directory asks for.

_awsrole_hook() {
  # First, before anything resets it: the user's prompt may show it.
  \builtin local __awsrole_status=$?
  # Known options for the eval whatever the user set; -L also makes traps
  # set here local, so the user's own INT trap is back on return.
  \builtin emulate -L zsh
  \builtin local __awsrole_code
  # Ctrl-C must not stop the eval halfway through the exports.
  \builtin trap -- '' INT
  # Only a complete, successful answer is evaluated.
  if __awsrole_code=$(\command __AWSROLE_BIN__ export zsh --pid "$$"); then
    \builtin eval "${__awsrole_code}"
  fi
  \builtin return "${__awsrole_status}"
}

# Register once, in front, so prompt code that runs after it (a theme showing
# AWSROLE_ARN) already sees the new role. Sourcing this file twice is a no-op.
\builtin typeset -ga precmd_functions chpwd_functions
if (( ! ${precmd_functions[(Ie)_awsrole_hook]} )); then
  precmd_functions=(_awsrole_hook "${precmd_functions[@]}")
fi
if (( ! ${chpwd_functions[(Ie)_awsrole_hook]} )); then
  chpwd_functions=(_awsrole_hook "${chpwd_functions[@]}")
fi
