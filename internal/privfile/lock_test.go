package privfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

// TestLock: a held lock is waited for, then ErrBusy; once free it is
// taken, and excludes the next process.
func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "entry.lock")
	held := flock.New(path)
	if ok, err := held.TryLock(); !ok {
		t.Fatal(err)
	}
	if _, err := Lock(context.Background(), path, 100*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Fatalf("Lock of a held lock: %v, want ErrBusy", err)
	}
	held.Unlock()
	unlock, err := Lock(context.Background(), path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if ok, _ := flock.New(path).TryLock(); ok {
		t.Error("the lock Lock took did not exclude another")
	}
}

// TestLockOnPath: a lock whose file was removed (by a prune) is not the
// lock at its path, even once a new file is there.
func TestLockOnPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "entry.lock")
	l := flock.New(path)
	if ok, err := l.TryLock(); !ok {
		t.Fatal(err)
	}
	defer l.Unlock()
	if !onPath(l, path) {
		t.Fatal("a fresh lock is not on its path")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if onPath(l, path) {
		t.Error("a lock on a removed file counts as the lock at its path")
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if onPath(l, path) {
		t.Error("a lock on a removed file counts as the lock on the new file at its path")
	}
}
