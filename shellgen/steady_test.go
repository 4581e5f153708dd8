package shellgen

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The leave code restores only the variables awsrole manages, whatever
// it is given.
func TestSteadyRefusesUnmanagedNames(t *testing.T) {
	evil := "/tmp/evil.sh"
	key := "AKIAUSER"
	mark := filepath.Join(t.TempDir(), "mark")
	if err := os.WriteFile(mark, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var fast []string // the shells whose hook has a fast path
	for _, dialect := range Names(UsePrompt) {
		out, err := Steady(dialect, Facts{Mark: mark, Leave: []Restore{{Name: "AWS_ACCESS_KEY_ID", Original: &key}}})
		if err != nil {
			t.Fatalf("Steady(%s): %v", dialect, err)
		}
		if out != "" {
			fast = append(fast, dialect)
		}
	}
	if len(fast) < 3 {
		t.Errorf("shells with a fast path: %v, want at least bash, zsh and fish", fast)
	}
	for _, name := range []string{"BASH_ENV", "LD_PRELOAD", "PATH", "AWSROLE_STATE"} {
		for _, dialect := range fast {
			_, err := Steady(dialect, Facts{Mark: mark, Leave: []Restore{{Name: name, Original: &evil}}})
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("Steady(%s) restoring %s: err = %v, want a refusal", dialect, name, err)
			}
		}
	}
	out, err := Steady("bash", Facts{Mark: mark, Leave: []Restore{{Name: "AWS_ACCESS_KEY_ID", Original: &key}}})
	if err != nil || !strings.Contains(out, "AWS_ACCESS_KEY_ID") {
		t.Errorf("Steady restoring AWS_ACCESS_KEY_ID: %q, %v", out, err)
	}
}

// The fish hook's renewal deadline on the boot clock it reads from
// /proc/uptime: the same instant, a second early at most two, and never
// more than bootHorizon ahead.
func TestBootDeadline(t *testing.T) {
	data, err := os.ReadFile(uptimeFile)
	if err != nil {
		t.Skipf("no boot clock here (%v): the fish hook uses the mark's age", err)
	}
	now := time.Now()
	whole, _, _ := strings.Cut(string(data), ".")
	up, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ in, want int64 }{
		{100, 100},
		// At most bootHorizon ahead: the boot clock misses wall-clock steps.
		{3600, bootHorizon},
	} {
		got, ok := bootDeadline(now.Unix()+c.in, now)
		if !ok || got < up+c.want-2 || got > up+c.want {
			t.Errorf("bootDeadline(now+%d) = %d, %v; want %d..%d (uptime %d s)", c.in, got, ok, up+c.want-2, up+c.want, up)
		}
	}
	if got, ok := bootDeadline(fishNever, now); !ok || got != fishNever {
		t.Errorf("bootDeadline(never) = %d, %v; want never", got, ok)
	}
}
