package credcache_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/awsrole/awsrole/internal/credcache"
)

// syncBuffer is a bytes.Buffer written from one goroutine and read from
// another.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCachedSaysWhatItWaitsFor: a fetch held up by another process's
// (which may be waiting for the user's sign-in or code) says so once,
// with how to stop waiting, then goes on when the other lets go; a fetch
// that is not held up says nothing.
func TestCachedSaysWhatItWaitsFor(t *testing.T) {
	dir := cachedWorld(t)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	step := credcache.Step{Kind: "role", Label: roleB, Path: filepath.Join(dir, "role-w.json")}
	const say = "another shell is signing in; finish that sign-in, or press Ctrl-C to stop waiting"
	p := credcache.ProviderFunc(func(context.Context) (credcache.Credentials, error) {
		return credcache.Credentials{AccessKeyID: "ASIAW", SecretAccessKey: "s", SessionToken: "t", Expiration: time.Now().Add(time.Hour)}, nil
	})
	var notice syncBuffer
	c := &credcache.Cached{Step: step, Provider: p, Window: 5 * time.Minute, Now: time.Now, Notice: &notice, LockWait: time.Minute, Waiting: say}

	other := flock.New(step.Path + ".lock")
	if ok, err := other.TryLock(); !ok {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Retrieve(context.Background())
		done <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(notice.String(), say) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got, want := notice.String(), "awsrole: "+say+"\n"; got != want {
		t.Fatalf("while held up: said %q, want %q", got, want)
	}
	other.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(notice.String(), say); got != 1 {
		t.Errorf("said %d times, want once: %q", got, notice.String())
	}

	os.Remove(step.Path)
	var quiet syncBuffer
	c.Notice = &quiet
	if _, err := c.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	if quiet.String() != "" {
		t.Errorf("a fetch not held up said %q", quiet.String())
	}
}
