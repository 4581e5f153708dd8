package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/testrig/ptyshell"
)

// 6. `awsrole exec` typed in a real shell with the hook, outside any
// project (issue 4): the child has the role, its exit status and signals
// pass straight through, and the calling shell is left as it was.

// childOf waits for a process named comm whose parent is ppid and returns
// its pid.
func childOf(t *testing.T, ppid int, comm string) int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if err != nil {
				continue
			}
			// pid (comm) state ppid ...
			s := string(stat)
			i := strings.LastIndexByte(s, ')')
			if i < 0 || s[strings.IndexByte(s, '(')+1:i] != comm {
				continue
			}
			if f := strings.Fields(s[i+1:]); len(f) > 1 && f[1] == strconv.Itoa(ppid) {
				return pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s process with parent %d within 15s", comm, ppid)
	return 0
}

func TestExec(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, map[string]*string{"AWS_SESSION_TOKEN": sp(""), "AWS_DEFAULT_PROFILE": sp("corp")})
		r.install(kind)
		p := r.project("p", roleDeploy, "e2e-exec", "eu-west-1", true)
		r.settle()
		s := r.startShell(kind, "", nil)
		before := s.Managed()

		// The child sees the role; the status comes back.
		sent := s.Len()
		s.Send(`awsrole exec --dir ` + ptyshell.Quote(kind, p) + ` -- sh -c 'echo key=$AWS_ACCESS_KEY_ID arn=$AWSROLE_ARN profile=${AWS_DEFAULT_PROFILE-unset}; exit 3'`)
		if got := s.StatusOr(sent, "3"); got != "3" {
			t.Errorf("exit status of awsrole exec -- sh -c 'exit 3': %q, want 3", got)
		}
		out := s.Transcript()
		cp, stderr, st := r.run(r.Home, nil, "credential-process", "--dir", p)
		var cpj struct{ AccessKeyId string }
		if st != 0 || json.Unmarshal([]byte(cp), &cpj) != nil {
			t.Fatalf("awsrole credential-process: %d %q %q", st, cp, stderr)
		}
		if want := fmt.Sprintf("key=%s arn=%s profile=unset", cpj.AccessKeyId, roleDeploy); !strings.Contains(out, want) {
			t.Errorf("the child of awsrole exec: want %q on the terminal; transcript:\n%s", want, s.Tail())
		}
		wantAssumes(t, r, "e2e-exec", 1)
		wantSame(t, "the calling shell after awsrole exec", before, s.Managed())

		// Ctrl-C reaches the command: it ends at once, the prompt returns.
		pend := s.Begin("awsrole exec --dir " + ptyshell.Quote(kind, p) + " -- sleep 30")
		child := childOf(t, s.Pid(), "sleep")
		// Right after execve the name is already "sleep" while the
		// environment is not readable yet: read until it is.
		var env []byte
		for i := 0; i < 100 && len(env) == 0; i++ {
			env, _ = os.ReadFile(fmt.Sprintf("/proc/%d/environ", child))
			if len(env) == 0 {
				time.Sleep(20 * time.Millisecond)
			}
		}
		if !strings.Contains("\x00"+string(env), "\x00AWSROLE_ARN="+roleDeploy+"\x00") {
			t.Errorf("the sleep started by awsrole exec has no AWSROLE_ARN=%s in its environment (%d bytes)", roleDeploy, len(env))
		}
		start := time.Now()
		s.Interrupt()
		s.WaitPrompt(pend)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Ctrl-C during awsrole exec -- sleep 30: the prompt came back after %s", d)
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", child)); err == nil {
			if stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child)); !strings.Contains(string(stat), ") Z ") {
				t.Errorf("sleep (pid %d) still runs after Ctrl-C", child)
			}
		}
		if kind != "fish" { // fish cancels the whole line and reports no status for it
			if got := s.StatusOr(0, ptyshell.Table[kind].Sigint); got != ptyshell.Table[kind].Sigint {
				t.Errorf("status after Ctrl-C during awsrole exec -- sleep: %q, want %s (killed by SIGINT)", got, ptyshell.Table[kind].Sigint)
			}
		}
		if got := strings.TrimSpace(s.Run("echo alive")); got != "alive" {
			t.Errorf("after Ctrl-C during awsrole exec: echo printed %q", got)
		}
		wantSame(t, "the calling shell after Ctrl-C in awsrole exec", before, s.Managed())

		// An interactive shell with the hook, started by exec in the
		// project (env -C: the calling shell stays where it is): the role
		// is active in it from its first prompt on, on the snapshot exec
		// left, and leaving restores the user's own values, not the role's.
		n := s.Len()
		s.Send("env -C " + ptyshell.Quote(kind, p) + " awsrole exec -- " + kind + " -i")
		s.WaitFor(n, ptyshell.PromptMark+"2> ")
		wantActive(t, r, "in the shell started by awsrole exec, at its first prompt", s.Managed(), roleDeploy, p, "eu-west-1")
		s.Run(s.Cd(r.Home))
		wantSame(t, "the shell started by awsrole exec, after cd out", before, s.Managed())
		s.Run(s.Cd(p))
		wantActive(t, r, "the shell started by awsrole exec, back in the project", s.Managed(), roleDeploy, p, "eu-west-1")
		s.Unnest()
		wantSame(t, "the calling shell after the exec'd shell exited", before, s.Managed())
		// One AssumeRole for everything, all signed with the user's key.
		wantAssumes(t, r, "e2e-exec", 1)
	})
}
