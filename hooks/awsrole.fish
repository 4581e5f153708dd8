# awsrole hook for fish. Load it from config.fish or conf.d with
#
#   awsrole hook fish | source
#
# Before every prompt and whenever PWD changes (so also for cd inside scripts
# and functions) it runs `awsrole export fish` and, if that succeeds, sources
# what it printed, which moves this shell's AWS variables to what the current
# directory asks for. Defining the functions again replaces them, handlers
# included, so sourcing this twice registers once.
#
# The hook's own variables are never exported (-u), whatever scope a
# variable of the same name had; a universal one is dropped.
set -qU __awsrole_after_cd; and set -eU __awsrole_after_cd

function __awsrole_export --description 'awsrole: apply the AWS role of the current directory'
    # Captured first so only a complete, successful answer is sourced; the
    # export prints one line per variable, so splitting on lines loses nothing.
    set -lu __awsrole_code (command __AWSROLE_BIN__ export fish --pid $fish_pid)
    and string join \n -- $__awsrole_code | source
end

function __awsrole_hook --on-event fish_prompt --description 'awsrole: refresh before each prompt'
    set -lu __awsrole_status $status
    # A cd at the prompt has just been handled by the PWD handler.
    if set -q __awsrole_after_cd
        set -eg __awsrole_after_cd
    else
        __awsrole_export
    end
    return $__awsrole_status
end

function __awsrole_hook_pwd --on-variable PWD --description 'awsrole: apply after each change of directory'
    set -lu __awsrole_status $status
    __awsrole_export
    set -gu __awsrole_after_cd 1
    return $__awsrole_status
end
