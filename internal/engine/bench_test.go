package engine_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/creds"
	"github.com/awsrole/awsrole/internal/engine"
	"github.com/awsrole/awsrole/internal/stsstub"
	"github.com/awsrole/awsrole/internal/transition"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

const (
	benchKey    = "AKIABENCHENGINEALICE"
	benchSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYBENCHENGINE"
	benchRole   = "arn:aws:iam::222222222222:role/deploy"
)

// benchWorld is one hermetic user: XDG dirs in a temporary HOME, an allowed
// project, an ordinary directory, and the STS stand-in in process.
type benchWorld struct {
	proj, plain string
	stub        *stsstub.Server
	env         map[string]string // the shell's environment before entering
}

func newBenchWorld(b *testing.B) *benchWorld {
	b.Helper()
	home := b.TempDir()
	stub, err := stsstub.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stub.Close)
	stub.AddUser(benchKey, benchSecret, "arn:aws:iam::111111111111:user/alice")
	// creds resolves source credentials from the process environment, which
	// it sets from the shell's originals: make sure all of it is restored.
	for _, name := range append(transition.Managed(), "AWS_CA_BUNDLE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE",
		"AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED", "AWS_ENDPOINT_URL_STS", "AWSROLE_STATE") {
		b.Setenv(name, "")
		os.Unsetenv(name)
	}
	for k, v := range map[string]string{
		"HOME":                        home,
		"XDG_CONFIG_HOME":             filepath.Join(home, ".config"),
		"XDG_DATA_HOME":               filepath.Join(home, ".local", "share"),
		"XDG_STATE_HOME":              filepath.Join(home, ".local", "state"),
		"XDG_CACHE_HOME":              filepath.Join(home, ".cache"),
		"AWS_CONFIG_FILE":             filepath.Join(home, ".aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, ".aws", "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ENDPOINT_URL_STS":        stub.URL,
		"AWS_REGION":                  "us-east-1",
		"AWS_DEFAULT_REGION":          "us-east-1",
	} {
		b.Setenv(k, v)
	}
	w := &benchWorld{proj: filepath.Join(home, "src", "payments"), plain: filepath.Join(home, "src", "notes"), stub: stub}
	for _, d := range []string{w.proj, w.plain} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	if p, err := dirconfig.Find(w.plain); err != nil || p != "" {
		b.Skipf("a %s above the temporary directory (%q, %v)", dirconfig.FileName, p, err)
	}
	file := filepath.Join(w.proj, dirconfig.FileName)
	if err := os.WriteFile(file, []byte("role_arn = \""+benchRole+"\"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := allowPath(file); err != nil {
		b.Fatal(err)
	}
	w.env = map[string]string{
		"HOME": home, "PATH": "/usr/bin:/bin", "SHELL": "/bin/bash", "TERM": "xterm", "LANG": "C.UTF-8",
		"AWS_ACCESS_KEY_ID": benchKey, "AWS_SECRET_ACCESS_KEY": benchSecret,
		"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
	}
	return w
}

func benchEngine(now func() time.Time) *engine.Engine {
	return &engine.Engine{Stores: benchStores(), Now: now, Creds: &creds.Getter{Now: time.Now, Cache: benchStores().Cache}, Notice: io.Discard}
}

// benchApplied is env after the shell evaluated changes.
func benchApplied(env map[string]string, changes map[string]*string) map[string]string {
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = *v
		}
	}
	return out
}

// benchClock advances by more than the snapshots' grace period at every
// reading, so an entry per iteration does not pile up snapshots of this
// (live) process that no real shell would leave behind.
func benchClock() func() time.Time {
	var n atomic.Int64
	start := time.Now()
	return func() time.Time { return start.Add(time.Duration(n.Add(1)) * 2 * time.Minute) }
}

// BenchmarkExport is one hook call in process (no process start, no
// package initialisation): the paths a prompt takes when the shell's own
// check cannot decide, and a cold entry through the in-process STS stand-in.
func BenchmarkExport(b *testing.B) {
	ctx := context.Background()
	pid := os.Getpid()

	b.Run("no-file", func(b *testing.B) {
		w := newBenchWorld(b)
		e := benchEngine(time.Now)
		in := engine.Input{Env: w.env, PWD: w.plain, PID: pid}
		b.ReportAllocs()
		for b.Loop() {
			if res, err := e.Export(ctx, in); err != nil || len(res.Changes) != 0 {
				b.Fatal(res, err)
			}
		}
	})

	b.Run("stay", func(b *testing.B) {
		w := newBenchWorld(b)
		e := benchEngine(time.Now)
		res, err := e.Export(ctx, engine.Input{Env: w.env, PWD: w.proj, PID: pid})
		if err != nil {
			b.Fatal(err)
		}
		in := engine.Input{Env: benchApplied(w.env, res.Changes), PWD: w.proj, PID: pid}
		calls := w.stub.Count("AssumeRole")
		b.ReportAllocs()
		for b.Loop() {
			if res, err := e.Export(ctx, in); err != nil || len(res.Changes) != 0 {
				b.Fatal(res, err)
			}
		}
		if n := w.stub.Count("AssumeRole") - calls; n != 0 {
			b.Fatalf("%d AssumeRole calls while staying", n)
		}
	})

	b.Run("leave", func(b *testing.B) {
		w := newBenchWorld(b)
		e := benchEngine(time.Now)
		res, err := e.Export(ctx, engine.Input{Env: w.env, PWD: w.proj, PID: pid})
		if err != nil {
			b.Fatal(err)
		}
		in := engine.Input{Env: benchApplied(w.env, res.Changes), PWD: w.plain, PID: pid}
		b.ReportAllocs()
		for b.Loop() {
			if res, err := e.Export(ctx, in); err != nil || len(res.Changes) == 0 {
				b.Fatal(res, err)
			}
		}
	})

	b.Run("cached-entry", func(b *testing.B) {
		w := newBenchWorld(b)
		e := benchEngine(benchClock())
		in := engine.Input{Env: w.env, PWD: w.proj, PID: pid}
		if _, err := e.Export(ctx, in); err != nil { // fills the cache
			b.Fatal(err)
		}
		calls := w.stub.Count("AssumeRole")
		b.ReportAllocs()
		for b.Loop() {
			if res, err := e.Export(ctx, in); err != nil || len(res.Changes) == 0 {
				b.Fatal(res, err)
			}
		}
		if n := w.stub.Count("AssumeRole") - calls; n != 0 {
			b.Fatalf("%d AssumeRole calls for a cached entry", n)
		}
	})

	b.Run("cold-entry", func(b *testing.B) {
		w := newBenchWorld(b)
		e := benchEngine(benchClock())
		in := engine.Input{Env: w.env, PWD: w.proj, PID: pid}
		cache := benchStores().Cache.Dir
		calls := w.stub.Count("")
		b.ReportAllocs()
		for b.Loop() {
			if err := os.RemoveAll(cache); err != nil {
				b.Fatal(err)
			}
			if res, err := e.Export(ctx, in); err != nil || len(res.Changes) == 0 {
				b.Fatal(res, err)
			}
		}
		if got, want := w.stub.Count("")-calls, b.N; got != want {
			b.Fatalf("%d STS calls for %d cold entries, want one each", got, want)
		}
	})
}

// benchStores are the stores of the bench's world, as cmd builds them.
func benchStores() engine.Stores {
	return engine.StoresFor(xdgdir.FromEnv(os.Getenv), awsconfig.PathsFromEnv(os.Getenv), credreq.EnvOf(os.Environ()))
}
