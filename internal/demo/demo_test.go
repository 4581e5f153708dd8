package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoRuns: README's first command, `go run ./internal/demo`, runs to
// its end from the repository root, and STS and the portal saw what it
// promises: the role assumed with alice's own key, the SSO role fetched
// with her sign-in. (Outside -short: it builds both binaries.)
func TestDemoRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds awsrole and drives bash: not in the fast loop")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", "./internal/demo")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run ./internal/demo: %v\n%s", err, out)
	}
	for _, want := range []string{
		"STS saw AssumeRole arn:aws:iam::222222222222:role/deploy, signed with key " + userKey + " (alice's own: true)",
		"the IAM Identity Center portal saw GetRoleCredentials for Platform in account 333333333333, with alice's sign-in",
		"active:  sso:333333333333/Platform",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "(alice's own: false)") {
		t.Errorf("STS saw a call signed with another key:\n%s", out)
	}
}
