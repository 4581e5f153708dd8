package ptyshell

import (
	"os/exec"
	"testing"

	"github.com/awsrole/awsrole/internal/testrig"
	"github.com/awsrole/awsrole/shellgen"
)

func TestEveryShellHasARow(t *testing.T) {
	for _, kind := range shellgen.Names(shellgen.UsePrompt) {
		if _, ok := Table[kind]; !ok {
			t.Errorf("shell %s has no row in the shell driver's table", kind)
		}
	}
}

// TestQuoteInBash: a quoted word with every byte class comes back byte for
// byte through a real bash (the other shells: e2e's scenarios).
func TestQuoteInBash(t *testing.T) {
	bash := testrig.Tool(t, "bash", "apt-get install bash")
	const in = "it's \"odd\" $HOME `x` \\ \t\x01 é"
	out, err := exec.Command(bash, "-c", "printf %s "+Quote("bash", in)).Output()
	if err != nil || string(out) != in {
		t.Errorf("bash printed %q, %v; want %q", out, err, in)
	}
}

func TestCleanAndParseEnv0(t *testing.T) {
	if got := Clean("\x1b[1;32mok\x1b[0m\r\x07"); got != "ok" {
		t.Errorf("Clean = %q", got)
	}
	env := ParseEnv0(t, "A=1\x00B=\x00C=x=y\x00")
	if *env["A"] != "1" || *env["B"] != "" || *env["C"] != "x=y" || env["D"] != nil {
		t.Errorf("ParseEnv0 = %v", env)
	}
}

// TestRunInBash drives a real interactive bash: Run returns what the line
// printed, Env reads the environment back, LastStatus the exit status.
func TestRunInBash(t *testing.T) {
	testrig.Slow(t)
	bash := testrig.Tool(t, "bash", "apt-get install bash")
	home := t.TempDir()
	testrig.Write(t, home, Table["bash"].RC, Table["bash"].Prompt)
	s := Start(t, "bash", bash, home, []string{"HOME=" + home, "TERM=dumb", "PATH=/usr/bin:/bin", "X=before"})
	if got := s.Run("echo hello"); got != "hello\n" {
		t.Errorf("Run = %q", got)
	}
	s.Run(s.Export("X", "a b"))
	if v := s.Env()["X"]; v == nil || *v != "a b" {
		t.Errorf("X after export = %v", v)
	}
	sent := s.Len()
	s.Send("false")
	if got := s.StatusOr(sent, "1"); got != "1" {
		t.Errorf("LastStatus after false = %q", got)
	}
}
