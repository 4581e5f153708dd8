# awsrole hook for zsh. Load it from ~/.zshrc with
#
#   eval "$(awsrole hook zsh)"
#
# Before every prompt and after every change of directory (also inside
# scripts and functions) it runs `awsrole export zsh` and, if that succeeds,
# evaluates what it printed, which moves this shell's AWS variables to what
# the current directory asks for; if it fails outside AWSROLE_DIR, the
# shell leaves the role all the same (_awsrole_failed).
#
# fast-path contract v2 (hooks/CONTRACT.md)

# What the last call left (set by its output): the nearest .awsrole.toml,
# the AWSROLE_STATE it goes with, a mark file whose mtime is just before the
# call read anything, the code that leaves the active role, the unix time
# credentials need renewing, the files (user config, trust store) whose
# change means "ask again", and the credential endpoint's process (pid and
# start time) when the shell holds its URI.
#
# None of them is ever exported, not even under ALL_EXPORT: __awsrole_leave
# holds the user's own secret key. They are only ever assigned under
# `emulate -L zsh` (ALL_EXPORT off); unsetting them first drops an export
# attribute they may have come with.
() {
  \builtin emulate -L zsh
  \builtin unset __awsrole_file __awsrole_state __awsrole_mark __awsrole_leave __awsrole_deadline __awsrole_watch \
    __awsrole_walk_pwd __awsrole_walk_file __awsrole_server __awsrole_skip
  \builtin typeset -g __awsrole_file='' __awsrole_state='' __awsrole_mark='' __awsrole_leave=''
  \builtin typeset -g __awsrole_walk_pwd='' __awsrole_walk_file='' __awsrole_skip=''
  \builtin typeset -gi __awsrole_deadline=0
  \builtin typeset -ga __awsrole_watch __awsrole_server
  \builtin zmodload zsh/datetime 2>/dev/null
}

# _awsrole_steady succeeds when another call would change nothing. Builtins
# only: a prompt in the same project, or cd between directories without a
# .awsrole.toml, costs a few stat calls and no process.
_awsrole_steady() {
  \builtin emulate -L zsh -o no_aliases
  # (zsh's -nt is false against a missing mark: it must be there.)
  [[ -n ${__awsrole_mark} && -e ${__awsrole_mark} && ${AWSROLE_STATE-} == "${__awsrole_state}" ]] || \builtin return 1
  [[ -n ${EPOCHSECONDS-} ]] && (( EPOCHSECONDS < __awsrole_deadline )) || \builtin return 1
  \builtin local dir file watched probe
  # The nearest file, found as `awsrole export` finds it: one stat per
  # level. (A dangling symlink counts for export and not for -e: one made
  # nearer is seen at the next call, not the next prompt.) The walk is done
  # again only in another directory, or once its result no longer holds:
  # _awsrole_walked checks that with the same stats, written out as one
  # condition for this directory (a loop costs more).
  if [[ ${PWD} != "${__awsrole_walk_pwd}" ]] || ! _awsrole_walked; then
    # A PWD set by hand to a relative path is left to the binary.
    [[ ${PWD} == /* ]] || \builtin return 1
    dir="${PWD%/}" __awsrole_walk_file='' probe=''
    while :; do
      if [[ -e ${dir}/.awsrole.toml ]]; then
        __awsrole_walk_file=${dir}/.awsrole.toml
        probe+=" -e ${(qq)__awsrole_walk_file}"
        \builtin break
      fi
      probe+=" ! -e ${(qq)dir}/.awsrole.toml &&"
      [[ -n ${dir} ]] || \builtin break
      dir=${dir%/*}
    done
    [[ -n ${__awsrole_walk_file} ]] || probe+=" -n x"
    \builtin eval "_awsrole_walked() { [[${probe} ]] }"
    __awsrole_walk_pwd=${PWD}
  fi
  file=${__awsrole_walk_file}
  if [[ ${file} != "${__awsrole_file}" ]]; then
    # Out of every project while a role is active: put the user's own
    # values back here, as `awsrole export` would (only those still holding
    # awsrole's value), with no process.
    [[ -z ${file} && -n ${__awsrole_leave} ]] || \builtin return 1
    \builtin eval "${__awsrole_leave}"
    __awsrole_file='' __awsrole_state='' __awsrole_leave=''
    __awsrole_deadline=4611686018427387904
    \builtin return 0
  fi
  [[ -z ${file} || ! ${file} -nt ${__awsrole_mark} ]] || \builtin return 1
  for watched in "${__awsrole_watch[@]}"; do
    [[ ! ${watched} -nt ${__awsrole_mark} ]] || \builtin return 1
  done
  (( ! ${#__awsrole_server} )) || _awsrole_serving
}

_awsrole_hook() {
  # First, before anything resets it: the user's prompt may show it, and
  # precmd functions after this one see it.
  \builtin local __awsrole_status=$?
  # Under ERR_EXIT a non-zero return from a hook function ends the shell.
  [[ ! -o err_exit ]] || __awsrole_status=0
  # Known options whatever the user set (KSH_ARRAYS, SH_WORD_SPLIT,
  # NO_UNSET, ERR_EXIT, ALL_EXPORT…), and no aliases in the evaluated code;
  # -L also makes traps set here local, so the user's own INT trap is back
  # on return.
  \builtin emulate -L zsh -o no_aliases
  \builtin typeset +x __awsrole_status
  \builtin local __awsrole_code __awsrole_int=0 __awsrole_ended=${__awsrole_skip}
  __awsrole_skip=''
  if _awsrole_steady; then
    \builtin return "${__awsrole_status}"
  fi
  # The user has just ended a call here with Ctrl-C (in chpwd): the
  # precmd right after does not start another.
  [[ ${__awsrole_ended} != "${PWD}" ]] || \builtin return "${__awsrole_status}"
  # Ctrl-C ends the binary, not this function: the eval is never stopped
  # halfway through the exports, and a call ended so fails closed below.
  # (A trap that runs code, unlike an ignored signal, is back to the
  # default in the child. A hung call is bounded by Ctrl-C, not by a
  # deadline: signing in, an MFA code or a confirmation take the user's
  # time.)
  \builtin trap -- '__awsrole_int=1' INT
  # Until a call succeeds, the next prompt asks again.
  __awsrole_mark=''
  # Only a complete, successful answer is evaluated: one that ends with
  # the binary's last line.
  if __awsrole_code=$(\command __AWSROLE_BIN__ export zsh --pid "$$") &&
    [[ ${__awsrole_code##*$'\n'} == '# awsrole export: end' ]]; then
    \builtin eval "${__awsrole_code}"
  else
    _awsrole_failed
    (( ! __awsrole_int )) || __awsrole_skip=${PWD}
  fi
  \builtin return "${__awsrole_status}"
}

# _awsrole_failed fails closed: the call failed, was killed or answered
# nothing usable. Outside AWSROLE_DIR (a path boundary: /a/bc is not under
# /a/b) the shell leaves the role with the leave code the last successful
# call rendered; inside it keeps the project's credentials, as a failed
# renewal does.
_awsrole_failed() {
  \builtin emulate -L zsh -o no_aliases
  \builtin local dir=${AWSROLE_DIR-}
  [[ -n ${__awsrole_leave} ]] || \builtin return 0
  if [[ -n ${dir} ]] && [[ ${PWD} == "${dir}" || ${PWD} == "${dir%/}"/* ]]; then
    \builtin return 0
  fi
  \builtin eval "${__awsrole_leave}"
  __awsrole_file='' __awsrole_state='' __awsrole_leave=''
}

# _awsrole_serving succeeds while the credential endpoint whose URI this
# shell holds still runs: on Linux the same process (its start time in
# /proc/PID/stat, so a recycled pid is not taken for it) and not a zombie
# (a killed server stays one where init does not reap); elsewhere kill -0.
# A redirection and builtins: no process. When it fails, the next call
# starts the server again and exports its new URI and token.
_awsrole_serving() {
  \builtin local IFS=' ' line
  \builtin local -a stat
  if [[ -n ${__awsrole_server[2]-} ]]; then
    # $(<file) reads in blocks with no process; `read` would read a byte at
    # a time, and the kernel makes the whole file again for each.
    [[ -r /proc/${__awsrole_server[1]}/stat ]] || \builtin return 1
    line=$(</proc/${__awsrole_server[1]}/stat) 2>/dev/null
    stat=(${=line})
    [[ ${stat[3]-} != Z && ${stat[22]-} == "${__awsrole_server[2]}" ]]
  else
    \builtin kill -0 "${__awsrole_server[1]}" 2>/dev/null
  fi
}

# Register once, in front, so prompt code that runs after it (a theme showing
# AWSROLE_ARN) already sees the new role. Sourcing this file twice is a no-op.
() {
  \builtin emulate -L zsh
  \builtin typeset -ga precmd_functions chpwd_functions
  if (( ! ${precmd_functions[(Ie)_awsrole_hook]} )); then
    precmd_functions=(_awsrole_hook "${precmd_functions[@]}")
  fi
  if (( ! ${chpwd_functions[(Ie)_awsrole_hook]} )); then
    chpwd_functions=(_awsrole_hook "${chpwd_functions[@]}")
  fi
}
