// Package ptyshell drives real interactive shells (bash, zsh, fish, nushell,
// elvish) under a pseudo-terminal for the end-to-end tests: a prompt
// sentinel after every command, begin and end sentinels around its output,
// per-shell quoting, the environment read back byte for byte, Ctrl-C.
//
// It is apart from package testrig so that the packages that drive no
// shell do not build the pty dependency.
package ptyshell

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// Row is what the driver needs to know about one shell. Adding a
// shell to the registry without a row here fails TestEveryShellHasARow.
type Row struct {
	// RC and Prompt: the file under HOME that sets the prompt the driver
	// waits for (PromptMark, the shell level, "> "), written before the
	// hook is installed.
	RC, Prompt string
	// Native lists the prefixes of lines the shell runs as typed; any other
	// line (the scenarios write POSIX sh) runs under `sh -c`, inside a try
	// so that a failing command does not cut the line short. nil: every
	// line runs as typed (bash, zsh, and fish, which reads the scenarios'
	// lines the same way).
	Native []string
	// SaveStatus and ShowStatus are the code that saves the previous line's exit status in st
	// and the code that prints it; "" for a shell without one.
	SaveStatus, ShowStatus string
	// Sentinel is the format of the line that prints @@TAG@@ (%s: TAG)
	// without the echoed input showing @@TAG@@.
	Sentinel string
	// LoadFile is the rc line that loads a hook file (%s: the quoted
	// path); "" when `awsrole install` writes the hook itself.
	LoadFile string
	// Sigint is the status of a command killed by SIGINT.
	Sigint string
	// Interrupted is what the shell prints when a command of the line was
	// killed by SIGINT, if it says so ("" when it does not): a loaded
	// machine can lose the line's begin sentinel then (seen with nu).
	Interrupted string
	// CdTrims: cd cannot reach a directory whose name ends in white space.
	CdTrims bool
	// Quote makes a string one word of the shell in printable ASCII;
	// Export and Unset are the formats of the commands that set (%s: name,
	// quoted value) and unset (%s: name) an environment variable.
	Quote         func(string) string
	Export, Unset string
	// Optional: without it on PATH its subtests skip rather than fail
	// (.ci/run installs it).
	Optional bool
	// FastPath: a steady prompt starts no process.
	FastPath bool
	// Direnv: direnv has a hook for this shell (`direnv hook NAME`).
	Direnv string
}

// Table has a Row for each interactive shell of the registry.
var Table = map[string]Row{
	"bash": {Quote: quotePosix, Export: "export %s=%s", Unset: "unset %s", Sigint: "130", LoadFile: "source %s", RC: ".bashrc", Prompt: "PS1='" + PromptMark + "${SHLVL}> '\nPS2=''\nHISTFILE=/dev/null\n",
		SaveStatus: `st=$?; `, ShowStatus: `printf '%s\n' "$st"`, Sentinel: "printf '@@%%s@@\\n' %s", FastPath: true,
		Direnv: "eval \"$(direnv hook bash)\"\n"},
	"zsh": {Quote: quotePosix, Export: "export %s=%s", Unset: "unset %s", Sigint: "130", LoadFile: "source %s", RC: ".zshrc", Prompt: "PS1='" + PromptMark + "%L> '\nPS2=''\nRPS1=''\nunsetopt PROMPT_SP PROMPT_CR BEEP\nHISTFILE=/dev/null\n",
		SaveStatus: `st=$?; `, ShowStatus: `printf '%s\n' "$st"`, Sentinel: "printf '@@%%s@@\\n' %s", FastPath: true,
		Direnv: "eval \"$(direnv hook zsh)\"\n"},
	"fish": {Quote: quoteFish, Export: "set -gx %s %s", Unset: "set -e %s", Sigint: "130", LoadFile: "source %s", RC: ".config/fish/config.fish", Prompt: "set -g fish_greeting ''\nset -g fish_autosuggestion_enabled 0\nfunction fish_prompt; printf '%s%s> ' '" + PromptMark + "' $SHLVL; end\nfunction fish_right_prompt; end\nfunction fish_title; end\n",
		SaveStatus: `set st $status; `, ShowStatus: `printf '%s\n' $st`, Sentinel: "printf '@@%%s@@\\n' %s", FastPath: true,
		Direnv: "direnv hook fish | source\n"},
	"nu": {Quote: quoteNu, Export: "$env.%s = %s", Unset: "hide-env %s", Optional: true, Sigint: "-2", Interrupted: "terminated by SIGINT", RC: ".config/nushell/config.nu", Prompt: "$env.config.show_banner = false\n$env.PROMPT_COMMAND = {|| $'" + PromptMark + "($env.SHLVL)> ' }\n$env.PROMPT_COMMAND_RIGHT = ''\n$env.PROMPT_INDICATOR = ''\n$env.PROMPT_MULTILINE_INDICATOR = ''\n",
		Native: []string{"cd ", "$env.", "hide-env ", "awsrole exec "}, CdTrims: true, SaveStatus: `let st = $env.LAST_EXIT_CODE; `, ShowStatus: `print $st`, Sentinel: "print ('@@' + '%s' + '@@')", FastPath: true},
	"elvish": {Quote: quoteElvish, Export: "set-env %s %s", Unset: "unset-env %s", Optional: true, Sigint: "130", LoadFile: "eval (slurp < %s)", RC: ".config/elvish/rc.elv", Prompt: "set edit:prompt = { put '" + PromptMark + "'$E:SHLVL'> ' }\nset edit:rprompt = { }\n",
		Native: []string{"cd ", "set-env ", "unset-env ", "awsrole exec "}, Sentinel: "echo '@@'%s'@@'", FastPath: true},
}

// PromptMark starts the prompt of every test shell, which goes on with the
// shell level and "> ". The driver waits for it after each command, so the
// hook (which runs before the prompt is drawn) has finished.
const PromptMark = "@@P@@ "

// Timeout bounds one command, hook and next prompt included.
const Timeout = 45 * time.Second

// Shell is an interactive shell under a pseudo-terminal.
type Shell struct {
	t       testing.TB
	kind    string
	cmd     *exec.Cmd
	pty     *os.File
	timeout time.Duration // for one wait

	mu     sync.Mutex
	out    []byte        // everything the terminal showed
	notify chan struct{} // a receive means out may have grown
	exited chan struct{} // closed when the terminal reaches EOF
	seq    int
	dir    string // for environment dumps
	dumps  int
}

// Start starts the shell kind (the program at path) interactively under a
// pseudo-terminal in dir with the environment env, and waits for its first
// prompt: its rc file (Row.RC under HOME) must set Row.Prompt. A failure
// fails t.
func Start(t testing.TB, kind, path, dir string, env []string) *Shell {
	t.Helper()
	s, err := Open(t, kind, []string{path, "-i"}, dir, env, Timeout)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Open is Start for a caller that handles the error (e.g. from a goroutine
// other than the test's): argv is the whole command line (a wrapper such
// as unshare, the shell, its flags), and timeout bounds each wait of the
// error-returning methods (Try) and of the first prompt. The shell is
// ended when t ends.
func Open(t testing.TB, kind string, argv []string, dir string, env []string, timeout time.Duration) (*Shell, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 400})
	if err != nil {
		return nil, fmt.Errorf("start %s under a pty: %v", kind, err)
	}
	s := &Shell{t: t, kind: kind, cmd: cmd, pty: f, dir: t.TempDir(), timeout: timeout,
		notify: make(chan struct{}, 1), exited: make(chan struct{})}
	go s.read()
	t.Cleanup(s.close)
	if _, _, err := s.await(0, timeout, PromptMark); err != nil {
		return nil, err
	}
	return s, nil
}

// Kill ends the shell and everything in its process group with SIGKILL.
func (s *Shell) Kill() { _ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL) }

// Wait waits for the shell's process to end.
func (s *Shell) Wait() error { return s.cmd.Wait() }

// Pid is the shell's process id.
func (s *Shell) Pid() int { return s.cmd.Process.Pid }

func (s *Shell) read() {
	defer close(s.exited)
	buf := make([]byte, 32<<10)
	for {
		n, err := s.pty.Read(buf)
		if n > 0 && bytes.Contains(buf[:n], []byte("\x1b[6n")) {
			// A line editor (nushell's reedline) asks where the cursor is
			// and waits for the answer a terminal would give.
			_, _ = s.pty.Write([]byte("\x1b[1;1R"))
		}
		if n > 0 {
			s.mu.Lock()
			s.out = append(s.out, buf[:n]...)
			s.mu.Unlock()
			select {
			case s.notify <- struct{}{}:
			default:
			}
		}
		if err != nil {
			return
		}
	}
}

func (s *Shell) close() {
	_, _ = s.pty.Write([]byte("exit\n"))
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.pty.Close()
}

// Len is how many bytes the terminal has shown so far: an offset for
// WaitFor, WaitAny and Slice.
func (s *Shell) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.out)
}

// Slice is what the terminal showed between two offsets, raw.
func (s *Shell) Slice(from, to int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.out[from:to])
}

// Transcript is everything the terminal showed, cleaned.
func (s *Shell) Transcript() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Clean(string(s.out))
}

// waitFor returns the offset just past the first pat at or after from, or
// fails the test with the transcript.
func (s *Shell) waitFor(from int, pat string) int {
	s.t.Helper()
	_, end, err := s.await(from, Timeout, pat)
	if err != nil {
		s.t.Fatal(err)
	}
	return end
}

// await waits up to timeout for the first of pats to show at or after
// from and returns its index and the offset just past it.
func (s *Shell) await(from int, timeout time.Duration, pats ...string) (int, int, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	find := func() (int, int) {
		s.mu.Lock()
		defer s.mu.Unlock()
		best, end := -1, -1
		for i, p := range pats {
			if j := bytes.Index(s.out[from:], []byte(p)); j >= 0 && (best < 0 || from+j < end-len(pats[best])) {
				best, end = i, from+j+len(p)
			}
		}
		return best, end
	}
	what := fmt.Sprintf("%q", pats[0])
	if len(pats) > 1 {
		what = fmt.Sprintf("one of %q", pats)
	}
	for {
		if i, end := find(); i >= 0 {
			return i, end, nil
		}
		select {
		case <-s.notify:
		case <-s.exited:
			if i, end := find(); i >= 0 {
				return i, end, nil
			}
			return -1, -1, fmt.Errorf("%s exited while waiting for %s; transcript:\n%s", s.kind, what, s.Tail())
		case <-deadline.C:
			return -1, -1, fmt.Errorf("%s: no %s within %s; transcript:\n%s", s.kind, what, timeout, s.Tail())
		}
	}
}

// Tail is the end of the transcript, for failure messages.
func (s *Shell) Tail() string {
	t := s.Transcript()
	if len(t) > 6000 {
		t = "…" + t[len(t)-6000:]
	}
	return t
}

// Send types line and a newline, nothing more.
func (s *Shell) Send(line string) {
	s.t.Helper()
	if _, err := s.pty.Write([]byte(line + "\n")); err != nil {
		s.t.Fatalf("write to %s: %v", s.kind, err)
	}
}

// Nest starts a child shell of the same kind from this one (it reads the
// same rc file) and waits for its first prompt; the child is driven with the
// same methods until Unnest.
func (s *Shell) Nest() {
	s.t.Helper()
	start := s.Len()
	s.Send(s.kind + " -i")
	s.waitFor(start, PromptMark+"2> ")
}

// Unnest exits the child shell started with Nest.
func (s *Shell) Unnest() {
	s.t.Helper()
	start := s.Len()
	s.Send("exit")
	s.waitFor(start, PromptMark+"1> ")
}

// Run types cmd, waits for it and the next prompt, and returns what cmd
// printed (terminal noise removed). Sentinels are printed before and after:
// the output holds @@bN@@, the echoed input only '@@%s@@\n' bN.
func (s *Shell) Run(cmd string) string {
	s.t.Helper()
	out, _ := s.RunFull(cmd)
	return out
}

// RunFull is Run, also returning everything shown from the start of cmd's
// output up to the next Prompt: that includes what the hook printed, which
// bash runs at the prompt and zsh and fish also inside cd.
func (s *Shell) RunFull(cmd string) (out, full string) {
	s.t.Helper()
	return s.run("", cmd)
}

// run is runE failing the test, with Timeout for each wait.
func (s *Shell) run(pre, cmd string) (out, full string) {
	s.t.Helper()
	out, full, err := s.runE(pre, cmd, Timeout)
	if err != nil {
		s.t.Fatal(err)
	}
	return out, full
}

// Try is Run returning an error instead of failing the test, each wait
// bounded by the timeout given to Open.
func (s *Shell) Try(cmd string) (string, error) {
	out, _, err := s.runE("", cmd, s.timeout)
	return out, err
}

// runE types one line: pre, the begin sentinel, cmd, the end sentinel.
func (s *Shell) runE(pre, cmd string, timeout time.Duration) (out, full string, err error) {
	s.seq++
	b, e := fmt.Sprintf("@@b%d@@", s.seq), fmt.Sprintf("@@e%d@@", s.seq)
	start := s.Len()
	line := s.line(cmd)
	if pre != "" {
		// LastStatus: both parts in the shell's own syntax.
		line = pre + fmt.Sprintf(Table[s.kind].Sentinel, fmt.Sprintf("b%d", s.seq)) + "; " + cmd + "; " + fmt.Sprintf(Table[s.kind].Sentinel, fmt.Sprintf("e%d", s.seq))
	}
	if _, err := s.pty.Write([]byte(line + "\n")); err != nil {
		return "", "", fmt.Errorf("write to %s: %v", s.kind, err)
	}
	var bi, ei, pi int
	if _, bi, err = s.await(start, timeout, b); err == nil {
		if _, ei, err = s.await(bi, timeout, e); err == nil {
			_, pi, err = s.await(ei, timeout, PromptMark)
		}
	}
	if err != nil {
		return "", "", err
	}
	out = Clean(s.Slice(bi, ei-len(e)))
	full = Clean(s.Slice(bi, pi))
	return strings.TrimPrefix(out, "\n"), full, nil
}

// line is cmd between the sentinels @@bN@@ and @@eN@@ (N: s.seq), in the
// shell's syntax: a POSIX line runs under `sh -c` in a shell that reads
// another language.
func (s *Shell) line(cmd string) string {
	row := Table[s.kind]
	if row.Native != nil && !hasAnyPrefix(cmd, row.Native) {
		cmd = "try { sh -c " + Quote(s.kind, cmd) + " } catch { }"
	}
	return fmt.Sprintf(row.Sentinel, fmt.Sprintf("b%d", s.seq)) + "; " + cmd + "; " + fmt.Sprintf(row.Sentinel, fmt.Sprintf("e%d", s.seq))
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// StatusOr is LastStatus, or want for a shell without an exit status,
// once the prompt after offset from is there (so nothing is typed ahead
// into a command still running).
func (s *Shell) StatusOr(from int, want string) string {
	s.t.Helper()
	if !s.HasStatus() {
		s.waitFor(from, PromptMark)
		return want
	}
	return s.LastStatus()
}

// HasStatus reports whether the shell has an exit status to read (elvish
// has exceptions instead).
func (s *Shell) HasStatus() bool { return Table[s.kind].SaveStatus != "" }

// LastStatus is the exit status the next command line sees as $? ($status
// in fish): the status of the previous one, unless a hook clobbered it.
func (s *Shell) LastStatus() string {
	s.t.Helper()
	row := Table[s.kind]
	if row.SaveStatus == "" {
		s.t.Fatalf("%s has no exit status variable; check HasStatus first", s.kind)
	}
	out, _ := s.run(row.SaveStatus, row.ShowStatus)
	return strings.TrimSpace(out)
}

// Env returns the shell's exported environment, telling unset (absent)
// from set to the empty string. `env -0` writes it to a file, which keeps
// the terminal out of it and costs one process.
func (s *Shell) Env() map[string]*string {
	s.t.Helper()
	s.dumps++
	path := filepath.Join(s.dir, fmt.Sprintf("env-%d", s.dumps))
	word := Quote(s.kind, path)
	if Table[s.kind].Native != nil {
		word = "'" + strings.ReplaceAll(path, "'", `'\''`) + "'" // the line runs under sh -c
	}
	s.Run("env -0 >" + word)
	data, err := os.ReadFile(path)
	if err != nil {
		s.t.Fatalf("%s: no environment dump: %v; transcript:\n%s", s.kind, err, s.Tail())
	}
	return ParseEnv0(s.t, string(data))
}

// ParseEnv0 parses the output of `env -0`.
func ParseEnv0(t testing.TB, data string) map[string]*string {
	t.Helper()
	env := map[string]*string{}
	for _, kv := range strings.Split(data, "\x00") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("environment entry without '=': %q", kv)
		}
		env[k] = &v
	}
	return env
}

// Cd is the cd command for dir in this shell's syntax.
func (s *Shell) Cd(dir string) string { return "cd " + Quote(s.kind, dir) }

// Export is the command that exports name=value in this shell's syntax.
func (s *Shell) Export(name, value string) string {
	return fmt.Sprintf(Table[s.kind].Export, name, Quote(s.kind, value))
}

// Unset is the command that unsets name in this shell's syntax.
func (s *Shell) Unset(name string) string { return fmt.Sprintf(Table[s.kind].Unset, name) }

// Quote makes s one word for the shell, using only printable ASCII.
func Quote(kind, s string) string { return Table[kind].Quote(s) }

// quotePosix is quote for bash and zsh: $'...' with every byte that is not
// plainly safe escaped.
func quotePosix(s string) string { return quoteHex(s, "$'", "'") }

// quoteHex writes s between open and close, every byte that is not plainly
// safe as \xNN (which bash, zsh and elvish all read).
func quoteHex(s, open, close string) string {
	var b strings.Builder
	b.WriteString(open)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("/._-+,:=@% ", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, `\x%02x`, c)
	}
	b.WriteString(close)
	return b.String()
}

// quoteFish is quote for fish: single quotes, where only \ and ' are
// special; other bytes as unquoted \xNN (\X for bytes above 0x7f) escapes.
func quoteFish(s string) string {
	var b strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			if in {
				b.WriteByte('\'')
				in = false
			}
			fmt.Fprintf(&b, `\X%02x`, c)
			continue
		}
		if !in {
			b.WriteByte('\'')
			in = true
		}
		if c == '\\' || c == '\'' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	if in {
		b.WriteByte('\'')
	}
	if b.Len() == 0 {
		return "''"
	}
	return b.String()
}

// quoteNu is quote for nushell: double quotes, other characters than
// printable ASCII (and \ and ") as \u{…}; nushell strings are UTF-8, so a
// byte that is not cannot be typed.
func quoteNu(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r >= 0x20 && r < 0x7f && r != '"' && r != '\\' {
			b.WriteRune(r)
			continue
		}
		fmt.Fprintf(&b, `\u{%x}`, r)
	}
	b.WriteByte('"')
	return b.String()
}

// quoteElvish is quote for elvish: double quotes (no interpolation in
// elvish), every byte that is not plainly safe as \xNN.
func quoteElvish(s string) string { return quoteHex(s, `"`, `"`) }

var escapes = regexp.MustCompile(`\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78MDEHc]|[\x07\x08\r]`)

// Clean removes escape sequences, bells, backspaces and carriage returns.
func Clean(s string) string { return escapes.ReplaceAllString(s, "") }

// Type writes text to the terminal as if typed: no newline, no sentinels
// (an MFA code for a prompt that is not the shell's, Ctrl-C).
func (s *Shell) Type(text string) {
	s.t.Helper()
	if _, err := s.pty.Write([]byte(text)); err != nil {
		s.t.Fatalf("write to %s: %v", s.kind, err)
	}
}

// Interrupt types Ctrl-C: the terminal sends SIGINT to the foreground
// process group.
func (s *Shell) Interrupt() { s.t.Helper(); s.Type("\x03") }

// Pending is a command line typed by Begin and not waited for yet.
type Pending struct{ Start, Seq int }

// Begin types cmd between sentinels as Run does, without waiting, so the
// test can answer a prompt (or interrupt) while it runs. Wait with Finish,
// or with WaitPrompt when the line may be cut short.
func (s *Shell) Begin(cmd string) Pending {
	s.t.Helper()
	s.seq++
	p := Pending{Start: s.Len(), Seq: s.seq}
	s.Send(s.line(cmd))
	return p
}

// WaitFor waits for pat at or after offset from and returns the offset
// just past it; it fails the test with the transcript after Timeout.
func (s *Shell) WaitFor(from int, pat string) int { s.t.Helper(); return s.waitFor(from, pat) }

// Finish waits for the end of p's command and the next prompt, and returns
// as RunFull does.
func (s *Shell) Finish(p Pending) (out, full string) {
	s.t.Helper()
	bi := s.waitFor(p.Start, fmt.Sprintf("@@b%d@@", p.Seq))
	e := fmt.Sprintf("@@e%d@@", p.Seq)
	ei := s.waitFor(bi, e)
	pi := s.waitFor(ei, PromptMark)
	return strings.TrimPrefix(Clean(s.Slice(bi, ei-len(e))), "\n"), Clean(s.Slice(bi, pi))
}

// WaitPrompt waits for the next prompt after p was typed, whether or not
// the line ran to its end, and returns everything shown in between.
func (s *Shell) WaitPrompt(p Pending) string {
	s.t.Helper()
	// After the begin sentinel (fish may redraw the line it was typed on,
	// prompt included, when it is entered), the next prompt mark is the
	// next prompt.
	pats := []string{fmt.Sprintf("@@b%d@@", p.Seq)}
	if x := Table[s.kind].Interrupted; x != "" {
		pats = append(pats, x)
	}
	_, bi := s.WaitAny(p.Start, pats...)
	pi := s.waitFor(bi, PromptMark)
	return Clean(s.Slice(bi, pi))
}

// WaitAny waits for the first of pats to show at or after from and returns
// its index and the offset just past it.
func (s *Shell) WaitAny(from int, pats ...string) (int, int) {
	s.t.Helper()
	i, end, err := s.await(from, Timeout, pats...)
	if err != nil {
		s.t.Fatal(err)
	}
	return i, end
}
