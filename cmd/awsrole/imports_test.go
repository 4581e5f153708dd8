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
