package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/internal/testrig"
	"github.com/awsrole/awsrole/shellgen"
)

var (
	// binDir holds the awsrole binary built for this run (and, when the aws
	// on PATH is a pyenv shim, a link to the real aws script: each shim call
	// costs a few hundred milliseconds).
	binDir string
	// awsroleBin is the built binary.
	awsroleBin string
	// shells maps bash, zsh and fish to their paths.
	shells = map[string]string{}
)

// shellKinds are the shells every scenario runs under: the registry's
// interactive shells, each with a row in shellTable.
var shellKinds = shellgen.Names(shellgen.UsePrompt)

// shellRow is what the driver needs to know about one shell. Adding a
// shell to the registry without a row here fails TestEveryShellHasARow.
type shellRow struct {
	// rc and prompt: the file under HOME that sets the prompt the driver
	// waits for (promptMark, the shell level, "> "), written before the
	// hook is installed.
	rc, prompt string
	// native lists the prefixes of lines the shell runs as typed; any other
	// line (the scenarios write POSIX sh) runs under `sh -c`, inside a try
	// so that a failing command does not cut the line short. nil: every
	// line runs as typed (bash, zsh, and fish, which reads the scenarios'
	// lines the same way).
	native []string
	// status is the code that saves the previous line's exit status in st
	// and the code that prints it; "" for a shell without one.
	saveStatus, showStatus string
	// sentinel is the format of the line that prints @@TAG@@ (%s: TAG)
	// without the echoed input showing @@TAG@@.
	sentinel string
	// loadFile is the rc line that loads a hook file (%s: the quoted
	// path); "" when `awsrole install` writes the hook itself.
	loadFile string
	// sigint is the status of a command killed by SIGINT.
	sigint string
	// interrupted is what the shell prints when a command of the line was
	// killed by SIGINT, if it says so ("" when it does not): a loaded
	// machine can lose the line's begin sentinel then (seen with nu).
	interrupted string
	// cdTrims: cd cannot reach a directory whose name ends in white space.
	cdTrims bool
	// quote makes a string one word of the shell in printable ASCII;
	// export and unset are the formats of the commands that set (%s: name,
	// quoted value) and unset (%s: name) an environment variable.
	quote         func(string) string
	export, unset string
	// optional: without it on PATH its subtests skip rather than fail
	// (.ci/run installs it).
	optional bool
	// fastPath: a steady prompt starts no process.
	fastPath bool
	// direnv: direnv has a hook for this shell (`direnv hook NAME`).
	direnv string
}

var shellTable = map[string]shellRow{
	"bash": {quote: quotePosix, export: "export %s=%s", unset: "unset %s", sigint: "130", loadFile: "source %s", rc: ".bashrc", prompt: "PS1='" + promptMark + "${SHLVL}> '\nPS2=''\nHISTFILE=/dev/null\n",
		saveStatus: `st=$?; `, showStatus: `printf '%s\n' "$st"`, sentinel: "printf '@@%%s@@\\n' %s", fastPath: true,
		direnv: "eval \"$(direnv hook bash)\"\n"},
	"zsh": {quote: quotePosix, export: "export %s=%s", unset: "unset %s", sigint: "130", loadFile: "source %s", rc: ".zshrc", prompt: "PS1='" + promptMark + "%L> '\nPS2=''\nRPS1=''\nunsetopt PROMPT_SP PROMPT_CR BEEP\nHISTFILE=/dev/null\n",
		saveStatus: `st=$?; `, showStatus: `printf '%s\n' "$st"`, sentinel: "printf '@@%%s@@\\n' %s", fastPath: true,
		direnv: "eval \"$(direnv hook zsh)\"\n"},
	"fish": {quote: quoteFish, export: "set -gx %s %s", unset: "set -e %s", sigint: "130", loadFile: "source %s", rc: ".config/fish/config.fish", prompt: "set -g fish_greeting ''\nset -g fish_autosuggestion_enabled 0\nfunction fish_prompt; printf '%s%s> ' '" + promptMark + "' $SHLVL; end\nfunction fish_right_prompt; end\nfunction fish_title; end\n",
		saveStatus: `set st $status; `, showStatus: `printf '%s\n' $st`, sentinel: "printf '@@%%s@@\\n' %s", fastPath: true,
		direnv: "direnv hook fish | source\n"},
	"nu": {quote: quoteNu, export: "$env.%s = %s", unset: "hide-env %s", optional: true, sigint: "-2", interrupted: "terminated by SIGINT", rc: ".config/nushell/config.nu", prompt: "$env.config.show_banner = false\n$env.PROMPT_COMMAND = {|| $'" + promptMark + "($env.SHLVL)> ' }\n$env.PROMPT_COMMAND_RIGHT = ''\n$env.PROMPT_INDICATOR = ''\n$env.PROMPT_MULTILINE_INDICATOR = ''\n",
		native: []string{"cd ", "$env.", "hide-env ", "awsrole exec "}, cdTrims: true, saveStatus: `let st = $env.LAST_EXIT_CODE; `, showStatus: `print $st`, sentinel: "print ('@@' + '%s' + '@@')"},
	"elvish": {quote: quoteElvish, export: "set-env %s %s", unset: "unset-env %s", optional: true, sigint: "130", loadFile: "eval (slurp < %s)", rc: ".config/elvish/rc.elv", prompt: "set edit:prompt = { put '" + promptMark + "'$E:SHLVL'> ' }\nset edit:rprompt = { }\n",
		native: []string{"cd ", "set-env ", "unset-env ", "awsrole exec "}, sentinel: "echo '@@'%s'@@'"},
}

func TestEveryShellHasARow(t *testing.T) {
	for _, kind := range shellKinds {
		if _, ok := shellTable[kind]; !ok {
			t.Errorf("shell %s has no row in the end-to-end shell table", kind)
		}
	}
}

// fastPathShells are the shells whose hook starts no process at a steady prompt.
func fastPathShells() []string {
	var out []string
	for _, kind := range shellKinds {
		if shellTable[kind].fastPath {
			out = append(out, kind)
		}
	}
	return out
}

func TestMain(m *testing.M) {
	flag.Parse()
	// The subtests spend most of their time waiting (on prompts, STS round
	// trips, the renewal window): four per CPU overlap those waits without
	// starving the shells and clients they start.
	testrig.WaitingParallel(4)
	if testing.Short() {
		// Nothing here is logic of its own: the whole suite drives real
		// processes, so it costs nothing under -short, not even a build.
		fmt.Println("e2e: skipped:", testrig.Short)
		os.Exit(0)
	}
	code, err := setup(m)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e setup: %v\n", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	tmp, err := os.MkdirTemp("", "awsrole-e2e-bin-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	binDir = filepath.Join(tmp, "bin")

	if awsroleBin, err = testrig.Build(binDir); err != nil {
		return 0, err
	}

	for _, sh := range shellKinds {
		p, err := exec.LookPath(sh)
		switch {
		case err != nil && shellTable[sh].optional:
			// Its subtests skip, saying so (startShell).
			fmt.Fprintf(os.Stderr, "e2e: %s is not on PATH: its subtests are skipped (.ci/run installs it)\n", sh)
			continue
		case err != nil:
			return 0, fmt.Errorf("%s is not on PATH; the end-to-end tests need bash, zsh and fish (.ci/run installs every shell)", sh)
		}
		shells[sh] = p
	}
	aws, err := exec.LookPath("aws")
	if err != nil {
		return 0, fmt.Errorf("the aws CLI is not on PATH (%v); the end-to-end tests use it as an independent client", err)
	}
	if out, err := exec.Command(aws, "--version").CombinedOutput(); err != nil {
		return 0, fmt.Errorf("aws --version: %v\n%s", err, out)
	}
	if strings.Contains(aws, "/shims/") {
		// pyenv: link the real script so calls skip the shim.
		if out, err := exec.Command("pyenv", "which", "aws").Output(); err == nil {
			if real := strings.TrimSpace(string(out)); real != "" {
				if err := os.Symlink(real, filepath.Join(binDir, "aws")); err != nil {
					return 0, err
				}
			}
		}
	}
	return m.Run(), nil
}
