# awsrole hook for nushell. `awsrole install nu` writes it to
# $XDG_CONFIG_HOME/nushell/autoload/awsrole.nu; by hand:
#
#   awsrole hook nu | save -f ($nu.user-autoload-dirs | first | path join awsrole.nu)
#
# (or save it anywhere and `source` it from config.nu). Before every prompt
# and when PWD changes it runs `awsrole export nu`, and, if that succeeds,
# loads the values with load-env and hides the variables the answer sets to
# null, which moves this shell's AWS variables to what the current directory
# asks for. If it fails outside AWSROLE_DIR, the shell leaves the role all
# the same with the restores the last successful answer gave. Sourcing it
# twice registers once.
#
# fast-path contract v2 (hooks/CONTRACT.md)
#
# When nothing can have changed since the last call it starts no process
# (__awsrole_steady): a prompt in the same project, a cd between
# directories without a .awsrole.toml and leaving a project cost a few
# builtin commands.
#
# Its state is one record, $env.__awsrole, which nushell never exports to
# child processes (the leave list holds the user's own secret key): the
# last call's leave list and facts (steady: null until a call succeeds),
# the last walk up from PWD, and the directory the PWD hook last handled.

# __awsrole_apply runs the binary once; only a complete, successful answer
# is used: a record with the changes under env and end set, the last field.
# Ctrl-C ends a hung call (no deadline: signing in, an MFA code or a
# confirmation take the user's time) and fails closed like any failure.
def --env __awsrole_apply [] {
    # Until a call succeeds, the next prompt asks again.
    $env.__awsrole = ($env.__awsrole? | default {} | upsert steady null)
    let output = try { ^__AWSROLE_BIN__ export nu --pid $nu.pid } catch { null }
    let answer = if $output == null { null } else { try { $output | from json } catch { null } }
    let usable = ($answer | describe | str starts-with "record") and ($answer.end? == true) and ($answer.env? | describe | str starts-with "record")
    if not $usable {
        __awsrole_failed
        return
    }
    let changes = $answer.env
    for name in ($changes | columns) {
        let value = $changes | get $name
        if $value == null {
            hide-env -i $name
        } else {
            load-env {$name: $value}
        }
    }
    if "leave" in $answer {
        $env.__awsrole = ($env.__awsrole | upsert leave $answer.leave | upsert steady ($answer.steady? | default null))
    }
}

# __awsrole_leave puts back the user's own value of each variable that
# still holds awsrole's, as the leave list says, and forgets the list.
def --env __awsrole_leave [] {
    for r in ($env.__awsrole?.leave? | default []) {
        let name = $r.name
        if ($env | get -o $name) == $r.set {
            if $r.original == null {
                hide-env -i $name
            } else {
                load-env {$name: $r.original}
            }
        }
    }
    hide-env -i AWSROLE_STATE
    $env.__awsrole = ($env.__awsrole | upsert leave [])
}

# __awsrole_failed fails closed: the call failed, was killed or answered
# nothing usable. Outside AWSROLE_DIR (a path boundary: /a/bc is not under
# /a/b) each variable goes back to the user's own value if it still holds
# awsrole's; inside, the project's credentials stay, as after a failed
# renewal.
def --env __awsrole_failed [] {
    let leave = $env.__awsrole?.leave? | default []
    if ($leave | is-empty) { return }
    let dir = $env.AWSROLE_DIR? | default ""
    if $dir != "" and ($env.PWD == $dir or ($env.PWD | str starts-with (($dir | str trim --right --char "/") + "/"))) {
        return
    }
    __awsrole_leave
}

# __awsrole_walk is the nearest .awsrole.toml up from PWD ("" for none), as
# `awsrole export` finds it: one stat a level (`path exists`, which follows
# symlinks as `test -e` does). The walk is kept for one directory and done
# again only once one `path exists` over the same levels says its result no
# longer holds. null leaves it to the binary: a relative PWD, or one with a
# component of three dots or more, which nushell's path commands read as
# that many levels up.
def --env __awsrole_walk []: nothing -> any {
    let pwd = $env.PWD
    let w = $env.__awsrole?.walk?
    if $w != null and $w.pwd == $pwd and (($w.levels | path exists) == $w.expect) {
        return $w.file
    }
    if not ($pwd starts-with "/") or ($pwd =~ '(^|/)\.\.\.+(/|$)') {
        return null
    }
    # (A loop: a closure per level costs more than the stats.)
    mut dir = $pwd | str trim --right --char "/"
    mut levels = []
    mut expect = []
    mut file = ""
    loop {
        let p = $dir + "/.awsrole.toml"
        $levels = ($levels | append $p)
        if ($p | path exists) {
            $file = $p
            $expect = ($expect | append true)
            break
        }
        $expect = ($expect | append false)
        if $dir == "" {
            break
        }
        $dir = ($dir | path dirname)
        if $dir == "/" {
            $dir = ""
        }
    }
    let walk = {pwd: $pwd, levels: $levels, expect: $expect, file: $file}
    $env.__awsrole = ($env.__awsrole | upsert walk $walk)
    $walk.file
}

# __awsrole_steady succeeds when another call would change nothing
# (hooks/CONTRACT.md): the same AWSROLE_STATE, before the deadline, the walk
# finding the same file, every watched path as the call left it, and the
# credential endpoint (when the shell holds its URI) still the same
# process. Out of every project while a role is active, it leaves the
# role itself. Builtin commands only: no process.
def --env __awsrole_steady []: nothing -> bool {
    let s = $env.__awsrole?.steady?
    if $s == null or ($env.AWSROLE_STATE? | default "") != $s.state {
        return false
    }
    if ((date now | into int) // 1_000_000_000) >= $s.deadline {
        return false
    }
    let file = __awsrole_walk
    if $file == null {
        return false
    }
    if $file != $s.file {
        if $file != "" or ($env.__awsrole.leave? | default [] | is-empty) {
            return false
        }
        __awsrole_leave
        $env.__awsrole = ($env.__awsrole | upsert steady ($s | upsert file "" | upsert state "" | upsert deadline 4611686018427387904))
        return true
    }
    # Each watched file as the call read it (the SHA-256 of its bytes; a
    # type check first: never an open of a FIFO), each missing one still
    # missing, the mark there, and no watched directory newer than it
    # (`ls -D`, which starts a thread: only for the trust store's
    # directories, watched when the binary judged no file).
    for w in $s.prints {
        if $w.1 == "file" {
            if ($w.0 | path type) != "file" or (try { open --raw $w.0 | hash sha256 } catch { "" }) != $w.2 {
                return false
            }
        } else if $w.1 == "other" {
            if ($w.0 | path type) in [null "file" "dir"] {
                return false
            }
        } else if ($w.0 | path exists) {
            return false
        }
    }
    if not ($s.mark | path exists) {
        return false
    }
    if ($s.stat | is-not-empty) {
        let times = try { ls -D ...$s.stat | get modified } catch { null }
        if $times == null {
            return false
        }
        # (A loop: a closure costs more than the check.)
        for t in $times {
            if ($t | into int) > $s.mark_ns {
                return false
            }
        }
    }
    if ($s.server | is-empty) {
        return true
    }
    # The same process: its start time (field 22) in /proc/PID/stat, and
    # not a zombie (a killed server stays one where init does not reap).
    let stat = try { open --raw $"/proc/($s.server.0)/stat" } catch { "" }
    let start = ($stat | str index-of --end ")") + 2
    let fields = $stat | str substring $start.. | split row " "
    ($fields.0? != "Z") and ($fields.19? == $s.server.1)
}

# __awsrole_hook is the pre_prompt hook; the env_change.PWD hook runs it
# with --pwd, and a prompt right after that is skipped: at most one call
# per cd.
def --env __awsrole_hook [--pwd] {
    let last = $env.__awsrole? | default {}
    if not $pwd and $last.pwd? == $env.PWD and ($last.pending? | default false) {
        # The PWD hook has just handled this directory.
    } else if not (try { __awsrole_steady } catch { false }) {
        # (A check that fails asks the binary.)
        __awsrole_apply
    }
    $env.__awsrole = ($env.__awsrole? | default {} | upsert pwd $env.PWD | upsert pending $pwd)
}

$env.config = ($env.config | upsert hooks {|config|
    let hooks = $config.hooks? | default {}
    let ours = {|h| ($h | describe) == "closure" and (view source $h | str contains "__awsrole_hook") }
    let pre = $hooks.pre_prompt? | default [] | where {|h| not (do $ours $h) }
    let env_change = $hooks.env_change? | default {}
    let on_pwd = $env_change.PWD? | default [] | where {|h| not (do $ours $h) }
    $hooks
    | upsert pre_prompt ($pre | prepend {|| __awsrole_hook })
    | upsert env_change ($env_change | upsert PWD ($on_pwd | prepend {|before, after| __awsrole_hook --pwd }))
})
