package credcache_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/credcache"
)

func cachedWorld(t *testing.T) string {
	return filepath.Join(t.TempDir(), credcache.DirName)
}

// TestCachedOneFetchForManyAndRenewal: N concurrent Retrieves cost one
// fetch; inside the window the entry is renewed; a failing fetch caches
// nothing.
func TestCachedOneFetchForManyAndRenewal(t *testing.T) {
	dir := cachedWorld(t)
	var fetches atomic.Int32
	now := time.Now()
	life := time.Hour
	p := credcache.ProviderFunc(func(ctx context.Context) (credcache.Credentials, error) {
		n := fetches.Add(1)
		time.Sleep(20 * time.Millisecond) // others arrive while this one holds the lock
		return credcache.Credentials{AccessKeyID: "ASIA" + string(rune('A'+n)), SecretAccessKey: "s", SessionToken: "t", Expiration: now.Add(life)}, nil
	})
	step := credcache.Step{Kind: "role", Label: roleB, Path: filepath.Join(dir, "role-x.json")}
	c := func() *credcache.Cached {
		return &credcache.Cached{Step: step, Provider: p, Window: 5 * time.Minute, Now: func() time.Time { return now }}
	}
	var wg sync.WaitGroup
	keys := make([]string, 8)
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cr, err := c().Retrieve(context.Background())
			if err != nil {
				t.Error(err)
			}
			keys[i] = cr.AccessKeyID
		}()
	}
	wg.Wait()
	if fetches.Load() != 1 {
		t.Fatalf("%d fetches for 8 concurrent retrieves", fetches.Load())
	}
	for _, k := range keys {
		if k != keys[0] {
			t.Fatalf("retrieves disagree: %v", keys)
		}
	}
	if fi, err := os.Stat(step.Path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("entry: %v %v", fi, err)
	}
	now = now.Add(56 * time.Minute) // 4 minutes left: inside the window
	if _, err := c().Retrieve(context.Background()); err != nil || fetches.Load() != 2 {
		t.Fatalf("no renewal inside the window: %v, %d fetches", err, fetches.Load())
	}
	// A planted entry for another role under this key is never handed out.
	data, _ := json.Marshal(credcache.Credentials{AccessKeyID: "PLANTED", SecretAccessKey: "s", Expiration: now.Add(time.Hour), RoleARN: "arn:aws:iam::999999999999:role/evil"})
	os.WriteFile(step.Path, data, 0o600)
	var notice bytes.Buffer
	cc := c()
	cc.Notice = &notice
	if cr, _ := cc.Retrieve(context.Background()); cr.AccessKeyID == "PLANTED" || !strings.Contains(notice.String(), "another role") {
		t.Fatalf("planted entry used (%s) or not reported (%q)", cr.AccessKeyID, notice.String())
	}
	failing := &credcache.Cached{Step: credcache.Step{Kind: "role", Label: "r", Path: filepath.Join(dir, "role-fail.json")}, Window: time.Minute,
		Now: time.Now, Provider: credcache.ProviderFunc(func(context.Context) (credcache.Credentials, error) {
			return credcache.Credentials{}, errors.New("denied")
		})}
	if _, err := failing.Retrieve(context.Background()); err == nil {
		t.Fatal("no error")
	}
	if _, err := os.Stat(failing.Step.Path); !os.IsNotExist(err) {
		t.Fatal("a failure left an entry")
	}
}

// TestStaticKeysAreNeverCached: a source that returns long-term keys (a
// profile with static keys) gives them straight through.
func TestStaticKeysAreNeverCached(t *testing.T) {
	dir := cachedWorld(t)
	c := &credcache.Cached{Step: credcache.Step{Kind: "source", Label: "profile:keys", Path: filepath.Join(dir, "source-k.json")},
		Now: time.Now, Window: time.Minute, Expiring: func(c credcache.Credentials) bool { return c.SessionToken != "" },
		Provider: credcache.ProviderFunc(func(context.Context) (credcache.Credentials, error) {
			return credcache.Credentials{AccessKeyID: "AKIA", SecretAccessKey: "long-term"}, nil
		})}
	if _, err := c.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 1 { // the lock file only
		t.Fatalf("long-term keys were written: %v", entries)
	}
}

// TestPrune: entries expired longer than the grace period go, with their
// locks; live ones, recently expired ones and foreign files stay.
func TestPrune(t *testing.T) {
	dir := cachedWorld(t)
	os.MkdirAll(dir, 0o700)
	now := time.Now()
	write := func(name string, exp time.Time) string {
		p := filepath.Join(dir, name)
		data, _ := json.Marshal(credcache.Credentials{AccessKeyID: "A", SecretAccessKey: "s", Expiration: exp})
		os.WriteFile(p, data, 0o600)
		os.WriteFile(p+".lock", nil, 0o600)
		return p
	}
	live := write("role-live.json", now.Add(time.Hour))
	recent := write("role-recent.json", now.Add(-credcache.Grace/2))
	old := write("role-old.json", now.Add(-credcache.Grace-time.Minute))
	credcache.Prune(dir, now)
	for _, p := range []string{live, recent, live + ".lock", recent + ".lock"} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s pruned: %v", filepath.Base(p), err)
		}
	}
	for _, p := range []string{old, old + ".lock"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s kept", filepath.Base(p))
		}
	}
}
