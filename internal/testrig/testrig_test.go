package testrig

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestToolMissing runs TestToolMissingChild in a child process with and
// without AWSROLE_TEST_REQUIRE=all: a missing tool skips the test, or fails
// it when every test must run.
func TestToolMissing(t *testing.T) {
	for _, c := range []struct {
		require  string
		wantFail bool
		want     string
	}{
		{"", false, "--- SKIP: TestToolMissingChild"},
		{"all", true, "--- FAIL: TestToolMissingChild"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestToolMissingChild$", "-test.v")
		cmd.Env = append(os.Environ(), "AWSROLE_TESTRIG_CHILD=1", "AWSROLE_TEST_REQUIRE="+c.require)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != c.wantFail {
			t.Errorf("AWSROLE_TEST_REQUIRE=%q: child failed %v, want %v\n%s", c.require, failed, c.wantFail, out)
		}
		if !strings.Contains(string(out), c.want) || !strings.Contains(string(out), "no-such-tool-awsrole is not on PATH (apt-get install it)") {
			t.Errorf("AWSROLE_TEST_REQUIRE=%q: child output lacks %q and the reason:\n%s", c.require, c.want, out)
		}
	}
}

func TestToolMissingChild(t *testing.T) {
	if os.Getenv("AWSROLE_TESTRIG_CHILD") != "1" {
		t.Skip("run by TestToolMissing")
	}
	Tool(t, "no-such-tool-awsrole", "apt-get install it")
	t.Error("Tool returned for a missing program")
}

func TestToolFound(t *testing.T) {
	if p := Tool(t, "sh", "it is POSIX"); !strings.HasSuffix(p, "/sh") {
		t.Errorf("Tool(sh) = %q", p)
	}
}
