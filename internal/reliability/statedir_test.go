package reliability

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	roleStateA = "arn:aws:iam::222222222222:role/state-a"
	roleStateB = "arn:aws:iam::222222222222:role/state-b"
)

// TestStateDirUnusable makes the directory awsrole keeps snapshots in
// unusable in the ways a user's machine can: something else where it should
// be, someone else's, writable by others. Entering says so on one line and
// changes nothing, and STS is not asked again at every prompt.
func TestStateDirUnusable(t *testing.T) {
	t.Parallel()
	timed(t)
	cases := []struct {
		name  string
		spoil func(t *testing.T, w *world)
		says  []string
	}{
		{"snapshots-is-a-file", func(t *testing.T, w *world) {
			mkdir(t, w.stateDir(), 0o700)
			writeFile(t, w.snapshotsDir(), []byte("not a directory\n"))
		}, []string{"snapshots"}},
		{"state-root-is-a-file", func(t *testing.T, w *world) {
			os.MkdirAll(filepath.Dir(w.stateDir()), 0o755)
			writeFile(t, w.stateDir(), []byte("not a directory\n"))
		}, []string{"awsrole"}},
		{"snapshots-group-writable", func(t *testing.T, w *world) {
			mkdir(t, w.snapshotsDir(), 0o770)
		}, []string{"writable by group or others"}},
		{"snapshots-other-owner", func(t *testing.T, w *world) {
			mkdir(t, w.snapshotsDir(), 0o700)
			if err := os.Chown(w.snapshotsDir(), otherUID, otherUID); err != nil {
				t.Skip("cannot give a directory away:", err)
			}
		}, []string{"owned by uid"}},
		{"snapshots-symlink", func(t *testing.T, w *world) {
			elsewhere := filepath.Join(w.Root, "elsewhere")
			mkdir(t, elsewhere, 0o700)
			mkdir(t, w.stateDir(), 0o700)
			if err := os.Symlink(elsewhere, w.snapshotsDir()); err != nil {
				t.Fatal(err)
			}
		}, []string{"snapshots"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			proj := w.project("state-a", roleStateA, "")
			c.spoil(t, w)
			sh := mustShell(t, w, w.Home, w.Env)
			r := sh.mustStep(t, proj)
			checkFailure(t, r, c.says...)
			t.Logf("%s", strings.TrimSpace(r.Stderr))
			n := calls(w.Stub)
			for i := 0; i < 3; i++ {
				r = sh.mustStep(t, proj)
				checkNoCrash(t, r)
				if r.Stderr != "" {
					checkFailure(t, r, c.says...)
				}
				if d := managedDiff(sh.Orig, r.After); d != "" {
					t.Errorf("prompt %d: the shell's own values changed:\n%s", i+2, d)
				}
			}
			if got := calls(w.Stub) - n; got > 0 {
				t.Errorf("the prompts after the failure sent %d more requests to STS", got)
			}
		})
	}
}

func mkdir(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(dir, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

// TestStateDirReadOnly runs a shell in its own mount namespace, enters a
// project, then makes the state directory read-only: switching to another
// project fails on one line and leaves the first (no role stays outside its
// directory), entering fails on one line and changes nothing, and leaving
// gives back the original values exactly.
func TestStateDirReadOnly(t *testing.T) {
	t.Parallel()
	timed(t)
	if err := unshareWorks(); err != nil {
		t.Skip("no private mount namespace here, so no read-only state dir without touching the machine's mounts:", err)
	}
	w := newWorld(t)
	a := w.project("state-a", roleStateA, "")
	b := w.project("state-b", roleStateB, "")
	mkdir(t, w.stateDir(), 0o700)
	sh := mustShell(t, w, w.Home, w.Env, "unshare", "-rm", "--")
	r := sh.mustStep(t, a)
	if r.RC != 0 || r.Stderr != "" {
		t.Fatalf("entering %s: status %d, stderr %q", a, r.RC, r.Stderr)
	}
	active := r.After
	if err := sh.run("mount --bind -o ro " + bashQuote(w.stateDir()) + " " + bashQuote(w.stateDir()) +
		" && ! touch " + bashQuote(filepath.Join(w.stateDir(), "probe"))); err != nil {
		t.Fatalf("making the state dir read-only: %v", err)
	}

	checkActive(t, active, roleStateA)
	r = sh.mustStep(t, b)
	checkLeft(t, sh, r, a, "read-only file system")
	t.Logf("%s", strings.TrimSpace(r.Stderr))
	left := r.After
	n := calls(w.Stub)
	r = sh.mustStep(t, b)
	checkNoCrash(t, r)
	if d := envDiff(left, r.After); d != "" {
		t.Errorf("the prompt after: the environment changed:\n%s", d)
	}
	// With no writable state dir no failure can be recorded, so the next
	// prompt may say it again (README: "Read-only or full state
	// directory"), but in one line, and it sends nothing.
	if n := strings.Count(r.Stderr, "\n"); n > 1 || (n == 1 && !strings.Contains(r.Stderr, "read-only file system")) {
		t.Errorf("the prompt after the failure: stderr %q, want nothing or the same one line", r.Stderr)
	}
	if got := calls(w.Stub) - n; got > 0 {
		t.Errorf("the prompt after the failure sent %d more requests to STS", got)
	}

	r = sh.mustStep(t, a)
	checkFailure(t, r, "read-only file system")

	r = sh.mustStep(t, filepath.Join(w.Home, "plain"))
	checkNoCrash(t, r)
	if r.RC != 0 || r.Stderr != "" {
		t.Errorf("leaving: status %d, stderr %q", r.RC, r.Stderr)
	}
	if d := managedDiff(sh.Orig, r.After); d != "" {
		t.Errorf("leaving with a read-only state dir did not give back the original values:\n%s", d)
	}

	r = sh.mustStep(t, a)
	checkFailure(t, r, "read-only file system")
	if d := managedDiff(sh.Orig, r.After); d != "" {
		t.Errorf("a failed entry changed the shell's values:\n%s", d)
	}
}

// TestStateDirFull puts the state directory on a tiny tmpfs in the shell's
// own mount namespace and fills it: switching fails on one line, leaves the
// first project and leaves no temporary file; leaving still works; once
// there is room again, entering works.
func TestStateDirFull(t *testing.T) {
	t.Parallel()
	timed(t)
	if err := unshareWorks(); err != nil {
		t.Skip("no private mount namespace here, so no full filesystem without touching the machine's mounts:", err)
	}
	w := newWorld(t)
	a := w.project("state-a", roleStateA, "")
	b := w.project("state-b", roleStateB, "")
	mkdir(t, w.stateDir(), 0o700)
	sh := mustShell(t, w, w.Home, w.Env, "unshare", "-rm", "--")
	state := bashQuote(w.stateDir())
	if err := sh.run("mount -t tmpfs -o size=256k,mode=0700 tmpfs " + state); err != nil {
		t.Fatalf("mounting a tmpfs: %v", err)
	}
	r := sh.mustStep(t, a)
	if r.RC != 0 || r.Stderr != "" {
		t.Fatalf("entering %s: status %d, stderr %q", a, r.RC, r.Stderr)
	}
	active := r.After
	if err := sh.run("dd if=/dev/zero of=" + state + "/fill bs=4k 2>/dev/null; " +
		"dd if=/dev/zero of=" + state + "/fill2 bs=1 2>/dev/null; " +
		"! printf x >" + state + "/probe"); err != nil {
		t.Fatalf("filling the tmpfs: %v", err)
	}

	checkActive(t, active, roleStateA)
	r = sh.mustStep(t, b)
	checkLeft(t, sh, r, a, "no space left on device")
	t.Logf("%s", strings.TrimSpace(r.Stderr))
	if err := sh.run("! compgen -G " + bashQuote(filepath.Join(w.snapshotsDir(), ".tmp-*"))); err != nil {
		t.Errorf("a failed write left a temporary file: %v", err)
	}
	left := r.After
	r = sh.mustStep(t, b)
	checkNoCrash(t, r)
	if d := envDiff(left, r.After); d != "" {
		t.Errorf("the prompt after: the environment changed:\n%s", d)
	}

	r = sh.mustStep(t, filepath.Join(w.Home, "plain"))
	checkNoCrash(t, r)
	if r.RC != 0 || r.Stderr != "" {
		t.Errorf("leaving: status %d, stderr %q", r.RC, r.Stderr)
	}
	if d := managedDiff(sh.Orig, r.After); d != "" {
		t.Errorf("leaving with a full state dir did not give back the original values:\n%s", d)
	}

	if err := sh.run("rm -f " + state + "/fill " + state + "/fill2"); err != nil {
		t.Fatal(err)
	}
	r = sh.mustStep(t, b)
	checkNoCrash(t, r)
	if r.RC != 0 {
		t.Fatalf("entering %s with room again: status %d, stderr %q", b, r.RC, r.Stderr)
	}
	checkActive(t, r.After, roleStateB)
}
