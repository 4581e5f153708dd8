package main

import (
	"os/exec"
	"strings"
	"testing"
)

// cmd/awsrole reaches project files, the trust store and the shells' state
// through the engine only (engine.Resolve and its facade): a command that
// read them itself would be a seventh copy of the pipeline.
func TestImportsNeitherDirconfigNorState(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, imp := range strings.Fields(string(out)) {
		switch imp {
		case "github.com/awsrole/awsrole/dirconfig", "github.com/awsrole/awsrole/internal/state":
			t.Errorf("cmd/awsrole imports %s; go through internal/engine (Resolve)", imp)
		}
	}
	if !strings.Contains(string(out), "github.com/awsrole/awsrole/internal/engine") {
		t.Errorf("go list printed no engine import: %q", out)
	}
}

// TestLinks: the prompt's awsrole links neither the AWS SDK nor the
// keyring library (nor D-Bus, which it connects to as it starts), and
// awsrole-sts, run at every renewal, not the keyring either: only
// awsrole-keyring does.
func TestLinks(t *testing.T) {
	for pkg, banned := range map[string][]string{
		".":                  {"github.com/aws/aws-sdk-go-v2", "github.com/99designs/keyring", "github.com/godbus/dbus"},
		"../awsrole-sts":     {"github.com/99designs/keyring", "github.com/godbus/dbus"},
		"../awsrole-keyring": {},
	} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range banned {
				if strings.HasPrefix(dep, b) {
					t.Errorf("%s links %s", pkg, dep)
				}
			}
		}
		if pkg == "../awsrole-keyring" && !strings.Contains(string(out), "github.com/99designs/keyring\n") {
			t.Errorf("awsrole-keyring does not link the keyring library; the test no longer tests anything")
		}
	}
}
