package privfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCleanTemp removes what a killed Write left, once it is old enough,
// and nothing else.
func TestCleanTemp(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, age time.Duration) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(-age)
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := write(".tmp-123", 2*time.Minute)
	fresh := write(".tmp-456", 0)
	other := write("1-2.json", time.Hour)
	CleanTemp(dir, time.Minute)
	if _, err := os.Lstat(stale); err == nil {
		t.Errorf("%s is still there", stale)
	}
	for _, p := range []string{fresh, other} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}

// TestWriteLeavesNoTemp: a Write that succeeds or fails leaves only its file.
func TestWriteLeavesNoTemp(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	if err := Write(filepath.Join(dir, "f.json"), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "taken"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(dir, "taken"), []byte("{}")); err == nil {
		t.Error("Write over a directory succeeded")
	}
	left, _ := filepath.Glob(filepath.Join(dir, tempPattern))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestReadRefuses: what Read will not read, and that the reason names the
// file once.
func TestReadRefuses(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := Write(good, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(dir, "loose.json")
	if err := os.WriteFile(loose, []byte("{}"), 0o620); err != nil {
		t.Fatal(err)
	}
	os.Chmod(loose, 0o620)
	for path, want := range map[string]string{
		link:  "is a symbolic link",
		loose: "writable by group or others",
		dir:   "not a regular file",
	} {
		_, err := Read(path)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Count(err.Error(), path) != 1 && path != loose {
			t.Errorf("Read(%s) = %v, want an error saying %q that names the file once", path, err, want)
		}
	}
	if data, err := Read(good); err != nil || string(data) != "{}" {
		t.Errorf("Read(%s) = %q, %v", good, data, err)
	}
}

// TestWriteMode: a file of the user's that is not secret keeps the mode it
// is given, a missing directory gets the matching search bits, and a
// group-writable directory is written to all the same.
func TestWriteMode(t *testing.T) {
	base := t.TempDir()
	for _, tc := range []struct {
		perm, dirPerm os.FileMode
	}{
		{0o644, 0o755},
		{0o640, 0o750},
		{0o600, 0o700},
	} {
		dir := filepath.Join(base, fmt.Sprintf("%04o", tc.perm), "conf.d")
		p := filepath.Join(dir, "awsrole.fish")
		for _, content := range []string{"a\n", "b\n"} {
			if err := WriteMode(p, []byte(content), tc.perm); err != nil {
				t.Fatal(err)
			}
			if data, err := os.ReadFile(p); err != nil || string(data) != content {
				t.Errorf("%s: %q, %v; want %q", p, data, err, content)
			}
		}
		for path, want := range map[string]os.FileMode{p: tc.perm, dir: tc.dirPerm, filepath.Dir(dir): tc.dirPerm} {
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
				t.Errorf("WriteMode(%v): %s has mode %v (%v), want %v", tc.perm, path, fi.Mode().Perm(), err, want)
			}
		}
		if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
			t.Errorf("temporary files left: %v", left)
		}
	}
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	// A group-writable home or ~/.config (umask 002) is the user's own
	// choice: rc files are written there all the same.
	os.Chmod(open, 0o775)
	if err := WriteMode(filepath.Join(open, ".bashrc"), []byte("x"), 0o644); err != nil {
		t.Errorf("WriteMode into a group-writable directory: %v", err)
	}
	if err := WriteMode(filepath.Join(base, "0644", "conf.d"), []byte("x"), 0o644); err == nil {
		t.Error("WriteMode over a directory succeeded")
	} else if left, _ := filepath.Glob(filepath.Join(base, "0644", ".conf.d.awsrole-*")); len(left) > 0 {
		t.Errorf("a failed WriteMode left %v", left)
	}
}
