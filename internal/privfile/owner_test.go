package privfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCheckParents: directories above awsrole's own may be the user's or
// root's, never writable by group or others unless sticky; the check stops
// at $HOME.
func TestCheckParents(t *testing.T) {
	for _, c := range []struct {
		name string
		mode os.FileMode
		ok   bool
	}{
		{"0755", 0o755, true},
		{"0700", 0o700, true},
		{"group-writable", 0o775, false},
		{"other-writable", 0o757, false},
		{"sticky-world-writable", 0o777 | os.ModeSticky, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			home := filepath.Join(root, "home")
			mid := filepath.Join(home, "mid")
			leaf := filepath.Join(mid, "leaf")
			if err := os.MkdirAll(leaf, 0o700); err != nil {
				t.Fatal(err)
			}
			t.Setenv("HOME", home)
			if err := os.Chmod(mid, c.mode); err != nil {
				t.Fatal(err)
			}
			err := CheckParents(leaf)
			if c.ok != (err == nil) {
				t.Fatalf("CheckParents = %v, want ok=%v", err, c.ok)
			}
			if err != nil && (!strings.Contains(err.Error(), "chmod go-w "+mid) || strings.Contains(err.Error(), "\n")) {
				t.Errorf("message %q does not name the fix", err)
			}
			// Above $HOME is not the user's business.
			os.Chmod(mid, 0o755)
			if err := os.Chmod(root, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := CheckParents(leaf); err != nil {
				t.Errorf("a writable dir above $HOME was refused: %v", err)
			}
		})
	}
}

// TestCheckParentsFollowsLinks: a directory on the way that is a link is
// judged where it lands, with the directories above its target.
func TestCheckParentsFollowsLinks(t *testing.T) {
	for _, c := range []struct {
		name string
		mode os.FileMode
		ok   bool
	}{
		{"target's parent 0755", 0o755, true},
		{"target's parent writable by others", 0o777, false},
		{"target's parent sticky", 0o777 | os.ModeSticky, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			home := filepath.Join(root, "home")
			elsewhere := filepath.Join(root, "elsewhere")
			target := filepath.Join(elsewhere, "state")
			for _, d := range []string{home, target} {
				if err := os.MkdirAll(d, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink(target, filepath.Join(home, "state")); err != nil {
				t.Fatal(err)
			}
			t.Setenv("HOME", home)
			if err := os.Chmod(elsewhere, c.mode); err != nil {
				t.Fatal(err)
			}
			err := CheckParents(filepath.Join(home, "state", "awsrole"))
			if c.ok != (err == nil) {
				t.Fatalf("CheckParents through a link = %v, want ok=%v", err, c.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "chmod go-w "+elsewhere) {
				t.Errorf("message %q does not name the target's parent", err)
			}
		})
	}
}

// TestCheckParentsLinkChain: a link to a link is judged at each hop, so
// a writable directory holding the middle link is refused.
func TestCheckParentsLinkChain(t *testing.T) {
	root := t.TempDir()
	home, pub, safe := filepath.Join(root, "home"), filepath.Join(root, "pub"), filepath.Join(root, "safe", "state")
	for _, d := range []string{home, pub, safe} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(safe, filepath.Join(pub, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(pub, "link"), filepath.Join(home, "state")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pub, 0o777); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	if err := CheckParents(filepath.Join(home, "state", "awsrole")); err == nil || !strings.Contains(err.Error(), "chmod go-w "+pub) {
		t.Errorf("a chain of links through a writable directory: %v, want it refused naming %s", err, pub)
	}
}

// TestCheckParentsLinkedHome: with $HOME on a linked path, a link inside
// it that lands inside it (a dotfiles manager's) stops at the real home:
// what is above it stays none of awsrole's business.
func TestCheckParentsLinkedHome(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	real := filepath.Join(data, "home", "alice")
	if err := os.MkdirAll(filepath.Join(real, "dotfiles", "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("dotfiles", "state"), filepath.Join(real, "state")); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(root, "alice")
	if err := os.Symlink(real, home); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(data, 0o775); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	if err := CheckParents(filepath.Join(home, "state", "awsrole")); err != nil {
		t.Errorf("a link inside a linked home was judged above it: %v", err)
	}
}

// TestReadLimitedNeverBlocks: special files fail at once.
func TestReadLimitedNeverBlocks(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	paths := []string{fifo, "/dev/zero"}
	if os.Geteuid() == 0 {
		paths = append(paths, "/proc/kmsg")
	}
	for _, p := range paths {
		done := make(chan error, 1)
		go func() { _, _, err := ReadLimited(p, 1<<20, true, nil); done <- err }()
		select {
		case err := <-done:
			if err == nil && p != "/proc/kmsg" { // kmsg may hold messages: then it reads them
				t.Errorf("%s: read without error", p)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: ReadLimited did not return within 5s", p)
		}
	}
}

// TestChecksNotRemembered: a long-lived process (the credential endpoint)
// sees a directory opened to others, or a parent of it, at its next check,
// and sees it closed again.
func TestChecksNotRemembered(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	parent := filepath.Join(home, "state")
	dir := filepath.Join(parent, "awsrole")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		path string
		mode os.FileMode
		ok   bool
	}{
		{dir, 0o700, true},
		{dir, 0o777, false},
		{dir, 0o700, true},
		{parent, 0o777, false},
		{parent, 0o755, true},
	} {
		if err := os.Chmod(step.path, step.mode); err != nil {
			t.Fatal(err)
		}
		if err := CheckDir(dir); (err == nil) != step.ok {
			t.Errorf("CheckDir after chmod %04o %s: %v, want ok=%v", step.mode, step.path, err, step.ok)
		}
	}
}
