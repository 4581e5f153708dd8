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

// TestLock: a held lock is waited for, then ErrBusy; a lock file removed
// while a process waited for it (as a prune does) is taken anew at its
// path, so that the lock still excludes the next process.
func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "entry.lock")
	held := flock.New(path)
	if ok, err := held.TryLock(); !ok {
		t.Fatal(err)
	}
	if _, err := Lock(context.Background(), path, 100*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Fatalf("Lock of a held lock: %v, want ErrBusy", err)
	}

	got := make(chan func(), 1)
	go func() {
		unlock, err := Lock(context.Background(), path, 10*time.Second)
		if err != nil {
			t.Error(err)
			unlock = func() {}
		}
		got <- unlock
	}()
	time.Sleep(200 * time.Millisecond) // the waiter has opened the file by now
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	held.Unlock()
	unlock := <-got
	defer unlock()
	if ok, _ := flock.New(path).TryLock(); ok {
		t.Error("Lock returned holding the removed file: the lock at its path was free for the next process")
	}
}
