package privfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/gofrs/flock"
)

// ErrBusy: another process held the lock for the whole wait.
var ErrBusy = errors.New("lock busy")

// Lock takes the exclusive file lock at path, waiting up to wait for the
// process that holds it; ErrBusy when it does not let go in time. A lock
// file removed between its opening and its locking (a prune removes an
// entry's lock with it) is taken anew at its path: a lock on the removed
// file would lock nothing anyone else sees.
func Lock(ctx context.Context, path string, wait time.Duration) (unlock func(), err error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		l := flock.New(path)
		ok, err := l.TryLockContext(ctx, 20*time.Millisecond)
		switch {
		case !ok && err != nil && ctx.Err() == nil:
			return nil, fmt.Errorf("lock %s: %s", show(path), cause(err))
		case !ok:
			return nil, ErrBusy
		}
		if onPath(l, path) {
			return func() { l.Unlock() }, nil
		}
		l.Unlock()
		select {
		case <-ctx.Done():
			return nil, ErrBusy
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// onPath reports whether the file l holds open is still the one at path.
func onPath(l *flock.Flock, path string) bool {
	held, herr := l.Stat()
	now, nerr := os.Stat(path)
	return herr == nil && nerr == nil && os.SameFile(held, now)
}
