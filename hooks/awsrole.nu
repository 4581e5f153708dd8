# awsrole hook for nushell. `awsrole install nu` writes it to
# $XDG_CONFIG_HOME/nushell/autoload/awsrole.nu; by hand:
#
#   awsrole hook nu | save -f ($nu.user-autoload-dirs | first | path join awsrole.nu)
#
# (or save it anywhere and `source` it from config.nu). Before every prompt
# and when PWD changes it runs `awsrole export json`, and, if that succeeds,
# loads the values with load-env and hides the variables the answer sets to
# null, which moves this shell's AWS variables to what the current directory
# asks for. Sourcing it twice registers once.

# __awsrole_apply runs the binary once; only a successful answer is used.
def --env __awsrole_apply [] {
    let answer = try { ^__AWSROLE_BIN__ export json --pid $nu.pid } catch { null }
    if $answer == null { return }
    let changes = try { $answer | from json } catch { null }
    if $changes == null { return }
    for name in ($changes | columns) {
        let value = $changes | get $name
        if $value == null {
            hide-env -i $name
        } else {
            load-env {$name: $value}
        }
    }
}

# __awsrole_hook is the pre_prompt hook; the env_change.PWD hook runs it
# with --pwd, and a prompt right after that is skipped: one call per cd.
# Its state is a record, which nushell never exports to child processes.
def --env __awsrole_hook [--pwd] {
    let last = $env.__awsrole? | default {pwd: null, pending: false}
    if $pwd {
        __awsrole_apply
    } else if $last.pwd == $env.PWD and ($last.pending? | default false) {
        # The PWD hook has just handled this directory.
    } else {
        __awsrole_apply
    }
    $env.__awsrole = {pwd: $env.PWD, pending: $pwd}
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
