package hooks_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/hooks"
	"github.com/awsrole/awsrole/shellgen"
)

// TestFastPathContractVersion: hooks/CONTRACT.md, shellgen.FastPathVersion
// and every prompt hook name the same version of the fast-path contract.
func TestFastPathContractVersion(t *testing.T) {
	doc, err := os.ReadFile("CONTRACT.md")
	if err != nil {
		t.Fatal(err)
	}
	want := "v" + strconv.Itoa(shellgen.FastPathVersion)
	if m := regexp.MustCompile(`(?m)^# The fast-path contract, (v\d+)$`).FindSubmatch(doc); m == nil || string(m[1]) != want {
		t.Errorf("CONTRACT.md's heading names %q, shellgen.FastPathVersion is %s", m, want)
	}
	line := regexp.MustCompile(`(?m)^# fast-path contract (v\d+) \(hooks/CONTRACT\.md\)$`)
	for _, shell := range shellgen.Names(shellgen.UsePrompt) {
		script, err := hooks.Script(shell)
		if err != nil {
			t.Fatal(err)
		}
		if m := line.FindStringSubmatch(script); m == nil || m[1] != want {
			t.Errorf("the %s hook names contract %q, want a line # fast-path contract %s (hooks/CONTRACT.md)", shell, m, want)
		}
	}
}

// walkCase is a directory layout as dirconfig.Find's tests build them, a
// change made to it while the shell is steady, and why (if at all) the
// hook's walk and Find may see it differently (hooks/CONTRACT.md, "The
// walk").
type walkCase struct {
	name string
	// setup builds the layout under root and returns the shell's PWD.
	setup func(t *testing.T, root string) string
	// change (nil: none) changes the layout after the call.
	change func(t *testing.T, root string)
	// edits: change writes the file the call found (the watch says so).
	edits bool
	// differs says why the walk and Find disagree before or after the
	// change ("": they agree).
	differs string
}

func mkdir(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

const projectFile = `role_arn = "arn:aws:iam::123456789012:role/deploy"` + "\n"

func project(t *testing.T, dir string) string {
	t.Helper()
	writeFile(t, filepath.Join(mkdir(t, dir), dirconfig.FileName), projectFile)
	return dir
}

var walkCases = []walkCase{
	{name: "nearest wins", setup: func(t *testing.T, root string) string {
		project(t, root)
		project(t, filepath.Join(root, "a"))
		return mkdir(t, filepath.Join(root, "a", "b", "c"))
	}},
	{name: "outer file", setup: func(t *testing.T, root string) string {
		project(t, root)
		return mkdir(t, filepath.Join(root, "x", "y"))
	}},
	{name: "nothing up to /", setup: func(t *testing.T, root string) string {
		return mkdir(t, filepath.Join(root, "a", "b"))
	}},
	{name: "file appears nearer", setup: func(t *testing.T, root string) string {
		project(t, root)
		return mkdir(t, filepath.Join(root, "a", "b"))
	}, change: func(t *testing.T, root string) { project(t, filepath.Join(root, "a")) }},
	{name: "first file appears", setup: func(t *testing.T, root string) string {
		return mkdir(t, filepath.Join(root, "a", "b"))
	}, change: func(t *testing.T, root string) { project(t, filepath.Join(root, "a", "b")) }},
	{name: "file goes away", setup: func(t *testing.T, root string) string {
		project(t, root)
		project(t, filepath.Join(root, "a"))
		return mkdir(t, filepath.Join(root, "a", "b"))
	}, change: func(t *testing.T, root string) {
		if err := os.Remove(filepath.Join(root, "a", dirconfig.FileName)); err != nil {
			t.Fatal(err)
		}
	}},
	{name: "file edited", setup: func(t *testing.T, root string) string {
		return project(t, filepath.Join(root, "p"))
	}, change: func(t *testing.T, root string) {
		writeFile(t, filepath.Join(root, "p", dirconfig.FileName), projectFile+"region = \"eu-west-1\"\n")
	}, edits: true},
	{name: "change elsewhere", setup: func(t *testing.T, root string) string {
		project(t, root)
		return mkdir(t, filepath.Join(root, "a"))
	}, change: func(t *testing.T, root string) { project(t, filepath.Join(root, "sibling")) }},
	{name: "file is a symlink", setup: func(t *testing.T, root string) string {
		project(t, filepath.Join(root, "real"))
		dir := mkdir(t, filepath.Join(root, "a"))
		symlink(t, filepath.Join(root, "real", dirconfig.FileName), filepath.Join(dir, dirconfig.FileName))
		return mkdir(t, filepath.Join(dir, "b"))
	}},
	{name: "PWD through a symlinked directory", setup: func(t *testing.T, root string) string {
		project(t, root)
		project(t, filepath.Join(root, "real"))
		mkdir(t, filepath.Join(root, "real", "sub"))
		symlink(t, filepath.Join(root, "real"), filepath.Join(root, "link"))
		return filepath.Join(root, "link", "sub")
	}},
	{name: "a directory at the name", setup: func(t *testing.T, root string) string {
		project(t, root)
		mkdir(t, filepath.Join(root, "a", dirconfig.FileName))
		return filepath.Join(root, "a")
	}},
	{name: "a FIFO at the name", setup: func(t *testing.T, root string) string {
		project(t, root)
		dir := mkdir(t, filepath.Join(root, "a"))
		if err := syscall.Mkfifo(filepath.Join(dir, dirconfig.FileName), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}},
	{name: "dangling symlink", setup: func(t *testing.T, root string) string {
		project(t, root)
		dir := mkdir(t, filepath.Join(root, "a"))
		symlink(t, "nowhere", filepath.Join(dir, dirconfig.FileName))
		return dir
	}, differs: "a dangling symlink counts for Find, not for test -e"},
	{name: "dangling symlink appears nearer", setup: func(t *testing.T, root string) string {
		project(t, root)
		return mkdir(t, filepath.Join(root, "a"))
	}, change: func(t *testing.T, root string) {
		symlink(t, "nowhere", filepath.Join(root, "a", dirconfig.FileName))
	}, differs: "a dangling symlink counts for Find, not for test -e"},
	{name: "symlink loop", setup: func(t *testing.T, root string) string {
		dir := mkdir(t, filepath.Join(root, "a"))
		symlink(t, dirconfig.FileName, filepath.Join(dir, dirconfig.FileName))
		return dir
	}, differs: "a symlink loop counts for Find, not for test -e"},
	{name: "unsearchable directory", setup: func(t *testing.T, root string) string {
		if os.Geteuid() == 0 {
			t.Skip("running as root: permissions do not stop a stat")
		}
		project(t, root)
		dir := project(t, filepath.Join(root, "a"))
		sub := mkdir(t, filepath.Join(dir, "b"))
		// Searchable to get in, then not: the shell starts in sub.
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return sub
	}, change: func(t *testing.T, root string) {
		if err := os.Chmod(filepath.Join(root, "a"), 0o600); err != nil {
			t.Fatal(err)
		}
	}, differs: "a level that cannot be searched is an error for Find, nothing for test -e"},
}

// hostileNames are directory names from Find's tests (TestFindHostileNames).
var hostileNames = []string{
	"space dir", `quote'd "dir"`, "$test", "$(touch pwned)", "`x`", "utf-8 ✓ ü 日本",
	"new\nline", "tab\there", "back\\slash", "-dash", "*glob?[x]", "semi;colon&amp", "\x1b[31mred",
}

func init() {
	for _, name := range hostileNames {
		walkCases = append(walkCases, walkCase{name: "hostile " + strconv.Quote(name), setup: func(t *testing.T, root string) string {
			dir := project(t, filepath.Join(root, name))
			return mkdir(t, filepath.Join(dir, name, "src"))
		}})
	}
}

// walkFind is the nearest file as the contract's walk finds it: the first
// level from dir up to "/" where test -e (a stat) succeeds.
func walkFind(dir string) string {
	for {
		p := filepath.Join(dir, dirconfig.FileName)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// find is dirconfig.Find's answer, "error: …" for an error.
func find(dir string) string {
	p, err := dirconfig.Find(dir)
	if err != nil {
		return "error: " + err.Error()
	}
	return p
}

// steadyScripts run the hook's steady check twice, with a line on stdin
// between (the layout changes then), in a shell started in $1 with the
// hook ($2) sourced and the facts ($3) evaluated as `awsrole export`'s
// answer would be. The shell is in its directory before the hook is
// sourced: a cd after would run the hook, and the fake binary. nushell
// (whose `source` takes a constant) and elvish start there instead (as
// every row does, with PWD set: nushell's cd drops escape sequences from a
// name, elvish's would take the path without its symlinks) and read the
// hook and the facts from AWSROLE_TEST_HOOK and AWSROLE_TEST_FACTS; the
// nushell hook's code is put before the script.
var steadyScripts = map[string][]string{
	"bash": {"bash", "--norc", "--noprofile", "-c",
		`cd -- "$1" && source "$2" && eval "$3" || exit 9
_awsrole_steady; echo "steady $?"; read -r _; _awsrole_steady; echo "steady $?"`, "bash"},
	"zsh": {"zsh", "-f", "-c",
		`cd -- "$1" && source "$2" && eval "$3" || exit 9
_awsrole_steady; echo "steady $?"; read -r _; _awsrole_steady; echo "steady $?"`, "zsh"},
	"fish": {"fish", "--no-config", "-c",
		`cd $argv[1]; and source $argv[2]; and eval $argv[3]; or exit 9
__awsrole_steady; echo "steady $status"; read -l _x; __awsrole_steady; echo "steady $status"`},
	"nu": {"nu", "--no-config-file", "-c", `
$env.__awsrole = {steady: ($env.AWSROLE_TEST_FACTS | from json), leave: []}
print $"steady (if (__awsrole_steady) { 0 } else { 1 })"
^head -n1 | ignore
print $"steady (if (__awsrole_steady) { 0 } else { 1 })"`},
	"elvish": {"elvish", "-norc", "-c", `
var n = (ns [&edit:=(ns [&before-readline=[]])])
eval &ns=$n &on-end={|n2| set n = $n2 } (slurp < $E:AWSROLE_TEST_HOOK)
eval &ns=$n 'eval &on-end={|x| set awsrole-facts = $x[__awsrole_steady] } $E:AWSROLE_TEST_FACTS'
var check = 'try { awsrole-steady; echo "steady 0" } catch { echo "steady 1" }'
eval &ns=$n $check
var _ = (read-line)
eval &ns=$n $check`},
}

// shellWalk is the nearest file as shell's hook walks: the contract's walk
// (walkFind), except in elvish 0.19, which has no builtin that says
// something is there and counts a level only when it holds a regular file
// (hooks/CONTRACT.md).
func shellWalk(shell, dir string) string {
	if shell != "elvish" {
		return walkFind(dir)
	}
	for {
		p := filepath.Join(dir, dirconfig.FileName)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// TestFastPathWalk runs each shell's steady check as a real process (no
// pty) over the layouts of dirconfig.Find's tests: steady before the
// change exactly when the walk finds the file the call found, and after it
// exactly when it still does and the file was not edited; the walk
// agrees with Find except where hooks/CONTRACT.md says it does not.
func TestFastPathWalk(t *testing.T) {
	mark := filepath.Join(t.TempDir(), "mark")
	writeFile(t, mark, "")
	for _, shell := range shellgen.Names(shellgen.UsePrompt) {
		s, err := shellgen.Get(shell, shellgen.UseExport)
		if err != nil {
			t.Fatal(err)
		}
		if facts, err := s.Steady(shellgen.Facts{Mark: mark}); err != nil || !strings.Contains(facts, mark) {
			continue // no fast path (no mark): the contract's last clause only
		}
		if steadyScripts[shell] == nil {
			t.Errorf("the %s hook has a fast path and no row in steadyScripts", shell)
			continue
		}
		t.Run(shell, func(t *testing.T) {
			needShell(t, shell)
			hook := filepath.Join(t.TempDir(), "awsrole."+shell)
			code, err := shellgen.Hook(shell, "/nonexistent/awsrole")
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, hook, code)
			for _, c := range walkCases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					checkWalk(t, shell, hook, c)
				})
			}
		})
	}
}

func checkWalk(t *testing.T, shell, hook string, c walkCase) {
	root := t.TempDir()
	skipIfFileAbove(t, root)
	pwd := c.setup(t, root)
	mark, deadline := markCall(t, root)
	file := find(pwd)
	before := [2]string{file, walkFind(pwd)}
	if strings.HasPrefix(file, "error: ") {
		file = ""
	}
	s, err := shellgen.Get(shell, shellgen.UseExport)
	if err != nil {
		t.Fatal(err)
	}
	facts, err := s.Steady(shellgen.Facts{File: file, State: "s1", Mark: mark, Deadline: deadline, Watch: watchedFiles(t)})
	if err != nil {
		t.Fatal(err)
	}
	argv := append([]string{}, steadyScripts[shell]...)
	switch shell {
	case "nu":
		code, err := os.ReadFile(hook)
		if err != nil {
			t.Fatal(err)
		}
		argv[len(argv)-1] = string(code) + argv[len(argv)-1]
	case "elvish":
	default:
		argv = append(argv, pwd, hook, facts)
	}
	walked := shellWalk(shell, pwd)
	first, second := runSteady(t, shell, root, pwd, argv, c.change,
		"AWSROLE_TEST_HOOK="+hook, "AWSROLE_TEST_FACTS="+facts)
	after := [2]string{find(pwd), walkFind(pwd)}

	agree := before[0] == before[1] && after[0] == after[1]
	switch {
	case c.differs == "" && !agree:
		t.Fatalf("Find and the walk disagree: before %q, after %q", before, after)
	case c.differs != "" && agree:
		t.Fatalf("Find and the walk agree (%q, %q), but the case says %s", before, after, c.differs)
	}
	// fish leaves a PWD with a newline to the binary, nushell a file
	// whose path has an escape (its ls drops them).
	leftToBinary := shell == "fish" && strings.Contains(pwd, "\n") || shell == "nu" && strings.Contains(file, "\x1b")
	want := [2]bool{walked == file && !leftToBinary, shellWalk(shell, pwd) == file && !c.edits && !leftToBinary}
	if got := [2]bool{first, second}; got != want {
		t.Errorf("%s steady = %v before and after the change, want %v (the call found %q; the walk finds %q, then %q)",
			shell, got, want, file, walked, shellWalk(shell, pwd))
	}
}

// watchedFiles are what a call watches besides the file, as the engine's
// are (the user config, the trust store's directories), a minute old: a
// file, a directory with an entry, and a file that is not there.
func watchedFiles(t *testing.T) []string {
	dir := t.TempDir()
	file, sub := filepath.Join(dir, "config.toml"), filepath.Join(dir, "allow")
	writeFile(t, file, "refresh_before = \"5m\"\n")
	writeFile(t, filepath.Join(sub, "entry"), "/some/.awsrole.toml\n")
	old := time.Now().Add(-time.Minute)
	for _, p := range []string{file, filepath.Join(sub, "entry"), sub} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	return []string{file, sub, filepath.Join(dir, "deny")}
}

// skipIfFileAbove skips when a stray project file above root would make
// "nothing found" untestable.
func skipIfFileAbove(t *testing.T, root string) {
	for d := root; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, dirconfig.FileName)); err == nil {
			t.Skipf("%s exists above the test directory", filepath.Join(d, dirconfig.FileName))
		}
		if d == filepath.Dir(d) {
			return
		}
	}
}

// markCall makes the layout under root look read by a call: everything in
// it a minute old, and a mark half a minute old. It returns the mark and
// a renewal deadline an hour ahead.
func markCall(t *testing.T, root string) (mark string, deadline int64) {
	now := time.Now()
	old := now.Add(-time.Minute)
	filepath.WalkDir(root, func(p string, _ fs.DirEntry, _ error) error {
		os.Chtimes(p, old, old)
		return nil
	})
	mark = filepath.Join(t.TempDir(), "mark")
	writeFile(t, mark, "")
	if err := os.Chtimes(mark, now.Add(-30*time.Second), now.Add(-30*time.Second)); err != nil {
		t.Fatal(err)
	}
	return mark, now.Unix() + 3600
}

// runSteady runs argv (a steadyScripts row and its arguments) in pwd with
// HOME at root, AWSROLE_STATE as the facts say and env, makes change (nil: none)
// between its two checks, and says whether each was steady.
func runSteady(t *testing.T, shell, root, pwd string, argv []string, change func(*testing.T, string), env ...string) (first, second bool) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = pwd
	cmd.Env = append([]string{"HOME=" + root, "PATH=" + os.Getenv("PATH"), "TERM=dumb", "LANG=C.UTF-8", "AWSROLE_STATE=s1", "PWD=" + pwd}, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(stdout)
	first = readSteady(t, out, &stderr)
	if change != nil {
		change(t, root)
	}
	io.WriteString(stdin, "go\n")
	second = readSteady(t, out, &stderr)
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s: %v\nstderr: %s", shell, err, &stderr)
	}
	return first, second
}

// readSteady reads one "steady N" line: true for status 0.
func readSteady(t *testing.T, out *bufio.Reader, stderr fmt.Stringer) bool {
	t.Helper()
	line, err := out.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	status, ok := strings.CutPrefix(strings.TrimSpace(line), "steady ")
	if !ok {
		t.Fatalf("the shell printed %q, want steady N\nstderr: %s", line, stderr)
	}
	return status == "0"
}
