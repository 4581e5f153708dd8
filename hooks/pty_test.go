package hooks_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// terminal is a shell running on a pseudo-terminal, for what shells only do
// when they really are interactive (fish fires fish_prompt only then).
type terminal struct {
	t    *testing.T
	f    *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	seen int // output before this offset has been matched already
	done chan struct{}
}

func startTerminal(t *testing.T, r *rig, argv ...string) *terminal {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = r.dir
	cmd.Env = r.env("TERM=xterm", "PS1=PROMPT> ")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, f: f, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = f.Close()
	})
	return term
}

// expect waits for re in the output after what was already matched.
func (term *terminal) expect(re *regexp.Regexp) []string {
	term.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		term.mu.Lock()
		out := term.out.String()
		term.mu.Unlock()
		if loc := re.FindStringSubmatchIndex(out[term.seen:]); loc != nil {
			m := make([]string, len(loc)/2)
			for i := range m {
				if loc[2*i] >= 0 {
					m[i] = out[term.seen+loc[2*i] : term.seen+loc[2*i+1]]
				}
			}
			term.seen += loc[1]
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
	term.mu.Lock()
	defer term.mu.Unlock()
	term.t.Fatalf("timed out waiting for %q; output so far:\n%q", re, term.out.String())
	return nil
}

func (term *terminal) send(line string) {
	term.t.Helper()
	if _, err := io.WriteString(term.f, line+"\r"); err != nil {
		term.t.Fatal(err)
	}
}

var (
	promptRE  = regexp.MustCompile(`PROMPT> `)
	ptyLineRE = regexp.MustCompile(`status=(\d+) calls=(\d+) pid=(\d+)`)
)

// TestPromptUnderPTY checks the prompt hooks in real interactive shells: the
// binary runs at every prompt with the shell's pid, and the status of the
// last command survives for the next one.
func TestPromptUnderPTY(t *testing.T) {
	tests := []struct {
		shell  string
		argv   []string
		source string
		show   string
	}{
		{"bash", []string{"bash", "--norc", "--noprofile", "-i"}, "source ",
			`echo "status=$? calls=$AWSROLE_TEST_CALLS pid=$$"`},
		{"zsh", []string{"zsh", "-f", "-i"}, "source ",
			`echo "status=$? calls=$AWSROLE_TEST_CALLS pid=$$"`},
		{"fish", []string{"fish", "--no-config", "-i", "-C", `function fish_prompt; printf 'PROMPT> '; end`}, "source ",
			`echo "status=$status calls=$AWSROLE_TEST_CALLS pid=$fish_pid"`},
	}
	for _, tt := range tests {
		t.Run(tt.shell, func(t *testing.T) {
			needShell(t, tt.shell)
			t.Parallel()
			r := newRig(t)
			term := startTerminal(t, r, tt.argv...)
			if tt.shell == "zsh" {
				// zsh -f does not take PS1 from the environment.
				term.send(`PS1='PROMPT''> '`)
			}
			term.expect(promptRE)
			term.send(tt.source + mustQuote(t, tt.shell, r.hook[tt.shell]))
			term.expect(promptRE)
			term.send("false")
			term.expect(promptRE)
			term.send(tt.show)
			m := term.expect(ptyLineRE)
			if m[1] != "1" {
				t.Errorf("status after `false` and a prompt = %s, want 1", m[1])
			}
			if n, _ := strconv.Atoi(m[2]); n < 2 {
				t.Errorf("binary called %d times by the second prompt, want 2", n)
			}
			checkCalls(t, r, tt.shell, m[3], 2)
			term.send("exit")
			select {
			case <-term.done:
			case <-time.After(10 * time.Second):
				t.Errorf("%s did not exit", tt.shell)
			}
			term.mu.Lock()
			defer term.mu.Unlock()
			if out := term.out.String(); strings.Contains(out, "not found") || strings.Contains(out, "rror") {
				t.Errorf("the shell reported an error:\n%q", out)
			}
		})
	}
}
