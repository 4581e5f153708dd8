package e2e

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const confirmQuestion = "Enter role deploy@222222222222 (prod)? [y/N]"

// confirmProject writes and allows a project with confirm = true.
func (r *rig) confirmProject(dir, session string) string {
	r.t.Helper()
	p := r.write(dir+"/.awsrole.toml", "role_arn = \""+roleDeploy+"\"\nsession_name = \""+session+"\"\nregion = \"eu-west-1\"\nenvironment = \"prod\"\nconfirm = true\n")
	d := strings.TrimSuffix(p, "/.awsrole.toml")
	r.awsrole(d, "allow", d)
	return d
}

// declines counts the "not entering" lines in text.
func declines(text string) int {
	n := 0
	for _, l := range awsroleLines(text) {
		if strings.Contains(l, "not entering") {
			n++
		}
	}
	return n
}

// TestConfirm: on a terminal, y enters; n, an empty line and Ctrl-C leave
// the shell unchanged and say so once; the next prompts in the project do
// not ask again, either way; a new shell asks again.
func TestConfirm(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) { testConfirm(t, kind) })
}

func testConfirm(t *testing.T, kind string) {
	r := newRig(t, map[string]*string{"AWS_SESSION_TOKEN": sp("")})
	r.install(kind)
	p := r.confirmProject("prod", "e2e-confirm")
	r.settle()
	s := r.startShell(kind, "", nil)
	before := s.Managed()

	for _, answer := range []string{"n", "", "^C"} {
		pend := s.Begin(s.Cd(p))
		s.WaitFor(pend.Start, confirmQuestion)
		var full string
		if answer == "^C" {
			s.Interrupt()
			full = s.WaitPrompt(pend)
		} else {
			s.Send(answer)
			_, full = s.Finish(pend)
		}
		if n := declines(full); n != 1 {
			t.Errorf("answer %q: %d lines saying it did not enter, want 1:\n%s", answer, n, full)
		}
		wantSame(t, "after answering "+strconvQuote(answer), before, s.Managed())
		// The next prompt in the project asks nothing and says nothing.
		_, again := s.RunFull("true")
		if strings.Contains(again, "[y/N]") || declines(again) != 0 {
			t.Errorf("answer %q: the next prompt asked or said again:\n%s", answer, again)
		}
		s.Run(s.Cd(r.Home))
	}
	if n := len(r.assumeCalls("")); n != 0 {
		t.Errorf("declining made %d AssumeRole calls", n)
	}

	pend := s.Begin(s.Cd(p))
	s.WaitFor(pend.Start, confirmQuestion)
	s.Send("y")
	s.Finish(pend)
	wantActive(t, r, "after y", s.Managed(), roleDeploy, p, "eu-west-1")
	if env := s.Env()["AWSROLE_ENV"]; env == nil || *env != "prod" {
		t.Errorf("AWSROLE_ENV = %s, want \"prod\"", show(env))
	}
	if out := strings.TrimSpace(s.Run("awsrole status --short")); !strings.HasPrefix(out, "deploy@222222222222 (prod) ") {
		t.Errorf("status --short: %q", out)
	}
	if _, again := s.RunFull("true"); strings.Contains(again, "[y/N]") {
		t.Errorf("the second prompt in the project asked again:\n%s", again)
	}
	wantActive(t, r, "at the second prompt", s.Managed(), roleDeploy, p, "eu-west-1")
	s.Run(s.Cd(r.Home))
	wantSame(t, "after leaving", before, s.Managed())

	// A new shell asks again.
	s2 := r.startShell(kind, "", nil)
	pend = s2.Begin(s2.Cd(p))
	s2.WaitFor(pend.Start, confirmQuestion)
	s2.Send("yes")
	s2.Finish(pend)
	wantActive(t, r, "the new shell after yes", s2.Managed(), roleDeploy, p, "eu-west-1")
}

// TestConfirmNoTerminal: without a terminal the hook refuses with one
// line and changes nothing; exec refuses unless --yes.
func TestConfirmNoTerminal(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, map[string]*string{"AWS_SESSION_TOKEN": sp("")})
	p := r.confirmProject("prod", "e2e-confirm-notty")
	run := func(args ...string) (string, string) {
		cmd := exec.Command("setsid", append([]string{"-w", awsroleBin}, args...)...)
		cmd.Dir = p
		cmd.Env = r.Environ(map[string]*string{"PWD": sp(p)})
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		_ = cmd.Run()
		return stdout.String(), stderr.String()
	}
	out, errOut := run("export", "bash", "--pid", "4194001")
	if strings.Contains(out, "AWS_ACCESS_KEY_ID") {
		t.Errorf("export without a terminal entered the role: %q", out)
	}
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "no terminal") {
		t.Errorf("stderr without a terminal: %q, want one line saying there is no terminal", errOut)
	}
	if _, errOut := run("exec", "--", "true"); !strings.Contains(errOut, "--yes") {
		t.Errorf("exec without a terminal: %q, want a refusal naming --yes", errOut)
	}
	if out, errOut := run("exec", "--yes", "--", "sh", "-c", "echo $AWSROLE_ENV"); strings.TrimSpace(out) != "prod" {
		t.Errorf("exec --yes: %q %q", out, errOut)
	}
	if out, _ := run("credential-process", "--yes"); !strings.Contains(out, "AccessKeyId") {
		t.Errorf("credential-process --yes: %q", out)
	}
	if n := len(r.assumeCalls("")); n != 1 {
		t.Errorf("%d AssumeRole calls, want 1 (the approved ones, cached)", n)
	}
}
