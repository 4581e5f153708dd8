package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/internal/testrig/ptyshell"

	"github.com/awsrole/awsrole/internal/stsstub"

	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

// MFA (issue 3): the code is asked for on the terminal, never on stdout
// (which the hook evaluates); one code serves every role with the same
// device; a wrong code or Ctrl-C leaves the shell as it was.

const (
	mfaSerial = "arn:aws:iam::111111111111:mfa/alice"
	mfaCode   = "123456"
	// What awsrole writes to /dev/tty before reading a code.
	mfaPromptText = "awsrole: MFA code for " + mfaSerial
)

// mfaProject writes a project whose file names the MFA device.
func (r *rig) mfaProject(dir, role, session, region string) string {
	r.t.Helper()
	p := r.project(dir, role, session, region, false)
	r.appendFile(filepath.Join(dir, ".awsrole.toml"), "mfa_serial = \""+mfaSerial+"\"\n")
	r.awsrole(p, "allow", p)
	return p
}

// calledN returns the stub's calls of one action.
func calledN(r *rig, action string) []stsstub.Call {
	var out []stsstub.Call
	for _, c := range r.Stub.Calls() {
		if c.Action == action {
			out = append(out, c)
		}
	}
	return out
}

// errorLines are the awsrole: lines of text other than the MFA prompt itself.
func errorLines(text string) []string {
	var out []string
	for _, l := range awsroleLines(text) {
		if !strings.HasPrefix(l, "awsrole: MFA code for") {
			out = append(out, l)
		}
	}
	return out
}

// enterWithCode cds into dir, waits for the MFA prompt on the terminal,
// types code (or Ctrl-C when code is "^C") and returns what the terminal
// showed from the command line to the next prompt.
func enterWithCode(t *testing.T, s *shell, dir, code string) string {
	t.Helper()
	p := s.Begin(s.Cd(dir))
	s.WaitFor(p.Start, mfaPromptText)
	if code == "^C" {
		s.Interrupt()
		return s.WaitPrompt(p)
	}
	s.Send(code)
	_, full := s.Finish(p)
	return full
}

// 1. Prompted once on the terminal, code typed, role reached; a second role
// with the same device needs no second code.
func TestMFAPrompt(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, map[string]*string{"AWS_SESSION_TOKEN": sp(""), "AWS_PROFILE": nil})
		// B gets the device from the user config, A names it in its file.
		r.userConfig("mfa_serial = \"" + mfaSerial + "\"\n")
		r.Stub.RequireMFA(roleDeploy, mfaSerial, mfaCode)
		r.Stub.RequireMFA(roleAudit, mfaSerial, mfaCode)
		r.install(kind)
		a := r.mfaProject("a", roleDeploy, "e2e-mfa-a", "eu-west-1")
		// Same region as A: TestMFASessionAcrossRegions is about regions.
		b := r.project("b", roleAudit, "e2e-mfa-b", "eu-west-1", true)
		s := r.startShell(kind, "", nil)
		before := s.Managed()

		full := enterWithCode(t, s, a, mfaCode)
		if lines := errorLines(full); len(lines) != 0 {
			t.Errorf("entering A with the right code printed %q", lines)
		}
		wantActive(t, r, "in A after the code", s.Managed(), roleDeploy, a, "eu-west-1")
		if got, want := callerArn(s), "arn:aws:sts::222222222222:assumed-role/deploy/e2e-mfa-a"; got != want {
			t.Errorf("get-caller-identity in A: %q, want %q", got, want)
		}
		gst := calledN(r, "GetSessionToken")
		if len(gst) != 1 || gst[0].SerialNumber != mfaSerial || gst[0].TokenCode != mfaCode || gst[0].AccessKeyID != userKey || gst[0].Status != 200 {
			t.Errorf("want one successful GetSessionToken with %s and the typed code, signed with the user's key; stub log:\n%s", mfaSerial, hermetic.DescribeCalls(r.Stub.Calls()))
		}
		for _, c := range calledN(r, "AssumeRole") {
			if c.AccessKeyID == userKey || !strings.HasPrefix(c.AccessKeyID, "ASIA") {
				t.Errorf("AssumeRole of %s signed with %s, want the MFA session's key; stub log:\n%s", c.RoleArn, c.AccessKeyID, hermetic.DescribeCalls(r.Stub.Calls()))
			}
			if c.DurationSeconds > 3600 {
				t.Errorf("AssumeRole from an MFA session asked for %d s, more than STS's 1 h cap for it", c.DurationSeconds)
			}
		}

		// B: the same device; no second prompt.
		p := s.Begin(s.Cd(b))
		bi := s.WaitFor(p.Start, "@@b"+strconv.Itoa(p.Seq)+"@@")
		// The next prompt comes after the hook is done (bash runs it at the
		// prompt, zsh and fish inside cd): a code prompt would come first.
		if i, _ := s.WaitAny(bi, mfaPromptText, ptyshell.PromptMark); i == 0 {
			t.Errorf("entering B (same MFA device) asked for a code again; stub log:\n%s", hermetic.DescribeCalls(r.Stub.Calls()))
			s.Send(mfaCode)
		}
		s.Finish(p)
		inB := s.Managed()
		wantActive(t, r, "in B", inB, roleAudit, b, "eu-west-1")
		if n := len(calledN(r, "GetSessionToken")); n != 1 {
			t.Errorf("GetSessionToken calls after entering B with the same device: %d, want 1; stub log:\n%s", n, hermetic.DescribeCalls(r.Stub.Calls()))
		}
		if n := r.Stub.Count("AssumeRole"); n != 2 {
			t.Errorf("successful AssumeRole calls after A and B: %d, want 2; stub log:\n%s", n, hermetic.DescribeCalls(r.Stub.Calls()))
		}

		s.Run(s.Cd(r.Home))
		wantSame(t, "after leaving", before, s.Managed())
	})
}

// 1b. A wrong code, then Ctrl-C at the prompt: one line each, the shell as
// it was, the prompt back and working; then the right code still works.
func TestMFAWrongCodeAndCtrlC(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, nil)
		r.Stub.RequireMFA(roleDeploy, mfaSerial, mfaCode)
		r.install(kind)
		a := r.mfaProject("a", roleDeploy, "e2e-mfa-w", "eu-west-1")
		s := r.startShell(kind, "", nil)
		before := s.Managed()

		full := enterWithCode(t, s, a, "654321")
		lines := errorLines(full)
		if len(lines) != 1 || !strings.Contains(lines[0], roleDeploy) {
			t.Errorf("a wrong MFA code: want one awsrole: line naming %s, got %q (terminal: %q)", roleDeploy, lines, full)
		}
		for _, l := range lines {
			if strings.Contains(l, "654321") {
				t.Errorf("the error line repeats the MFA code: %q", l)
			}
		}
		wantSame(t, "after a wrong code", before, s.Managed())
		if _, full := s.RunFull("true"); len(awsroleLines(full)) > 0 {
			t.Errorf("the prompt after a wrong code printed %q", full)
		}
		if n := len(calledN(r, "AssumeRole")); n != 0 {
			t.Errorf("AssumeRole after a wrong code: %d calls, want none; stub log:\n%s", n, hermetic.DescribeCalls(r.Stub.Calls()))
		}

		// Leaving and coming back asks again: Ctrl-C at the prompt.
		s.Run(s.Cd(r.Home))
		gst := len(calledN(r, "GetSessionToken"))
		full = enterWithCode(t, s, a, "^C")
		lines = errorLines(full)
		if len(lines) != 1 {
			t.Errorf("Ctrl-C at the MFA prompt: want one awsrole: line, got %q (terminal: %q)", lines, full)
		}
		if n := len(calledN(r, "GetSessionToken")); n != gst {
			t.Errorf("Ctrl-C at the MFA prompt still called GetSessionToken; stub log:\n%s", hermetic.DescribeCalls(r.Stub.Calls()))
		}
		// The shell works: a command runs and the environment is as before.
		if got := strings.TrimSpace(s.Run("echo alive")); got != "alive" {
			t.Errorf("after Ctrl-C at the MFA prompt, echo printed %q; transcript:\n%s", got, s.Tail())
		}
		env := s.Managed()
		wantSame(t, "after Ctrl-C at the MFA prompt", before, env)

		// And the right code, after leaving and coming back, gets in.
		s.Run(s.Cd(r.Home))
		full = enterWithCode(t, s, a, mfaCode)
		if lines := errorLines(full); len(lines) != 0 {
			t.Errorf("the right code after the failures printed %q", lines)
		}
		wantActive(t, r, "after the right code", s.Managed(), roleDeploy, a, "eu-west-1")
	})
}

// 1c. The prompt goes to the terminal itself: with the export's stdout and
// stderr both sent to files, it still shows, and neither file has it.
func TestMFAPromptOnTTY(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, nil)
	r.Stub.RequireMFA(roleDeploy, mfaSerial, mfaCode)
	a := r.mfaProject("a", roleDeploy, "e2e-mfa-tty", "eu-west-1")
	// No hook: the export is run by hand, as the hook would.
	s := r.startShell("bash", a, nil)
	outF, errF := filepath.Join(r.Root, "export.out"), filepath.Join(r.Root, "export.err")
	p := s.Begin("awsrole export bash --pid $$ >" + ptyshell.Quote("bash", outF) + " 2>" + ptyshell.Quote("bash", errF) + "; echo status=$?")
	s.WaitFor(p.Start, mfaPromptText)
	s.Send(mfaCode)
	out, _ := s.Finish(p)
	if !strings.Contains(out, "status=0") {
		t.Errorf("awsrole export with the code typed: %q", out)
	}
	stdout, _ := os.ReadFile(outF)
	stderr, _ := os.ReadFile(errF)
	if bytes.Contains(stdout, []byte("MFA code")) || bytes.Contains(stderr, []byte("MFA code")) {
		t.Errorf("the MFA prompt went to stdout or stderr, not only the terminal:\nstdout: %q\nstderr: %q", stdout, stderr)
	}
	if bytes.Contains(stdout, []byte(mfaCode)) || bytes.Contains(stderr, []byte(mfaCode)) {
		t.Errorf("the MFA code appears in the export's output:\nstdout: %q\nstderr: %q", stdout, stderr)
	}
	if !bytes.Contains(stdout, []byte("AWS_SECRET_ACCESS_KEY")) {
		t.Errorf("export stdout has no credentials: %q (stderr %q)", stdout, stderr)
	}
}

// 1d. mfa_command in the user config: no prompt at all.
func TestMFACommand(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, nil)
		r.userConfig("mfa_command = \"echo " + mfaCode + "\"\n")
		r.Stub.RequireMFA(roleDeploy, mfaSerial, mfaCode)
		r.install(kind)
		a := r.mfaProject("a", roleDeploy, "e2e-mfa-cmd", "eu-west-1")
		s := r.startShell(kind, "", nil)
		start := s.Len()
		_, full := s.RunFull(s.Cd(a))
		if shown := ptyshell.Clean(s.Slice(start, s.Len())); strings.Contains(shown, "MFA code") || len(awsroleLines(full)) > 0 {
			t.Errorf("entering with mfa_command set showed %q", shown)
		}
		wantActive(t, r, "with mfa_command", s.Managed(), roleDeploy, a, "eu-west-1")
		if gst := calledN(r, "GetSessionToken"); len(gst) != 1 || gst[0].TokenCode != mfaCode {
			t.Errorf("want one GetSessionToken with mfa_command's code; stub log:\n%s", hermetic.DescribeCalls(r.Stub.Calls()))
		}
	})
}

// 1e. No terminal at all (CI, an editor): one line naming mfa_command,
// exit status 1, nothing on stdout, no STS call.
func TestMFANoTerminal(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, nil)
	r.Stub.RequireMFA(roleDeploy, mfaSerial, mfaCode)
	a := r.mfaProject("a", roleDeploy, "e2e-mfa-notty", "eu-west-1")
	cmd := exec.Command("setsid", "-w", awsroleBin, "export", "bash", "--pid", "4194000")
	cmd.Dir = a
	cmd.Env = r.Environ(map[string]*string{"PWD": sp(a)})
	// stdin /dev/null; setsid -w: its own session without a controlling
	// terminal, whatever go test has, and its exit status.
	cmd.Stdin = nil
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("awsrole export without a terminal: %v, want exit status 1", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout without a terminal: %q, want nothing", stdout.String())
	}
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "awsrole: ") || !strings.Contains(lines[0], "mfa_command") {
		t.Errorf("stderr without a terminal: %q, want one awsrole: line naming mfa_command", stderr.String())
	}
	if calls := r.Stub.Calls(); len(calls) != 0 {
		t.Errorf("STS calls without a code:\n%s", hermetic.DescribeCalls(calls))
	}
}

// 1f. One code per device, whatever region a project names: a session token
// from a regional STS endpoint is valid in every region of the partition,
// so a project in another region must not ask for a second code.
func TestMFASessionAcrossRegions(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, nil)
	r.userConfig("mfa_serial = \"" + mfaSerial + "\"\nmfa_command = \"echo " + mfaCode + "\"\n")
	r.Stub.RequireMFA(roleDeploy, mfaSerial, mfaCode)
	r.Stub.RequireMFA(roleAudit, mfaSerial, mfaCode)
	a := r.project("a", roleDeploy, "e2e-mfa-ra", "eu-west-1", true)
	b := r.project("b", roleAudit, "e2e-mfa-rb", "", true) // the user's us-east-1
	for i, dir := range []string{a, b} {
		out, stderr, st := r.run(dir, nil, "export", "json", "--pid", strconv.Itoa(4194200+i))
		if st != 0 || !strings.Contains(out, "AWS_SECRET_ACCESS_KEY") {
			t.Fatalf("awsrole export json in %s: exit %d, stdout %q, stderr %q", dir, st, out, stderr)
		}
	}
	if gst := calledN(r, "GetSessionToken"); len(gst) != 1 {
		t.Errorf("GetSessionToken calls for two roles with the same MFA device, in eu-west-1 and us-east-1: %d, want 1 (one code per device); stub log:\n%s", len(gst), hermetic.DescribeCalls(r.Stub.Calls()))
	}
}

// 1g. A role assumed from an MFA session is capped at 1 h by STS: awsrole
// caps the duration rather than fail, and `awsrole status` says so
// (issue 3: "cap and say so in status").
func TestMFADurationCap(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, nil)
	r.userConfig("mfa_command = \"echo " + mfaCode + "\"\n")
	r.Stub.RequireMFA(roleDeploy, mfaSerial, mfaCode)
	a := r.project("a", roleDeploy, "e2e-mfa-cap", "eu-west-1", false)
	r.appendFile(filepath.Join("a", ".awsrole.toml"), "mfa_serial = \""+mfaSerial+"\"\nduration = \"2h\"\n")
	r.awsrole(a, "allow", a)
	out, stderr, st := r.run(a, nil, "export", "json", "--pid", "4194300")
	if st != 0 || !strings.Contains(out, "AWS_SECRET_ACCESS_KEY") {
		t.Fatalf("awsrole export json with duration 2h and MFA: exit %d, stdout %q, stderr %q", st, out, stderr)
	}
	for _, c := range calledN(r, "AssumeRole") {
		if c.DurationSeconds != 3600 {
			t.Errorf("AssumeRole from the MFA session asked for %d s, want 3600 (capped)", c.DurationSeconds)
		}
	}
	status, _, _ := r.run(a, nil, "status")
	if l := strings.ToLower(status); !strings.Contains(l, "1h") || !strings.Contains(l, "cap") {
		t.Errorf("awsrole status for a 2h role behind MFA does not say it is capped at 1h:\n%s", status)
	}
}
