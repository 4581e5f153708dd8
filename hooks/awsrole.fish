# awsrole hook for fish. Load it from config.fish or conf.d with
#
#   awsrole hook fish | source
#
# Before every prompt and whenever PWD changes (so also for cd inside scripts
# and functions) it runs `awsrole export fish` and, if that succeeds, sources
# what it printed, which moves this shell's AWS variables to what the current
# directory asks for; if it fails outside AWSROLE_DIR, the shell leaves the
# role all the same (__awsrole_failed). When nothing can have changed since the last call it
# starts no process (fish >= 3.6, which has `path mtime`): see
# __awsrole_steady. Defining the functions again replaces them, handlers
# included, so sourcing this twice registers once.
#
# The hook's own variables are never exported (-u), whatever scope a
# variable of the same name had; a universal one is dropped.
for __awsrole_var in __awsrole_after_cd __awsrole_file __awsrole_state __awsrole_mark __awsrole_leave __awsrole_ttl __awsrole_boot __awsrole_watch __awsrole_walk __awsrole_walk_prev __awsrole_nofast __awsrole_server __awsrole_calling
    set -qU $__awsrole_var; and set -eU $__awsrole_var
    set -e -g $__awsrole_var
end
set -e __awsrole_var
#
# fast-path contract v2 (hooks/CONTRACT.md)

# What the last call left (set by its output): the nearest .awsrole.toml,
# the AWSROLE_STATE it goes with, a mark file whose mtime is a second before
# the call read anything, the code that leaves the active role, how many
# seconds after the mark credentials need renewing and, on Linux, when on
# the boot clock of /proc/uptime (0: no such clock), the credential
# endpoint's process (pid and start time) when the shell holds its URI,
# and the arguments of a
# `test` that fails once the file or another watched one (user config,
# trust store) is newer than the mark. And the walks up from the last two
# directories: each the directory, the nearest file ('' for none) and the
# arguments of a `test` that fails once a nearer file appears or that one
# goes away. The tests start out well-formed, so that a `test` they end
# never sees a missing argument.
set -gu __awsrole_mark ''
set -gu __awsrole_boot 0
set -gu __awsrole_watch -n x
set -gu __awsrole_walk '' '' -n x
set -gu __awsrole_walk_prev '' '' -n x

# __awsrole_steady succeeds when another call would change nothing. Builtins
# only: a prompt in the same project, or cd between directories without a
# .awsrole.toml, costs a few stat calls and no process. Detected once here:
# a fish without `path mtime --relative` always asks the binary.
if contains -- path (builtin -n); and path mtime --relative / >/dev/null 2>/dev/null
    function __awsrole_steady --description 'awsrole: succeed when another call would change nothing'
        test -n "$__awsrole_mark" -a "x$AWSROLE_STATE" = "x$__awsrole_state"; or return 1
        # The nearest file, found as `awsrole export` finds it: the walk of
        # this directory, or of the one before (cd back and forth), as long
        # as its test holds; otherwise walked again.
        if test "x$PWD" != "x$__awsrole_walk[1]"
            set -l other $__awsrole_walk
            set -gu __awsrole_walk $__awsrole_walk_prev
            set -gu __awsrole_walk_prev $other
        end
        if test "x$PWD" != "x$__awsrole_walk[1]"; or not test $__awsrole_walk[3..]
            __awsrole_walk; or return 1
        end
        if test "x$__awsrole_walk[2]" != "x$__awsrole_file"
            # Out of every project while a role is active: put the user's
            # own values back here, as `awsrole export` would (only those
            # still holding awsrole's value), with no process.
            test -z "$__awsrole_walk[2]"; and test -n "$__awsrole_leave"; or return 1
            eval $__awsrole_leave
            set -gu __awsrole_file ''
            set -gu __awsrole_state ''
            set -gu __awsrole_leave ''
            set -gu __awsrole_ttl 4611686018427387904
            test "$__awsrole_boot" -gt 0; and set -gu __awsrole_boot 4611686018427387904
            return 0
        end
        # Before the renewal deadline, and neither the file nor a watched
        # one newer than the mark. The clock: on Linux the boot clock, read
        # from /proc/uptime with no process and no pipe; elsewhere the
        # mark's age in seconds (a pipe into read costs less than a command
        # substitution), none when the mark is gone.
        if test "$__awsrole_boot" -gt 0
            read -l -d . now rest </proc/uptime; or return 1
            test "$now" -lt "$__awsrole_boot" -a -e "$__awsrole_mark" -a $__awsrole_watch; or return 1
        else
            path mtime --relative -- $__awsrole_mark | read -l age; or return 1
            test "$age" -lt "$__awsrole_ttl" -a $__awsrole_watch; or return 1
        end
        __awsrole_serving
    end

    # __awsrole_walk finds the nearest file up from PWD, one stat per level,
    # and writes down the `test` that holds while it stays the nearest. A
    # directory name with a newline is left to the binary.
    function __awsrole_walk --description 'awsrole: find the nearest .awsrole.toml'
        string match -q -- "*"\n"*" $PWD; and return 1
        set -l levels /.awsrole.toml
        set -l dir ''
        for part in (string split -n / -- $PWD)
            set dir $dir/$part
            set -p levels $dir/.awsrole.toml
        end
        set -l walk $PWD ''
        for candidate in $levels
            if test -e $candidate
                set -gu __awsrole_walk $PWD $candidate $walk[3..] -e $candidate
                return 0
            end
            set -a walk ! -e $candidate -a
        end
        set -gu __awsrole_walk $walk -n x
    end
else
    function __awsrole_steady --description 'awsrole: this fish has no path mtime; always ask'
        return 1
    end
    # The prompt after a cd does not ask again.
    set -gu __awsrole_nofast 1
end

# __awsrole_serving succeeds while the credential endpoint whose URI this
# shell holds still runs: the same process (its start time in
# /proc/PID/stat, so a recycled pid is not taken for it) and not a zombie
# (a killed server stays one where init does not reap). A redirection and
# builtins: no process. fish has no kill builtin: where there is no /proc
# the binary is asked. When it fails, the next call starts the server
# again and exports its new URI and token.
function __awsrole_serving --description 'awsrole: succeed while the credential endpoint runs'
    set -q __awsrole_server[1]; or return 0
    set -q __awsrole_server[2]; or return 1
    # (A redirection that fails prints a warning whatever 2> says.)
    test -r /proc/$__awsrole_server[1]/stat
    and read -l -a stat </proc/$__awsrole_server[1]/stat
    and test "x$stat[3]" != xZ -a "x$stat[22]" = "x$__awsrole_server[2]"
end

function __awsrole_export --description 'awsrole: apply the AWS role of the current directory'
    # Until a call succeeds, the next prompt asks again.
    set -gu __awsrole_mark ''
    # Ctrl-C ends the binary, and fish then ends this function too: the
    # next handler finds this mark still set and fails closed (a hung call
    # is bounded by Ctrl-C, not by a deadline: signing in, an MFA code or a
    # confirmation take the user's time).
    set -gu __awsrole_calling 1
    # Captured first so only a complete, successful answer is sourced: one
    # that ends with the binary's last line. The export prints one line per
    # variable, so splitting on lines loses nothing.
    set -lu __awsrole_code
    if set __awsrole_code (command __AWSROLE_BIN__ export fish --pid $fish_pid)
        and test "x$__awsrole_code[-1]" = 'x# awsrole export: end'
        set -e -g __awsrole_calling
        string join \n -- $__awsrole_code | source
    else
        set -e -g __awsrole_calling
        __awsrole_failed
    end
end

# __awsrole_failed fails closed: the call failed, was killed or answered
# nothing usable. Outside AWSROLE_DIR (a path boundary: /a/bc is not under
# /a/b) the shell leaves the role with the leave code the last successful
# call rendered; inside it keeps the project's credentials, as a failed
# renewal does.
function __awsrole_failed --description 'awsrole: leave the role outside its directory after a failed call'
    test -n "$__awsrole_leave"; or return 0
    if set -q AWSROLE_DIR[1]; and test -n "$AWSROLE_DIR"
        set -l dir (string replace -r -- '/$' '' $AWSROLE_DIR)/
        if test "x$PWD" = "x$AWSROLE_DIR"; or test "x"(string sub -l (string length -- $dir) -- $PWD) = "x$dir"
            return 0
        end
    end
    eval $__awsrole_leave
    set -gu __awsrole_file ''
    set -gu __awsrole_state ''
    set -gu __awsrole_leave ''
end

# __awsrole_interrupted succeeds, having failed closed, when the last call
# was ended by Ctrl-C (fish ended its handler before it could).
function __awsrole_interrupted --description 'awsrole: fail closed after a call ended by Ctrl-C'
    set -q __awsrole_calling; or return 1
    set -e -g __awsrole_calling
    __awsrole_failed
end

# __awsrole_prompt is the prompt's general case: after a cd the PWD handler
# has just asked, in vain, for this directory; otherwise ask if something
# can have changed. (fish gives an event handler the status of the command
# before it and restores it afterwards: the user's prompt still shows it.)
function __awsrole_prompt --description 'awsrole: refresh before a prompt'
    if __awsrole_interrupted
        # The user has just ended a call: not another one at once.
    else if test "x$__awsrole_after_cd" = "x$PWD"
        set -eg __awsrole_after_cd
    else if not __awsrole_steady
        __awsrole_export
    end
end

if not set -q __awsrole_nofast; and test -r /proc/uptime
    # The common case in one `test`, as few builtins as fish can run (some
    # microseconds each): the same state, the walk of this directory still
    # holding and naming the same file, the boot clock before the deadline,
    # nothing watched newer than the mark.
    function __awsrole_hook --on-event fish_prompt --description 'awsrole: refresh before each prompt'
        read -l -d . now rest </proc/uptime
        and test -n "$__awsrole_mark" -a "x$AWSROLE_STATE" = "x$__awsrole_state" -a "x$PWD" = "x$__awsrole_walk[1]" -a "x$__awsrole_walk[2]" = "x$__awsrole_file" -a $__awsrole_walk[3..] -a "$now" -lt "$__awsrole_boot" -a -e "$__awsrole_mark" -a $__awsrole_watch
        and begin
            not set -q __awsrole_server[1]; or __awsrole_serving
        end
        or __awsrole_prompt
    end
else
    function __awsrole_hook --on-event fish_prompt --description 'awsrole: refresh before each prompt'
        __awsrole_prompt
    end
end

function __awsrole_hook_pwd --on-variable PWD --description 'awsrole: apply after each change of directory'
    set -eg __awsrole_after_cd
    __awsrole_interrupted
    __awsrole_steady; or __awsrole_export
    # A call that left nothing to check (it failed, or this fish has no
    # fast path) is not repeated at the prompt right after.
    test -n "$__awsrole_mark" -a -z "$__awsrole_nofast"; or set -gu __awsrole_after_cd $PWD
end
