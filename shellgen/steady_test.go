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

// nushell and elvish compare watched files by what they hold, read when the
// facts are rendered: a file changed after the mark (perhaps not what the
// call read) gets no facts, and the hook asks at the next prompt; one
// unchanged since gets them, the leave code either way.
func TestContentFactsOnlyUnchangedSinceMark(t *testing.T) {
	dir := t.TempDir()
	mark, file := filepath.Join(dir, "mark"), filepath.Join(dir, ".awsrole.toml")
	for _, p := range []string{mark, file} {
		if err := os.WriteFile(p, []byte("role_arn = \"x\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	if err := os.Chtimes(mark, now.Add(-time.Minute), now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	key := "AKIAUSER"
	f := Facts{File: file, Mark: mark, Deadline: now.Unix() + 3600, Watch: []string{dir, filepath.Join(dir, "missing")},
		Leave: []Restore{{Name: "AWS_ACCESS_KEY_ID", Original: &key}}}
	for _, c := range []struct {
		age  time.Duration
		want bool
	}{{-2 * time.Minute, true}, {0, false}} {
		if err := os.Chtimes(file, now.Add(c.age), now.Add(c.age)); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(dir, now.Add(-2*time.Minute), now.Add(-2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		// elvish's clock is the boot clock: without it, no facts.
		_, boot := bootDeadline(f.Deadline, now)
		el, err := Steady("elvish", f)
		if err != nil || !strings.Contains(el, "__awsrole_leave") || strings.Contains(el, "__awsrole_steady") != (c.want && boot) {
			t.Errorf("elvish, file %v old: facts %v, want %v (%v)\n%s", -c.age, !c.want, c.want && boot, err, el)
		}
		n, err := Steady("nu", f)
		if err != nil || (n != "") != c.want {
			t.Errorf("nu, file %v old: facts %q, want some: %v (%v)", -c.age, n, c.want, err)
		}
	}
}
