package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/testrig"

	"github.com/creack/pty"
)

// promptMark starts the prompt of every test shell, which goes on with the
// shell level and "> ". The driver waits for it after each command, so the
// hook (which runs before the prompt is drawn) has finished.
const promptMark = "@@P@@ "

// cmdTimeout bounds one command, hook and next prompt included.
const cmdTimeout = 45 * time.Second

// shell is an interactive bash, zsh or fish under a pseudo-terminal, started
// with its rc files read from the rig's HOME.
type shell struct {
	t    *testing.T
	kind string
	cmd  *exec.Cmd
	pty  *os.File

	mu     sync.Mutex
	out    []byte        // everything the terminal showed
	notify chan struct{} // a receive means out may have grown
	exited chan struct{} // closed when the terminal reaches EOF
	seq    int
	dir    string // for environment dumps
	dumps  int
}

// startShell starts an interactive shell in dir (default HOME); it installs
// nothing: call r.install(kind) first. extra changes the environment of this
// shell only.
func (r *rig) startShell(kind string, dir string, extra map[string]*string) *shell {
	r.t.Helper()
	if dir == "" {
		dir = r.home
	}
	if shells[kind] == "" {
		testrig.Require(r.t, kind+" is not on PATH (.ci/run installs it)")
	}
	cmd := exec.Command(shells[kind], "-i")
	cmd.Dir = dir
	env := map[string]*string{"PWD": sp(dir), "SHELL": sp(shells[kind])}
	for k, v := range extra {
		env[k] = v
	}
	cmd.Env = r.environ(env)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 400})
	if err != nil {
		r.t.Fatalf("start %s under a pty: %v", kind, err)
	}
	dumpDir, err := os.MkdirTemp(r.root, "dumps-")
	if err != nil {
		r.t.Fatal(err)
	}
	s := &shell{t: r.t, kind: kind, cmd: cmd, pty: f, dir: dumpDir,
		notify: make(chan struct{}, 1), exited: make(chan struct{})}
	go s.read()
	r.t.Cleanup(s.close)
	s.waitFor(0, promptMark)
	return s
}

func (s *shell) read() {
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

func (s *shell) close() {
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

func (s *shell) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.out)
}

func (s *shell) slice(from, to int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.out[from:to])
}

// Transcript is everything the terminal showed, cleaned.
func (s *shell) Transcript() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clean(string(s.out))
}

// waitFor returns the offset just past the first pat at or after from, or
// fails the test with the transcript.
func (s *shell) waitFor(from int, pat string) int {
	s.t.Helper()
	deadline := time.NewTimer(cmdTimeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		i := bytes.Index(s.out[from:], []byte(pat))
		s.mu.Unlock()
		if i >= 0 {
			return from + i + len(pat)
		}
		select {
		case <-s.notify:
		case <-s.exited:
			s.mu.Lock()
			i := bytes.Index(s.out[from:], []byte(pat))
			s.mu.Unlock()
			if i >= 0 {
				return from + i + len(pat)
			}
			s.t.Fatalf("%s exited while waiting for %q; transcript:\n%s", s.kind, pat, s.tail())
		case <-deadline.C:
			s.t.Fatalf("%s: no %q within %s; transcript:\n%s", s.kind, pat, cmdTimeout, s.tail())
		}
	}
}

// tail is the end of the transcript, for failure messages.
func (s *shell) tail() string {
	t := s.Transcript()
	if len(t) > 6000 {
		t = "…" + t[len(t)-6000:]
	}
	return t
}

// Send types line and a newline, nothing more.
func (s *shell) Send(line string) {
	s.t.Helper()
	if _, err := s.pty.Write([]byte(line + "\n")); err != nil {
		s.t.Fatalf("write to %s: %v", s.kind, err)
	}
}

// Nest starts a child shell of the same kind from this one (it reads the
// same rc file) and waits for its first prompt; the child is driven with the
// same methods until Unnest.
func (s *shell) Nest() {
	s.t.Helper()
	start := s.len()
	s.Send(s.kind + " -i")
	s.waitFor(start, promptMark+"2> ")
}

// Unnest exits the child shell started with Nest.
func (s *shell) Unnest() {
	s.t.Helper()
	start := s.len()
	s.Send("exit")
	s.waitFor(start, promptMark+"1> ")
}

// Run types cmd, waits for it and the next prompt, and returns what cmd
// printed (terminal noise removed). Sentinels are printed before and after:
// the output holds @@bN@@, the echoed input only '@@%s@@\n' bN.
func (s *shell) Run(cmd string) string {
	s.t.Helper()
	out, _ := s.RunFull(cmd)
	return out
}

// RunFull is Run, also returning everything shown from the start of cmd's
// output up to the next prompt: that includes what the hook printed, which
// bash runs at the prompt and zsh and fish also inside cd.
func (s *shell) RunFull(cmd string) (out, full string) {
	s.t.Helper()
	return s.run("", cmd)
}

// run types one line: pre, the begin sentinel, cmd, the end sentinel.
func (s *shell) run(pre, cmd string) (out, full string) {
	s.t.Helper()
	s.seq++
	b, e := fmt.Sprintf("@@b%d@@", s.seq), fmt.Sprintf("@@e%d@@", s.seq)
	start := s.len()
	if pre != "" {
		// LastStatus: both parts in the shell's own syntax.
		s.Send(pre + fmt.Sprintf(shellTable[s.kind].sentinel, fmt.Sprintf("b%d", s.seq)) + "; " + cmd + "; " + fmt.Sprintf(shellTable[s.kind].sentinel, fmt.Sprintf("e%d", s.seq)))
	} else {
		s.Send(s.line(cmd))
	}
	bi := s.waitFor(start, b)
	ei := s.waitFor(bi, e)
	pi := s.waitFor(ei, promptMark)
	out = clean(s.slice(bi, ei-len(e)))
	full = clean(s.slice(bi, pi))
	return strings.TrimPrefix(out, "\n"), full
}

// line is cmd between the sentinels @@bN@@ and @@eN@@ (N: s.seq), in the
// shell's syntax: a POSIX line runs under `sh -c` in a shell that reads
// another language.
func (s *shell) line(cmd string) string {
	row := shellTable[s.kind]
	if row.native != nil && !hasAnyPrefix(cmd, row.native) {
		cmd = "try { sh -c " + quote(s.kind, cmd) + " } catch { }"
	}
	return fmt.Sprintf(row.sentinel, fmt.Sprintf("b%d", s.seq)) + "; " + cmd + "; " + fmt.Sprintf(row.sentinel, fmt.Sprintf("e%d", s.seq))
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// statusOr is LastStatus, or want for a shell without an exit status,
// once the prompt after offset from is there (so nothing is typed ahead
// into a command still running).
func (s *shell) statusOr(from int, want string) string {
	s.t.Helper()
	if !s.HasStatus() {
		s.waitFor(from, promptMark)
		return want
	}
	return s.LastStatus()
}

// HasStatus reports whether the shell has an exit status to read (elvish
// has exceptions instead).
func (s *shell) HasStatus() bool { return shellTable[s.kind].saveStatus != "" }

// LastStatus is the exit status the next command line sees as $? ($status
// in fish): the status of the previous one, unless a hook clobbered it.
func (s *shell) LastStatus() string {
	s.t.Helper()
	row := shellTable[s.kind]
	if row.saveStatus == "" {
		s.t.Fatalf("%s has no exit status variable; check HasStatus first", s.kind)
	}
	out, _ := s.run(row.saveStatus, row.showStatus)
	return strings.TrimSpace(out)
}

// Env returns the shell's exported environment, telling unset (absent)
// from set to the empty string. `env -0` writes it to a file, which keeps
// the terminal out of it and costs one process.
func (s *shell) Env() map[string]*string {
	s.t.Helper()
	s.dumps++
	path := filepath.Join(s.dir, fmt.Sprintf("env-%d", s.dumps))
	word := quote(s.kind, path)
	if shellTable[s.kind].native != nil {
		word = "'" + strings.ReplaceAll(path, "'", `'\''`) + "'" // the line runs under sh -c
	}
	s.Run("env -0 >" + word)
	data, err := os.ReadFile(path)
	if err != nil {
		s.t.Fatalf("%s: no environment dump: %v; transcript:\n%s", s.kind, err, s.tail())
	}
	return parseEnv0(s.t, string(data))
}

// parseEnv0 parses the output of `env -0`.
func parseEnv0(t *testing.T, data string) map[string]*string {
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
		env[k] = sp(v)
	}
	return env
}

// Managed is Env restricted to the managed variables.
func (s *shell) Managed() map[string]*string { s.t.Helper(); return pick(s.Env()) }

// Cd is the cd command for dir in this shell's syntax.
func (s *shell) Cd(dir string) string { return "cd " + quote(s.kind, dir) }

// Export is the command that exports name=value in this shell's syntax.
func (s *shell) Export(name, value string) string {
	return fmt.Sprintf(shellTable[s.kind].export, name, quote(s.kind, value))
}

// Unset is the command that unsets name in this shell's syntax.
func (s *shell) Unset(name string) string { return fmt.Sprintf(shellTable[s.kind].unset, name) }

// quote makes s one word for the shell, using only printable ASCII.
func quote(kind, s string) string { return shellTable[kind].quote(s) }

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

// clean removes escape sequences, bells, backspaces and carriage returns.
func clean(s string) string { return escapes.ReplaceAllString(s, "") }

// awsroleLines returns the lines of text that start with "awsrole:", the
// messages awsrole prints on stderr.
func awsroleLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		// fish starts the line after a command's output with its
		// "missing newline" mark (⏎, spaces, ⏎ and a carriage return).
		if i := strings.Index(l, "awsrole:"); i >= 0 && strings.Trim(l[:i], " \t⏎") == "" {
			out = append(out, strings.TrimSpace(l[i:]))
		}
	}
	return out
}

// Type writes text to the terminal as if typed: no newline, no sentinels
// (an MFA code for a prompt that is not the shell's, Ctrl-C).
func (s *shell) Type(text string) {
	s.t.Helper()
	if _, err := s.pty.Write([]byte(text)); err != nil {
		s.t.Fatalf("write to %s: %v", s.kind, err)
	}
}

// Interrupt types Ctrl-C: the terminal sends SIGINT to the foreground
// process group.
func (s *shell) Interrupt() { s.t.Helper(); s.Type("\x03") }

// pending is a command line typed by Begin and not waited for yet.
type pending struct{ start, seq int }

// Begin types cmd between sentinels as Run does, without waiting, so the
// test can answer a prompt (or interrupt) while it runs. Wait with Finish,
// or with WaitPrompt when the line may be cut short.
func (s *shell) Begin(cmd string) pending {
	s.t.Helper()
	s.seq++
	p := pending{start: s.len(), seq: s.seq}
	s.Send(s.line(cmd))
	return p
}

// WaitFor waits for pat at or after offset from and returns the offset
// just past it; it fails the test with the transcript after cmdTimeout.
func (s *shell) WaitFor(from int, pat string) int { s.t.Helper(); return s.waitFor(from, pat) }

// Finish waits for the end of p's command and the next prompt, and returns
// as RunFull does.
func (s *shell) Finish(p pending) (out, full string) {
	s.t.Helper()
	bi := s.waitFor(p.start, fmt.Sprintf("@@b%d@@", p.seq))
	e := fmt.Sprintf("@@e%d@@", p.seq)
	ei := s.waitFor(bi, e)
	pi := s.waitFor(ei, promptMark)
	return strings.TrimPrefix(clean(s.slice(bi, ei-len(e))), "\n"), clean(s.slice(bi, pi))
}

// WaitPrompt waits for the next prompt after p was typed, whether or not
// the line ran to its end, and returns everything shown in between.
func (s *shell) WaitPrompt(p pending) string {
	s.t.Helper()
	// After the begin sentinel (fish may redraw the line it was typed on,
	// prompt included, when it is entered), the next prompt mark is the
	// next prompt.
	pats := []string{fmt.Sprintf("@@b%d@@", p.seq)}
	if x := shellTable[s.kind].interrupted; x != "" {
		pats = append(pats, x)
	}
	_, bi := s.WaitAny(p.start, pats...)
	pi := s.waitFor(bi, promptMark)
	return clean(s.slice(bi, pi))
}

// WaitAny waits for the first of pats to show at or after from and returns
// its index and the offset just past it.
func (s *shell) WaitAny(from int, pats ...string) (int, int) {
	s.t.Helper()
	deadline := time.NewTimer(cmdTimeout)
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
	for {
		if i, end := find(); i >= 0 {
			return i, end
		}
		select {
		case <-s.notify:
		case <-s.exited:
			if i, end := find(); i >= 0 {
				return i, end
			}
			s.t.Fatalf("%s exited while waiting for one of %q; transcript:\n%s", s.kind, pats, s.tail())
		case <-deadline.C:
			s.t.Fatalf("%s: none of %q within %s; transcript:\n%s", s.kind, pats, cmdTimeout, s.tail())
		}
	}
}
