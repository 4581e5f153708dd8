package hooks_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/shellgen"
)

// The fish hook's steady check reads one of two clocks: the boot clock of
// /proc/uptime when the binary rendered a deadline on it, else the mark's
// age. Each must hold before its deadline and fail after it, in real fish.
func TestFishSteadyClocks(t *testing.T) {
	needShell(t, "fish")
	code, err := shellgen.Hook("fish", "/nonexistent/awsrole")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	proj := filepath.Join(dir, "proj")
	if err := os.MkdirAll(proj, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(proj, ".awsrole.toml")
	mark := filepath.Join(dir, "mark")
	old := time.Now().Add(-time.Minute)
	for _, p := range []string{file, mark} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(file, old, old); err != nil {
		t.Fatal(err)
	}
	hook := filepath.Join(dir, "hook.fish")
	if err := os.WriteFile(hook, []byte(code), 0o600); err != nil {
		t.Fatal(err)
	}
	// The state a call leaves in proj; $argv[1] the ttl, $argv[2] the boot
	// deadline (0 for none).
	script := fmt.Sprintf(`builtin cd %[2]s
source %[1]s
set -gu __awsrole_mark %[3]s
set -gu __awsrole_state s
set -gx AWSROLE_STATE s
set -gu __awsrole_file %[4]s
set -gu __awsrole_ttl $argv[1]
set -gu __awsrole_boot $argv[2]
set -gu __awsrole_watch ! %[4]s -nt %[3]s -a -n x
__awsrole_steady
echo status=$status`, hook, proj, mark, file)
	var up int64
	if data, err := os.ReadFile("/proc/uptime"); err == nil {
		fmt.Sscanf(string(data), "%d", &up)
	}
	type tcase struct {
		name string
		args []string
		want string
	}
	cases := []tcase{
		{"mark's age before the ttl", []string{"100", "0"}, "status=0"},
		{"mark's age past the ttl", []string{"0", "0"}, "status=1"},
	}
	if up > 0 {
		cases = append(cases,
			tcase{"boot clock before the deadline", []string{"0", fmt.Sprint(up + 100)}, "status=0"},
			tcase{"boot clock past the deadline", []string{"100", fmt.Sprint(up - 1)}, "status=1"})
	}
	for _, c := range cases {
		out, err := exec.Command("fish", append([]string{"--no-config", "-c", script, "--"}, c.args...)...).CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || !strings.HasSuffix(got, c.want) || strings.Count(got, "\n") > 0 {
			t.Errorf("%s: %q, %v; want only %q", c.name, got, err, c.want)
		}
	}
}
