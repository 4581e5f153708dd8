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
# fast-path contract v1 (hooks/CONTRACT.md)

# __awsrole_apply runs the binary once; only a complete, successful answer
# is used: a record with the changes under env and end set, the last field.
# Ctrl-C ends a hung call (no deadline: signing in, an MFA code or a
# confirmation take the user's time) and fails closed like any failure.
def --env __awsrole_apply [] {
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
        $env.__awsrole = ($env.__awsrole? | default {} | upsert leave $answer.leave)
    }
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
    for r in $leave {
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

# __awsrole_hook is the pre_prompt hook; the env_change.PWD hook runs it
# with --pwd, and a prompt right after that is skipped: one call per cd.
# Its state is a record, which nushell never exports to child processes:
# the leave list holds the user's own secret key.
def --env __awsrole_hook [--pwd] {
    let last = $env.__awsrole? | default {pwd: null, pending: false}
    if $pwd {
        __awsrole_apply
    } else if $last.pwd == $env.PWD and ($last.pending? | default false) {
        # The PWD hook has just handled this directory.
    } else {
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
