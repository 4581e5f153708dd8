# awsrole hook for bash. Load it from ~/.bashrc with
#
#   eval "$(awsrole hook bash)"
#
# Before every prompt it runs `awsrole export bash` and, if that succeeds,
# evaluates what it printed, which moves this shell's AWS variables to what
# the current directory asks for.

_awsrole_hook() {
  # First, before anything resets it: the user's prompt may show it.
  \builtin local __awsrole_status=$?
  \builtin local __awsrole_int_trap __awsrole_code
  __awsrole_int_trap=$(\builtin trap -p SIGINT)
  # Ctrl-C must not stop the eval halfway through the exports.
  \builtin trap -- '' SIGINT
  # Only a complete, successful answer is evaluated.
  if __awsrole_code=$(\command __AWSROLE_BIN__ export bash --pid "$$"); then
    \builtin eval "${__awsrole_code}"
  fi
  \builtin eval "${__awsrole_int_trap:-\builtin trap - SIGINT}"
  \builtin return "${__awsrole_status}"
}

# Register once, in front, so prompt code that runs after it (a theme showing
# AWSROLE_ARN) already sees the new role. Sourcing this file twice is a no-op.
_awsrole_register() {
  \builtin local cmd
  for cmd in ${PROMPT_COMMAND[@]+"${PROMPT_COMMAND[@]}"}; do
    case ";${cmd//[[:space:]]/;};" in
    *";_awsrole_hook;"*) \builtin return 0 ;;
    *) ;;
    esac
  done
  if [[ "$(\builtin declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
    # bash >= 5.1 runs each element of an array PROMPT_COMMAND.
    PROMPT_COMMAND=(_awsrole_hook ${PROMPT_COMMAND[@]+"${PROMPT_COMMAND[@]}"})
  else
    # This branch only sees the string form, which shellcheck cannot know
    # after the array assignment above.
    # A newline, not ";", keeps whatever the user has there valid.
    # shellcheck disable=SC2128,SC2178
    PROMPT_COMMAND="_awsrole_hook${PROMPT_COMMAND:+$'\n'${PROMPT_COMMAND}}"
  fi
}
_awsrole_register
\builtin unset -f _awsrole_register
