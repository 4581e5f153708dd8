package credcache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/awsrole/awsrole/internal/human"
	"github.com/awsrole/awsrole/internal/privfile"
)

// Provider gives credentials: a source, an MFA session, a role.
type Provider interface {
	Retrieve(ctx context.Context) (Credentials, error)
}

// ProviderFunc is a function as a Provider.
type ProviderFunc func(ctx context.Context) (Credentials, error)

// Retrieve calls f.
func (f ProviderFunc) Retrieve(ctx context.Context) (Credentials, error) { return f(ctx) }

// Grace is how long an expired entry stays in the cache directory before
// a write prunes it.
const Grace = 10 * time.Minute

// Cached decorates a Provider with the cache every shell shares: an entry
// with more than Window left is handed out; otherwise one process fetches
// under a lock while others wait for its result, so N shells cost one call.
type Cached struct {
	Step     Step
	Provider Provider
	Window   time.Duration
	Now      func() time.Time
	Notice   io.Writer     // says why an entry was not used; may be nil
	LockWait time.Duration // how long to wait for another fetch; default Timeout
	// Waiting is said once to Notice when another process's fetch holds
	// the entry past SayAfter (it may be waiting for the user): what this
	// one waits for and how to stop waiting. "" says nothing.
	Waiting string
	// Expiring reports whether c is worth caching: long-term keys (a
	// profile with static keys) never go into the cache.
	Expiring func(c Credentials) bool
}

// Retrieve returns the cached credentials, or fetches, caches and returns
// new ones.
func (c *Cached) Retrieve(ctx context.Context) (Credentials, error) {
	notice := &oneNotice{w: c.Notice}
	if cr, ok := Lookup(c.Step, c.Window, c.Now(), notice); ok {
		return cr, nil
	}
	if err := privfile.Dir(filepath.Dir(c.Step.Path)); err != nil {
		return Credentials{}, err
	}
	wait := c.LockWait
	if wait == 0 {
		wait = Timeout
	}
	unlock, err := LockSaying(ctx, c.Step.Path+".lock", wait, c.Notice, c.Waiting)
	if errors.Is(err, privfile.ErrBusy) {
		return Credentials{}, fmt.Errorf("another awsrole is still fetching credentials for %s (lock %s)", c.Step.Label, OneLine(c.Step.Path+".lock"))
	}
	if err != nil {
		return Credentials{}, err
	}
	defer unlock()
	if cr, ok := Lookup(c.Step, c.Window, c.Now(), nil); ok {
		return cr, nil // another process fetched while this one waited
	}
	cr, err := c.Provider.Retrieve(ctx)
	if err != nil {
		return Credentials{}, err
	}
	if c.Expiring != nil && !c.Expiring(cr) {
		return cr, nil
	}
	cr.RoleARN = c.Step.Label
	if !cr.Expiration.After(c.Now().Add(c.Window)) {
		from := "STS"
		if c.Step.Kind == "source" {
			from = "the source"
		}
		if !cr.Expiration.After(c.Now()) {
			return Credentials{}, fmt.Errorf("%s returned credentials that expire at %s, already past; check the machine's clock", from, human.Time(cr.Expiration))
		}
		return Credentials{}, fmt.Errorf("%s returned credentials that expire at %s, within the refresh window (%s); lower refresh_before in the user config or ask for a longer duration", from, human.Time(cr.Expiration), c.Window)
	}
	data, _ := json.Marshal(cr)
	if err := privfile.Write(c.Step.Path, data); err != nil {
		// The cache only saves calls; the credentials are good without it.
		fmt.Fprintf(notice, "awsrole: could not cache credentials: %s\n", OneLine(err.Error()))
		return cr, nil
	}
	Prune(filepath.Dir(c.Step.Path), c.Now())
	return cr, nil
}

// SayAfter is how long a wait for another process's lock lasts before it
// is said: a fetch by another shell usually ends sooner.
const SayAfter = time.Second

// LockSaying is privfile.Lock, which says once, to w, what it waits for
// (say, one line without the "awsrole: ") if the lock is still held after
// SayAfter; a shell whose cd hangs then knows why and what ends it.
func LockSaying(ctx context.Context, path string, wait time.Duration, w io.Writer, say string) (unlock func(), err error) {
	if w == nil || say == "" || wait <= SayAfter {
		return privfile.Lock(ctx, path, wait)
	}
	unlock, err = privfile.Lock(ctx, path, SayAfter)
	if !errors.Is(err, privfile.ErrBusy) {
		return unlock, err
	}
	fmt.Fprintf(w, "awsrole: %s\n", say)
	return privfile.Lock(ctx, path, wait-SayAfter)
}

// oneNotice passes on the first notice and drops the rest, so that one
// damaged entry costs one line, however many steps stumble on it.
type oneNotice struct {
	w    io.Writer
	done bool
}

func (o *oneNotice) Write(p []byte) (int, error) {
	if o.w == nil || o.done {
		return len(p), nil
	}
	o.done = true
	return o.w.Write(p)
}

// Lookup returns the credentials cached for step if they have more than
// window left at now; an entry it cannot use is reported to notice (if not
// nil).
func Lookup(step Step, window time.Duration, now time.Time, notice io.Writer) (Credentials, bool) {
	data, err := privfile.Read(step.Path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && notice != nil {
			fmt.Fprintf(notice, "awsrole: not using cached credentials: %s; fetching new ones\n", OneLine(err.Error()))
		}
		return Credentials{}, false
	}
	var c Credentials
	if json.Unmarshal(data, &c) != nil || c.AccessKeyID == "" || c.SecretAccessKey == "" {
		if notice != nil {
			fmt.Fprintf(notice, "awsrole: cached credentials %s are damaged; fetching new ones\n", OneLine(step.Path))
		}
		return Credentials{}, false
	}
	if c.RoleARN != step.Label {
		// Only a copied or planted file holds another role's
		// credentials under this role's key: never hand them out.
		if notice != nil {
			fmt.Fprintf(notice, "awsrole: cached credentials %s are for another role (%s); fetching new ones\n", OneLine(step.Path), OneLine(c.RoleARN))
		}
		return Credentials{}, false
	}
	return c, c.Expiration.After(now.Add(window))
}

func expiredLongAgo(data []byte, now time.Time) bool {
	var c Credentials
	return json.Unmarshal(data, &c) == nil && now.Sub(c.Expiration) >= Grace
}

// Prune deletes the entries of dir that expired more than Grace before
// now, with their locks (only when no process holds one), and temporary
// files a killed write left behind.
func Prune(dir string, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".json") || !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, name)
		data, err := privfile.Read(p)
		if err != nil {
			continue // not ours to judge: Lookup reports it
		}
		if !expiredLongAgo(data, now) {
			continue
		}
		lock := flock.New(p + ".lock")
		if ok, _ := lock.TryLock(); !ok {
			continue // being refreshed right now
		}
		// Renewed between the read and the lock? Then it stays.
		if data, err := privfile.Read(p); err != nil || !expiredLongAgo(data, now) {
			lock.Unlock()
			continue
		}
		os.Remove(p)
		os.Remove(p + ".lock")
		lock.Unlock()
	}
	privfile.CleanTemp(dir, time.Minute)
}
