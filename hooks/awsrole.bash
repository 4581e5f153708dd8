# awsrole hook for bash. Load it from ~/.bashrc with
#
#   eval "$(awsrole hook bash)"
#
# Before every prompt it runs `awsrole export bash` and, if that succeeds,
# evaluates what it printed, which moves this shell's AWS variables to what
# the current directory asks for; if it fails outside AWSROLE_DIR, the
# shell leaves the role all the same (_awsrole_failed). When nothing can
# have changed since the last call, it starts no process at all: see
# _awsrole_steady.
#
# fast-path contract v2 (hooks/CONTRACT.md)

# What the last call left (set by its output): the nearest .awsrole.toml,
# the AWSROLE_STATE it goes with, a mark file whose mtime is just before the
# call read anything, the code that leaves the active role, the unix time
# credentials need renewing, the credential endpoint's process (pid and
# start time) when the shell holds its URI, and the arguments of a `test`
# that fails once that file or another watched one (user config, trust
# store) is newer than the mark. And what the last walk up from PWD found:
# the directory it started in and the nearest file; _awsrole_walked, the
# condition that fails once a nearer file appears or that one is gone, is
# written out by the walk.
#
# None of them is ever exported, not even under `set -a`: __awsrole_leave
# holds the user's own secret key. They are only ever assigned inside the
# hook's functions, where `set -a` is off; unsetting them first drops an
# export attribute they may have come with.
_awsrole_init() {
  \builtin local -
  \builtin set +a
  \builtin unset -v __awsrole_file __awsrole_state __awsrole_mark __awsrole_leave __awsrole_deadline __awsrole_watch \
    __awsrole_walk_pwd __awsrole_walk_file __awsrole_server
  __awsrole_file='' __awsrole_state='' __awsrole_mark='' __awsrole_leave=''
  __awsrole_deadline=0
  __awsrole_server=()
  # The test starts out well-formed: a `test` it ends never sees a
  # missing argument.
  __awsrole_watch=(-n x)
  __awsrole_walk_pwd='' __awsrole_walk_file=''
}
_awsrole_init
\builtin unset -f _awsrole_init

# _awsrole_steady succeeds when another call would change nothing. Builtins
# only: a prompt in the same project, or cd between directories without a
# .awsrole.toml, costs a few stat calls and no process. Its comparisons are
# `test`'s, which nocasematch does not make case-blind as it does [[ == ]].
_awsrole_steady() {
  # bash >= 5 has the clock in a variable; printf's %T costs more.
  \builtin local now=${EPOCHSECONDS-} dir
  [[ -n ${now} ]] || \builtin printf -v now '%(%s)T' -1
  ((now < __awsrole_deadline)) || \builtin return 1
  # The nearest file, found as `awsrole export` finds it: one stat per
  # level. (A dangling symlink counts for export and not for -e: one made
  # nearer is seen at the next call, not the next prompt.) The walk is done
  # again only in another directory, or once its result no longer holds:
  # _awsrole_walked checks that with the same stats, written out as one
  # condition for this directory (at 64 levels, `test` over an array of
  # its arguments costs twice the stats; a written-out [[ ]] less).
  if \builtin test "x${PWD}" != "x${__awsrole_walk_pwd}" || ! _awsrole_walked; then
    # A PWD set by hand to a relative path is left to the binary.
    [[ ${PWD} == /* ]] || \builtin return 1
    \builtin local probe='' level
    dir="${PWD%/}" __awsrole_walk_file=''
    while :; do
      \builtin printf -v level '%q' "${dir}/.awsrole.toml"
      if [[ -e ${dir}/.awsrole.toml ]]; then
        __awsrole_walk_file=${dir}/.awsrole.toml
        probe+=" -e ${level}"
        \builtin break
      fi
      probe+=" ! -e ${level} &&"
      [[ -n ${dir} ]] || \builtin break
      dir=${dir%/*}
    done
    [[ -n ${__awsrole_walk_file} ]] || probe+=" -n x"
    _awsrole_aside builtin eval "_awsrole_walked() { [[${probe} ]]; }"
    __awsrole_walk_pwd=${PWD}
  fi
  # The same state, the same file, and neither it nor a watched one newer
  # than the mark.
  \builtin test -n "${__awsrole_mark}" -a "x${AWSROLE_STATE-}" = "x${__awsrole_state}" \
    -a "x${__awsrole_walk_file}" = "x${__awsrole_file}" -a "${__awsrole_watch[@]}" &&
    { [[ -z ${__awsrole_server[0]-} ]] || _awsrole_serving; } && \builtin return 0
  # Out of every project while a role is active: put the user's own values
  # back here, as `awsrole export` would (only those still holding
  # awsrole's value), with no process.
  \builtin test -z "${__awsrole_walk_file}" -a -n "${__awsrole_leave}" -a -n "${__awsrole_mark}" \
    -a "x${AWSROLE_STATE-}" = "x${__awsrole_state}" || \builtin return 1
  _awsrole_aside builtin eval "${__awsrole_leave}"
  __awsrole_file='' __awsrole_state='' __awsrole_leave=''
  __awsrole_deadline=4611686018427387904
}

# _awsrole_walked is the walk's condition (_awsrole_steady writes it out):
# until a walk, there is none.
_awsrole_walked() { \builtin return 1; }

# _awsrole_serving succeeds while the credential endpoint whose URI this
# shell holds still runs: on Linux the same process (its start time in
# /proc/PID/stat, so a recycled pid is not taken for it) and not a zombie
# (a killed server stays one where init does not reap); elsewhere kill -0.
# A redirection and builtins: no process. When it fails, the next call
# starts the server again and exports its new URI and token.
_awsrole_serving() {
  \builtin local IFS=' ' __awsrole_stat
  if [[ -n ${__awsrole_server[1]-} ]]; then
    \builtin read -r -a __awsrole_stat 2>/dev/null <"/proc/${__awsrole_server[0]}/stat" || \builtin return 1
    \builtin test "x${__awsrole_stat[2]-}" != xZ -a "x${__awsrole_stat[21]-}" = "x${__awsrole_server[1]}"
  else
    \builtin kill -0 "${__awsrole_server[0]}" 2>/dev/null
  fi
}

_awsrole_hook() {
  # First, before anything resets it: the user's prompt may show it. (No
  # assignment: under `set -k` one would go to the environment.)
  \builtin set -- "$?"
  # The user's options must not change what the hook decides or evaluates.
  # Under `set -a` every assignment would be exported to every child,
  # __awsrole_leave with the user's secret key in it. The check is a string
  # match, so a prompt with none of these options set pays no builtin call.
  if [[ $- == *[aeuk]* ]]; then
    _awsrole_guarded
  else
    _awsrole_steady || _awsrole_aside _awsrole_call
  fi
  \builtin return "$1"
}

# _awsrole_guarded is the hook under `set -a`, `-e`, `-u` or `-k`: set
# aside until it returns (local -).
_awsrole_guarded() {
  \builtin local -
  \builtin set +a +e +u +k
  _awsrole_steady || _awsrole_aside _awsrole_call
}

# _awsrole_aside runs its arguments with the shell options that would
# change code bash parses or matches (aliases, globbing, case-blind
# matching) set aside: the binary's answer, or the leave code.
_awsrole_aside() {
  \builtin local IFS=$' \t\n' __awsrole_opts='' __awsrole_opt
  for __awsrole_opt in nocasematch nocaseglob nullglob failglob expand_aliases; do
    if [[ :${BASHOPTS}: == *:${__awsrole_opt}:* ]]; then
      __awsrole_opts+=" ${__awsrole_opt}"
      \builtin shopt -u "${__awsrole_opt}"
    fi
  done
  "$@"
  # Word splitting is meant here: a list of option names.
  # shellcheck disable=SC2086
  [[ -z ${__awsrole_opts} ]] || \builtin shopt -s ${__awsrole_opts}
}

_awsrole_call() {
  \builtin local __awsrole_int_trap __awsrole_code
  __awsrole_int_trap=$(\builtin trap -p SIGINT)
  # Ctrl-C ends the binary, not this function: the eval is never stopped
  # halfway through the exports, and a call ended so fails closed below.
  # (A trap that runs code, unlike an ignored signal, is back to the
  # default in the child. A hung call is bounded by Ctrl-C, not by a
  # deadline: signing in, an MFA code or a confirmation take the user's
  # time.)
  \builtin trap -- ':' SIGINT
  # Until a call succeeds, the next prompt asks again.
  __awsrole_mark=''
  # Only a complete, successful answer is evaluated: one that ends with
  # the binary's last line.
  if __awsrole_code=$(\command __AWSROLE_BIN__ export bash --pid "$$") &&
    [[ ${__awsrole_code##*$'\n'} == '# awsrole export: end' ]]; then
    \builtin eval "${__awsrole_code}"
  else
    _awsrole_failed
  fi
  \builtin eval "${__awsrole_int_trap:-\builtin trap - SIGINT}"
}

# _awsrole_failed fails closed: the call failed, was killed or answered
# nothing usable. Outside AWSROLE_DIR (a path boundary: /a/bc is not under
# /a/b) the shell leaves the role with the leave code the last successful
# call rendered; inside it keeps the project's credentials, as a failed
# renewal does.
_awsrole_failed() {
  \builtin local dir=${AWSROLE_DIR-}
  [[ -n ${__awsrole_leave} ]] || \builtin return 0
  if [[ -n ${dir} ]] && [[ ${PWD} == "${dir}" || ${PWD} == "${dir%/}"/* ]]; then
    \builtin return 0
  fi
  \builtin eval "${__awsrole_leave}"
  __awsrole_file='' __awsrole_state='' __awsrole_leave=''
}

# Under `set -a`, bash exports functions defined too.
\builtin export -fn _awsrole_steady _awsrole_walked _awsrole_serving _awsrole_hook _awsrole_guarded _awsrole_aside _awsrole_call _awsrole_failed

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
