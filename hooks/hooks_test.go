package hooks_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/internal/testrig"

	"github.com/awsrole/awsrole/hooks"
	"github.com/awsrole/awsrole/shellgen"
)

// hostileDir is a relative directory whose name breaks naive quoting in
// every shell: a space, both quotes, $, backquotes, a backslash, non-ASCII.
const hostileDir = "aws role/it's/$x`y`\"z\\é"

// hostileBin is the binary path the hooks are rendered with where it need
// not exist.
const hostileBin = "/opt/" + hostileDir + "/awsrole"

func needShell(t *testing.T, name string) {
	t.Helper()
	testrig.Tool(t, name, ".ci/run installs it")
}

// row is what the hook tests know about one shell of the registry; adding
// a shell to the registry without a row here fails TestEveryShellHasARow.
type row struct {
	// check is the command that checks a script file without running it.
	check func(file string) []string
	// run is the command that runs a line of code in the shell, and call
	// how the hook runs the binary, %s standing for its quoted path.
	run  []string
	call string
	// fake: the tests driven by fakeBin (which answers in bash or fish
	// syntax) run this shell's hook; the others are covered in internal/e2e.
	fake bool
}

var rows = map[string]row{
	"bash": {check: func(f string) []string { return []string{"bash", "-n", f} }, fake: true,
		run: []string{"bash", "--norc", "--noprofile", "-c"}, call: `\command %s export`},
	"zsh": {check: func(f string) []string { return []string{"zsh", "-n", f} }, fake: true,
		run: []string{"zsh", "-f", "-c"}, call: `\command %s export`},
	"fish": {check: func(f string) []string { return []string{"fish", "--no-execute", f} }, fake: true,
		run: []string{"fish", "--no-config", "-c"}, call: `command %s export`},
	// Outside the editor there is no edit: namespace: a stand-in for it
	// lets the script compile and register (it runs nothing).
	"elvish": {check: func(f string) []string {
		return []string{"elvish", "-norc", "-c", "eval &ns=(ns [&edit:=(ns [&before-readline=[]])]) (slurp < $args[0])", f}
	}, run: []string{"elvish", "-norc", "-c"}, call: `(external %s) export`},
	"nu": {check: func(f string) []string {
		return []string{"nu", "--no-config-file", "-c", "if not (nu-check " + strconv.Quote(f) + ") { error make {msg: 'does not parse'} }"}
	}, run: []string{"nu", "--no-config-file", "-c"}, call: `^%s export`},
	"direnv": {check: func(f string) []string { return []string{"bash", "-n", f} },
		run: []string{"bash", "--norc", "--noprofile", "-c"}, call: `\command %s direnv`},
}

// fakeShells are the registry's prompt shells whose rows say fake.
func fakeShells() []string {
	var out []string
	for _, s := range shellgen.Names(shellgen.UsePrompt) {
		if rows[s].fake {
			out = append(out, s)
		}
	}
	return out
}

func TestEveryShellHasARow(t *testing.T) {
	for _, s := range shellgen.Names(shellgen.UseHook) {
		if _, ok := rows[s]; !ok {
			t.Errorf("shell %s has no row in hooks_test.go's table", s)
		}
	}
}

func TestScript(t *testing.T) {
	for _, shell := range shellgen.Names(shellgen.UsePrompt) {
		script, err := hooks.Script(shell)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(script, hooks.Placeholder) || !strings.Contains(script, " export ") || !strings.Contains(script, " --pid ") {
			t.Errorf("%s hook does not call the binary as `%s export … --pid …`", shell, hooks.Placeholder)
		}
	}
	if _, err := hooks.Script("tcsh"); err == nil || !strings.Contains(err.Error(), "tcsh") {
		t.Errorf("Script(tcsh) error = %v, want one naming it", err)
	}
}

func TestSyntax(t *testing.T) {
	for _, shell := range shellgen.Names(shellgen.UseHook) {
		t.Run(shell, func(t *testing.T) {
			argv0 := rows[shell].check("")[0]
			needShell(t, argv0)
			raw, _ := hooks.Script(shell)
			rendered, err := shellgen.Hook(shell, hostileBin)
			if err != nil {
				t.Fatal(err)
			}
			for name, script := range map[string]string{"raw": raw, "rendered": rendered} {
				file := filepath.Join(t.TempDir(), "hook."+shell)
				writeFile(t, file, script)
				argv := rows[shell].check(file)
				if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil || len(out) > 0 {
					t.Errorf("%s %s hook: %v\n%s", name, shell, err, out)
				}
			}
		})
	}
}

func TestShellcheck(t *testing.T) {
	needShell(t, "shellcheck")
	raw, _ := hooks.Script("bash")
	rendered, err := shellgen.Hook("bash", hostileBin)
	if err != nil {
		t.Fatal(err)
	}
	for name, script := range map[string]string{"raw": raw, "rendered": rendered} {
		file := filepath.Join(t.TempDir(), "awsrole.bash")
		writeFile(t, file, script)
		out, err := exec.Command("shellcheck", "--enable=all", "--shell=bash", file).CombinedOutput()
		if err != nil {
			t.Errorf("shellcheck on the %s bash hook: %v\n%s", name, err, out)
		}
	}
}

// TestHookBinaryPath renders each hook for a binary under hostileDir and
// checks that the rendering changes nothing but the placeholder, which
// becomes one word, the same everywhere; and that this word, run the way
// the hook runs the binary, in the real shell, starts exactly that binary.
func TestHookBinaryPath(t *testing.T) {
	for _, shell := range shellgen.Names(shellgen.UseHook) {
		t.Run(shell, func(t *testing.T) {
			row := rows[shell]
			needShell(t, row.run[0])
			dir := t.TempDir()
			bin := filepath.Join(dir, hostileDir, "awsrole")
			writeFile(t, bin, "#!/bin/sh\nprintf '%s' \"$0\"\n")
			if err := os.Chmod(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			raw, err := hooks.Script(shell)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(raw, fmt.Sprintf(row.call, hooks.Placeholder)) {
				t.Fatalf("the %s hook does not run the binary as %s: this test's row is out of date", shell, fmt.Sprintf(row.call, hooks.Placeholder))
			}
			rendered, err := shellgen.Hook(shell, bin)
			if err != nil {
				t.Fatal(err)
			}
			word := replacement(t, raw, rendered)
			cmd := exec.Command(row.run[0], append(row.run[1:], fmt.Sprintf(row.call, word))...)
			cmd.Dir = dir
			cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "x=EXPANDED", "y=EXPANDED"}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || string(out) != bin {
				t.Errorf("%s %s: ran %q (%v), want %q\nstderr: %s", shell, fmt.Sprintf(row.call, word), out, err, bin, &stderr)
			}
		})
	}
}

// replacement returns the word rendered holds in place of each placeholder
// of raw, and fails the test unless that is its only difference from raw.
func replacement(t *testing.T, raw, rendered string) string {
	t.Helper()
	parts := strings.Split(raw, hooks.Placeholder)
	n := len(parts) - 1
	if n == 0 {
		t.Fatalf("the hook has no %s", hooks.Placeholder)
	}
	grown := len(rendered) - (len(raw) - n*len(hooks.Placeholder))
	if grown > 0 && grown%n == 0 && strings.HasPrefix(rendered, parts[0]) {
		word := rendered[len(parts[0]) : len(parts[0])+grown/n]
		if strings.Join(parts, word) == rendered {
			return word
		}
	}
	t.Fatalf("the rendered hook is not the raw one with each %s replaced by one same word:\n%s", hooks.Placeholder, rendered)
	return ""
}

// fakeBin is a stand-in for awsrole: it logs each call as "ARGS|PWD" and
// answers with one export counting the calls and the answer's last line,
// or, with AWSROLE_TEST_FAIL set, prints them but exits 1.
const fakeBin = `#!/bin/sh
printf '%s|%s\n' "$*" "$PWD" >> "$AWSROLE_TEST_LOG"
calls=$(wc -l < "$AWSROLE_TEST_LOG")
calls=$((calls + 0))
if [ "$2" = fish ]; then
  printf 'set -gx AWSROLE_TEST_CALLS %s;\n' "$calls"
else
  printf 'export AWSROLE_TEST_CALLS=%s;\n' "$calls"
fi
printf '%s\n' '` + shellgen.End + `'
if [ -n "${AWSROLE_TEST_FAIL-}" ]; then exit 1; fi
`

// rig is a temporary home with the fake binary at a path holding a space
// and a quote, and the hook for each shell rendered to call it.
type rig struct {
	dir, bin, log string
	hook          map[string]string // shell -> rendered hook file
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{dir: t.TempDir(), hook: map[string]string{}}
	r.bin = filepath.Join(r.dir, "bin dir", "it's", "awsrole")
	r.log = filepath.Join(r.dir, "calls.log")
	if err := os.MkdirAll(filepath.Dir(r.bin), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, r.bin, fakeBin)
	if err := os.Chmod(r.bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, shell := range fakeShells() {
		code, err := shellgen.Hook(shell, r.bin)
		if err != nil {
			t.Fatal(err)
		}
		r.hook[shell] = filepath.Join(r.dir, "hook dir", "awsrole."+shell)
		writeFile(t, r.hook[shell], code)
	}
	return r
}

func (r *rig) env(extra ...string) []string {
	return append([]string{
		"HOME=" + r.dir, "PATH=" + os.Getenv("PATH"), "TERM=dumb", "LANG=C.UTF-8",
		"AWSROLE_TEST_LOG=" + r.log, "HISTFILE=" + filepath.Join(r.dir, "history"),
	}, extra...)
}

// run runs argv in the rig and returns stdout and stderr.
func (r *rig) run(t *testing.T, stdin string, argv ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = r.dir, r.env()
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%q: %v\nstdout:\n%s\nstderr:\n%s", argv, err, &stdout, &stderr)
	}
	return stdout.String(), stderr.String()
}

// calls returns the logged calls of the fake binary.
func (r *rig) calls(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(r.log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// setups are what a user may already have before the hook is sourced.
var setups = map[string][]struct{ name, code string }{
	"bash": {
		{"no PROMPT_COMMAND", ""},
		{"string PROMPT_COMMAND", `PROMPT_COMMAND='echo "user $?" >> user.log'`},
		{"array PROMPT_COMMAND", `PROMPT_COMMAND=('echo "user-a $?" >> user.log' 'echo "user-b $?" >> user.log')`},
		{"empty array PROMPT_COMMAND", `declare -a PROMPT_COMMAND=()`},
	},
	"zsh": {
		{"no precmd", ""},
		{"user precmd", `user_precmd() { echo "user $?" >> user.log; }; precmd_functions=(user_precmd)`},
	},
	"fish": {
		{"plain", ""},
	},
}

// sourceArgv runs code after the hook file ($1 / $argv[1]) in a clean,
// non-interactive shell, strict where the shell has a strict mode.
func sourceArgv(shell, code, hook string, args ...string) []string {
	switch shell {
	case "bash":
		return append([]string{"bash", "--norc", "--noprofile", "-eu", "-c", code, "bash", hook}, args...)
	case "zsh":
		return append([]string{"zsh", "-f", "-eu", "-c", code, "zsh", hook}, args...)
	default:
		return append([]string{"fish", "--no-config", "-c", code, hook}, args...)
	}
}

func TestSourceIsSilent(t *testing.T) {
	for _, shell := range fakeShells() {
		for _, setup := range setups[shell] {
			t.Run(shell+"/"+setup.name, func(t *testing.T) {
				needShell(t, shell)
				r := newRig(t)
				src := `source "$1"`
				if shell == "fish" {
					src = `source $argv[1]`
				}
				stdout, stderr := r.run(t, "", sourceArgv(shell, setup.code+"\n"+src, r.hook[shell])...)
				if stdout != "" || stderr != "" {
					t.Errorf("sourcing the hook printed\nstdout: %q\nstderr: %q", stdout, stderr)
				}
				if calls := r.calls(t); len(calls) > 0 {
					t.Errorf("sourcing the hook already called the binary: %q", calls)
				}
			})
		}
	}
}

func TestSourceTwiceRegistersOnce(t *testing.T) {
	tests := []struct {
		shell, name, setup, show string
		want                     string
	}{
		{"bash", "unset", "", `declare -p PROMPT_COMMAND`,
			`declare -- PROMPT_COMMAND="_awsrole_hook"`},
		{"bash", "string", `PROMPT_COMMAND='history -a; echo user'`, `declare -p PROMPT_COMMAND`,
			`declare -- PROMPT_COMMAND=$'_awsrole_hook\nhistory -a; echo user'`},
		{"bash", "array", `PROMPT_COMMAND=('echo a' 'echo b')`, `declare -p PROMPT_COMMAND`,
			`declare -a PROMPT_COMMAND=([0]="_awsrole_hook" [1]="echo a" [2]="echo b")`},
		{"bash", "already there, not first", `PROMPT_COMMAND='other_hook;_awsrole_hook; echo user'`, `declare -p PROMPT_COMMAND`,
			`declare -- PROMPT_COMMAND="other_hook;_awsrole_hook; echo user"`},
		{"bash", "already in array", `PROMPT_COMMAND=('echo a' '_awsrole_hook')`, `declare -p PROMPT_COMMAND`,
			`declare -a PROMPT_COMMAND=([0]="echo a" [1]="_awsrole_hook")`},
		{"zsh", "empty", "", `print -r -- "${(j:,:)precmd_functions}|${(j:,:)chpwd_functions}"`,
			"_awsrole_hook|_awsrole_hook"},
		{"zsh", "user hooks", `precmd_functions=(a b); chpwd_functions=(c)`, `print -r -- "${(j:,:)precmd_functions}|${(j:,:)chpwd_functions}"`,
			"_awsrole_hook,a,b|_awsrole_hook,c"},
		{"fish", "handlers", "", `functions -q __awsrole_hook __awsrole_hook_pwd; and functions --handlers | string match '*awsrole*'`,
			"PWD __awsrole_hook_pwd\nfish_prompt __awsrole_hook"},
	}
	for _, tt := range tests {
		t.Run(tt.shell+"/"+tt.name, func(t *testing.T) {
			needShell(t, tt.shell)
			r := newRig(t)
			src := `source "$1"; source "$1"`
			if tt.shell == "fish" {
				src = `source $argv[1]; source $argv[1]`
			}
			stdout, stderr := r.run(t, "", sourceArgv(tt.shell, tt.setup+"\n"+src+"\n"+tt.show, r.hook[tt.shell])...)
			if got := strings.TrimSpace(stdout); got != tt.want || stderr != "" {
				t.Errorf("after sourcing twice:\n%s\nwant\n%s\nstderr: %s", got, tt.want, stderr)
			}
		})
	}
}

var (
	pidRE    = regexp.MustCompile(`(?m)^pid=(\d+) calls=(\d+)$`)
	statusRE = regexp.MustCompile(`(?m)^status=(\d+)$`)
	directRE = regexp.MustCompile(`(?m)^direct=(\d+)$`)
)

// checkCalls checks that the fake binary was called at least min times, each
// time as `export SHELL --pid PID` with the shell's own pid.
func checkCalls(t *testing.T, r *rig, shell, pid string, min int) {
	t.Helper()
	calls := r.calls(t)
	if len(calls) < min {
		t.Fatalf("binary called %d times, want at least %d: %q", len(calls), min, calls)
	}
	for _, c := range calls {
		args, _, _ := strings.Cut(c, "|")
		if args != "export "+shell+" --pid "+pid {
			t.Errorf("binary called as %q, want %q", args, "export "+shell+" --pid "+pid)
		}
	}
}

// TestInteractivePrompt types commands into an interactive shell (stdin is a
// pipe, but bash -i and zsh -i still run PROMPT_COMMAND / precmd before each
// prompt).
func TestInteractivePrompt(t *testing.T) {
	argv := map[string][]string{
		"bash": {"bash", "--norc", "--noprofile", "-i"},
		"zsh":  {"zsh", "-f", "-i"},
	}
	userCalls := map[string]int{"string PROMPT_COMMAND": 1, "array PROMPT_COMMAND": 2, "user precmd": 1}
	for _, shell := range fakeShells() {
		if argv[shell] == nil {
			continue
		}
		for _, setup := range setups[shell] {
			t.Run(shell+"/"+setup.name, func(t *testing.T) {
				needShell(t, shell)
				r := newRig(t)
				script := strings.Join([]string{
					setup.code,
					"trap 'echo user-trap' INT",
					"source " + mustQuote(t, shell, r.hook[shell]),
					"false",
					`echo "status=$?"`,
					`false; _awsrole_hook; echo "direct=$?"`,
					`echo "pid=$$ calls=${AWSROLE_TEST_CALLS-}"`,
					"trap",
					"exit",
				}, "\n") + "\n"
				stdout, stderr := r.run(t, script, argv[shell]...)
				m := pidRE.FindStringSubmatch(stdout)
				if m == nil {
					t.Fatalf("no pid line in stdout:\n%s\nstderr:\n%s", stdout, stderr)
				}
				if n, _ := strconv.Atoi(m[2]); n < 3 {
					t.Errorf("AWSROLE_TEST_CALLS=%s at the third prompt, want at least 3 calls", m[2])
				}
				checkCalls(t, r, shell, m[1], 3)
				if m := statusRE.FindStringSubmatch(stdout); m == nil || m[1] != "1" {
					t.Errorf("$? after `false` and a prompt: %v, want 1\n%s", m, stdout)
				}
				if m := directRE.FindStringSubmatch(stdout); m == nil || m[1] != "1" {
					t.Errorf("_awsrole_hook did not return the previous status: %v, want 1", m)
				}
				if !strings.Contains(stdout, "echo user-trap") {
					t.Errorf("the user's INT trap is gone after the hook ran:\n%s", stdout)
				}
				if want := userCalls[setup.name]; want > 0 {
					data, _ := os.ReadFile(filepath.Join(r.dir, "user.log"))
					if got := strings.Count(string(data), "user"); got < 3*want {
						t.Errorf("user prompt command ran %d times, want at least %d:\n%s", got, 3*want, data)
					}
					// The user's prompt code, which runs after the hook, still
					// sees the status of `false`.
					if got := strings.Count(string(data), " 1\n"); got != want {
						t.Errorf("user prompt command saw status 1 %d times, want %d:\n%s", got, want, data)
					}
				}
			})
		}
	}
}

func TestFailedCallChangesNothing(t *testing.T) {
	for _, shell := range fakeShells() {
		t.Run(shell, func(t *testing.T) {
			needShell(t, shell)
			r := newRig(t)
			code := `source "$1"; _awsrole_hook; echo "calls=${AWSROLE_TEST_CALLS-unset}"`
			if shell == "fish" {
				code = `source $argv[1]; __awsrole_export; set -q AWSROLE_TEST_CALLS; or echo calls=unset`
			}
			argv := sourceArgv(shell, code, r.hook[shell])
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Dir, cmd.Env = r.dir, r.env("AWSROLE_TEST_FAIL=1")
			out, err := cmd.CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != "calls=unset" {
				t.Errorf("output of a failing binary was evaluated: %v\n%s", err, out)
			}
			if len(r.calls(t)) != 1 {
				t.Errorf("binary calls: %q, want one", r.calls(t))
			}
		})
	}
}

// TestChangeDirectory checks the zsh chpwd and fish PWD handlers, which also
// fire for cd inside scripts and functions.
func TestChangeDirectory(t *testing.T) {
	code := map[string]string{
		"zsh":  `source "$1"; go() { cd "$1"; }; go "$2"; echo "pid=$$ calls=${AWSROLE_TEST_CALLS-}"`,
		"fish": `source $argv[1]; function go; cd $argv[1]; end; go $argv[2]; echo "pid=$fish_pid calls=$AWSROLE_TEST_CALLS"`,
	}
	for _, shell := range shellgen.Names(shellgen.UsePrompt) {
		if code[shell] == "" {
			continue
		}
		t.Run(shell, func(t *testing.T) {
			needShell(t, shell)
			r := newRig(t)
			target := filepath.Join(r.dir, "project dir")
			if err := os.Mkdir(target, 0o755); err != nil {
				t.Fatal(err)
			}
			stdout, stderr := r.run(t, "", sourceArgv(shell, code[shell], r.hook[shell], target)...)
			m := pidRE.FindStringSubmatch(stdout)
			if m == nil || m[2] != "1" || stderr != "" {
				t.Fatalf("after cd: stdout %q stderr %q, want calls=1", stdout, stderr)
			}
			checkCalls(t, r, shell, m[1], 1)
			if _, cwd, _ := strings.Cut(r.calls(t)[0], "|"); cwd != target {
				t.Errorf("binary ran in %q, want the new directory %q", cwd, target)
			}
		})
	}
}

func mustQuote(t *testing.T, shell, s string) string {
	t.Helper()
	q, err := shellgen.Quote(shell, s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRegisterOnceNuElvish loads the nushell and elvish hooks twice and
// counts their hooks (their prompts run only in the e2e tests).
func TestRegisterOnceNuElvish(t *testing.T) {
	argv := map[string]func(file string) []string{
		"nu": func(f string) []string {
			q := strconv.Quote(f)
			return []string{"nu", "--no-config-file", "-c", "source " + q + "; source " + q +
				"; print $'($env.config.hooks.pre_prompt | length) ($env.config.hooks.env_change.PWD | length)'"}
		},
		"elvish": func(f string) []string {
			return []string{"elvish", "-norc", "-c", `var n = (ns [&edit:=(ns [&before-readline=[]])]); var code = (slurp < $args[0])
eval &ns=$n &on-end={|n2| set n = $n2 } $code; eval &ns=$n &on-end={|n2| set n = $n2 } $code
echo (count $n[edit:][before-readline]) (count $after-chdir)`, f}
		},
	}
	for shell, cmd := range argv {
		t.Run(shell, func(t *testing.T) {
			needShell(t, shell)
			code, err := shellgen.Hook(shell, hostileBin)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "hook."+shell)
			writeFile(t, file, code)
			a := cmd(file)
			out, err := exec.Command(a[0], a[1:]...).CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != "1 1" {
				t.Errorf("loaded twice: %v, hooks registered %q, want one each (1 1)", err, out)
			}
		})
	}
}
