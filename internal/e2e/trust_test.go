package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

// 2. Trust states in a real shell (issue 3): blocked → one notice, however
// many prompts → allow → entered → an edit revokes: the role is left and a
// notice says so → deny → stays blocked. The stub's log proves that no STS
// call happens while the file is blocked.
func TestTrustStates(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, map[string]*string{"AWS_PROFILE": sp("corp"), "AWS_SESSION_TOKEN": sp("")})
		r.install(kind)
		a := r.project("a", roleDeploy, "e2e-trust", "eu-west-1", false)
		file := filepath.Join(a, ".awsrole.toml")
		r.settle()
		s := r.startShell(kind, "", nil)
		before := s.Managed()

		// noticeAfter runs cmd and then three empty command lines (the
		// user pressing enter), and returns the awsrole: lines all of it
		// showed.
		noticeAfter := func(cmd string) []string {
			t.Helper()
			_, full := s.RunFull(cmd)
			lines := awsroleLines(full)
			for i := 0; i < 3; i++ {
				p := s.Begin(":")
				_, full := s.Finish(p)
				lines = append(lines, awsroleLines(full)...)
			}
			return lines
		}
		noSTS := func(what string, n int) {
			t.Helper()
			if calls := r.Stub.Calls(); len(calls) != n {
				t.Errorf("%s: the stub saw %d calls, want %d (no STS call for a blocked file):\n%s", what, len(calls), n, hermetic.DescribeCalls(calls))
			}
		}

		// Blocked.
		lines := noticeAfter(s.Cd(a))
		if len(lines) != 1 || !strings.Contains(lines[0], file) || !strings.Contains(lines[0], "awsrole allow") {
			t.Errorf("blocked: want exactly one notice naming %s and 'awsrole allow' over four prompts, got %q", file, lines)
		}
		wantSame(t, "in the blocked project", before, s.Managed())
		noSTS("blocked", 0)

		// Allowed: the next prompt enters.
		_, full := s.RunFull("awsrole allow")
		for _, l := range awsroleLines(full) {
			if !strings.HasPrefix(l, "awsrole: allowed "+file) {
				t.Errorf("awsrole allow and the prompt after it printed %q", l)
			}
		}
		in := s.Managed()
		wantActive(t, r, "after awsrole allow", in, roleDeploy, a, "eu-west-1")
		wantAssumes(t, r, "e2e-trust", 1)
		n := len(r.Stub.Calls())

		// An edit revokes the approval: the role is left at the next prompt.
		r.settle() // the edit is surely newer than the last call's mark
		r.appendFile(filepath.Join("a", ".awsrole.toml"), "# a comment\n")
		lines = noticeAfter("true")
		if len(lines) != 1 || !strings.Contains(lines[0], file) || !strings.Contains(lines[0], "not allowed") {
			t.Errorf("after an edit: want exactly one notice that %s is not allowed, got %q", file, lines)
		}
		wantSame(t, "after the approved file was edited", before, s.Managed())
		noSTS("after the edit", n)

		// Denied: stays blocked, whatever the prompts.
		s.Run("awsrole deny")
		lines = noticeAfter(s.Cd(filepath.Join(r.Home)) + "; " + s.Cd(a))
		for _, l := range lines {
			if !strings.Contains(l, "denied") {
				t.Errorf("denied: unexpected line %q", l)
			}
		}
		if len(lines) > 1 {
			t.Errorf("denied: the notice came %d times: %q", len(lines), lines)
		}
		wantSame(t, "in the denied project", before, s.Managed())
		noSTS("denied", n)
		status := s.Run("awsrole status")
		if !strings.Contains(status, "(denied)") || !strings.Contains(status, "nothing in this shell") {
			t.Errorf("awsrole status in the denied project:\n%s", status)
		}

		s.Run(s.Cd(r.Home))
		wantSame(t, "after leaving", before, s.Managed())
		noSTS("at the end", n)
	})
}

// TestDenyWhileActiveLeaves: `awsrole deny` of an active project, run from
// another terminal, is seen at this shell's next prompt, whose fast path watches the file's own trust
// entries: the role is left and the user's values are back.
func TestDenyWhileActiveLeaves(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, nil)
		r.install(kind)
		a := r.project("a", roleDeploy, "e2e-deny-active", "eu-west-1", true)
		s := r.startShell(kind, "", nil)
		before := s.Managed()
		s.Run(s.Cd(a))
		wantActive(t, r, "entered", s.Managed(), roleDeploy, a, "eu-west-1")
		s.Run("true") // a steady prompt: the fast path from here on
		// Denied from another terminal: nothing in this shell ran awsrole.
		deny := exec.Command(awsroleBin, "deny", a)
		deny.Env = r.Environ(nil)
		if out, err := deny.CombinedOutput(); err != nil {
			t.Fatalf("awsrole deny: %v\n%s", err, out)
		}
		s.Run("true")
		wantSame(t, "after awsrole deny", before, s.Managed())
	})
}
