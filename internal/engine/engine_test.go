package engine_test

import (
	"cmp"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/engine"
	"github.com/awsrole/awsrole/internal/state"
	"github.com/awsrole/awsrole/internal/transition"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

// fakeCreds answers every request from a function, so a test decides per
// role what STS would say.
type fakeCreds func(req credreq.Request) (credcache.Credentials, error)

func (f fakeCreds) Get(_ context.Context, req credreq.Request, _ credreq.Source, _ credreq.Env) (credcache.Credentials, error) {
	return f(req)
}

const (
	roleA = "arn:aws:iam::222222222222:role/a"
	roleB = "arn:aws:iam::222222222222:role/b"
)

// failWorld is a hermetic user with two allowed projects, A and B, and a
// clock the test moves.
type failWorld struct {
	a, b, home string
	now        time.Time
	failB      error // what fetching B's role fails with; nil: it works
	failA      error // the same for A
	env        map[string]string
	e          *engine.Engine
	stores     engine.Stores
	pid        int
}

func newFailWorld(t *testing.T) *failWorld {
	t.Helper()
	home := t.TempDir()
	xdg := map[string]string{
		"HOME":            home,
		"XDG_CONFIG_HOME": filepath.Join(home, ".config"),
		"XDG_DATA_HOME":   filepath.Join(home, ".local", "share"),
		"XDG_STATE_HOME":  filepath.Join(home, ".local", "state"),
		"XDG_CACHE_HOME":  filepath.Join(home, ".cache"),
	}
	for k, v := range xdg {
		t.Setenv(k, v) // the trust store and the credential cache still read them
	}
	w := &failWorld{a: filepath.Join(home, "a"), b: filepath.Join(home, "b"), home: home,
		now: time.Now(), pid: os.Getpid(),
		env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIAUSER", "AWS_SECRET_ACCESS_KEY": "usersecret", "AWS_PROFILE": "corp"}}
	if p, err := dirconfig.Find(home); err != nil || p != "" {
		t.Skipf("a %s above the temporary directory (%q, %v)", dirconfig.FileName, p, err)
	}
	for dir, role := range map[string]string{w.a: roleA, w.b: roleB} {
		w.writeFile(t, dir, "role_arn = \""+role+"\"\n")
	}
	getenv := func(k string) string { return xdg[k] }
	w.stores = engine.StoresFor(xdgdir.FromEnv(getenv), awsconfig.PathsFromEnv(getenv), nil)
	w.e = &engine.Engine{Stores: w.stores, Now: func() time.Time { return w.now }, Notice: io.Discard,
		Creds: fakeCreds(func(req credreq.Request) (credcache.Credentials, error) {
			if req.RoleARN == roleB && w.failB != nil {
				return credcache.Credentials{}, w.failB
			}
			if req.RoleARN == roleA && w.failA != nil {
				return credcache.Credentials{}, w.failA
			}
			return credcache.Credentials{AccessKeyID: "ASIA" + req.RoleARN[len(req.RoleARN)-1:], SecretAccessKey: "s",
				SessionToken: "t", Expiration: w.now.Add(time.Hour), RoleARN: req.RoleARN}, nil
		})}
	t.Cleanup(func() { w.stores.State.ClearFailure(w.pid) })
	return w
}

func (w *failWorld) writeFile(t *testing.T, dir, content string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, dirconfig.FileName)
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := allowPath(file); err != nil {
		t.Fatal(err)
	}
}

// cd runs one hook call in dir and applies its changes to the environment,
// as the shell evaluating the output would.
func (w *failWorld) cd(t *testing.T, dir string) *engine.Result {
	t.Helper()
	res, err := w.e.Export(context.Background(), engine.Input{Env: w.env, PWD: dir, PID: w.pid})
	if err != nil {
		t.Fatalf("export in %s: %v", dir, err)
	}
	w.apply(res)
	return res
}

// wantLeft fails unless env is exactly the user's own.
func (w *failWorld) wantLeft(t *testing.T, what string) {
	t.Helper()
	want := map[string]string{"AWS_ACCESS_KEY_ID": "AKIAUSER", "AWS_SECRET_ACCESS_KEY": "usersecret", "AWS_PROFILE": "corp"}
	for _, name := range append(transition.Managed(), transition.StateVar) {
		g, gok := w.env[name]
		v, wok := want[name]
		if g != v || gok != wok {
			t.Errorf("%s: %s = %q (set %v), want %q (set %v)", what, name, g, gok, v, wok)
		}
	}
}

// A failed switch leaves the project behind, says so once, and the next
// prompts in B stay quiet and left.
func TestFailedSwitchLeaves(t *testing.T) {
	for _, tc := range []struct {
		name   string
		breakB func(t *testing.T, w *failWorld)
		cause  string
	}{
		{"access denied", func(_ *testing.T, w *failWorld) {
			w.failB = errors.New("assume " + roleB + ": AccessDenied: not authorized")
		}, "AccessDenied"},
		{"broken file", func(t *testing.T, w *failWorld) {
			w.writeFile(t, w.b, "role_arn = \n")
		}, dirconfig.FileName},
		{"unknown key", func(t *testing.T, w *failWorld) {
			w.writeFile(t, w.b, "role_arn = \""+roleB+"\"\nendpoint = \"http://x\"\n")
		}, "endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newFailWorld(t)
			tc.breakB(t, w)
			w.cd(t, w.a)
			if w.env["AWSROLE_ARN"] != roleA {
				t.Fatalf("in A: AWSROLE_ARN = %q", w.env["AWSROLE_ARN"])
			}
			res := w.cd(t, w.b)
			if res.Err == nil || !strings.Contains(res.Err.Error(), tc.cause) || !strings.HasSuffix(res.Err.Error(), "; left "+w.a) {
				t.Errorf("failed switch: Err = %v, want the cause (%s) and \"; left %s\"", res.Err, tc.cause, w.a)
			}
			w.wantLeft(t, "after the failed switch")
			if res.Steady == nil || len(res.Steady.Leave) != 0 || res.Steady.State != "" {
				t.Errorf("failed switch: steady facts %+v, want the left state (no leave code, no state)", res.Steady)
			} else if want := w.now.Add(state.Backoff).Unix(); res.Steady.Deadline != want {
				t.Errorf("failed switch: steady deadline %d, want the end of the backoff %d", res.Steady.Deadline, want)
			}
			for i := 0; i < 2; i++ {
				w.now = w.now.Add(time.Second)
				if res := w.cd(t, w.b); res.Err != nil || len(res.Changes) != 0 {
					t.Errorf("prompt %d in B after the failed switch: changes %v, err %v; want none", i+1, res.Changes, res.Err)
				}
			}
			w.wantLeft(t, "after more prompts in B")
		})
	}
}

// A failed switch that an earlier call already reported (the shell did not
// apply that answer) still leaves, quietly.
func TestFailedSwitchRepeatedStillLeaves(t *testing.T) {
	w := newFailWorld(t)
	w.failB = errors.New("assume " + roleB + ": AccessDenied")
	w.cd(t, w.a)
	inA := w.env
	if res := w.cd(t, w.b); res.Err == nil {
		t.Fatal("no error for the failed switch")
	}
	w.env = inA // the answer was lost
	w.now = w.now.Add(time.Second)
	res := w.cd(t, w.b)
	if res.Err != nil {
		t.Errorf("second call: Err = %v, want quiet", res.Err)
	}
	w.wantLeft(t, "after the repeated failed switch")
}

// A failed renewal in the same project keeps that project's credentials
// and says so, valid or expired; never the user's own.
func TestFailedRenewalKeeps(t *testing.T) {
	w := newFailWorld(t)
	w.cd(t, w.a)
	inA := w.env
	w.failA = errors.New("assume " + roleA + ": STS unreachable")
	for _, tc := range []struct {
		after time.Duration
		say   string
	}{
		{58 * time.Minute, "valid until"},
		{2 * time.Hour, "ExpiredToken"},
	} {
		w.stores.State.ClearFailure(w.pid)
		w.now = w.now.Add(tc.after)
		_, err := w.e.Export(context.Background(), engine.Input{Env: w.env, PWD: w.a, PID: w.pid})
		if err == nil || !strings.Contains(err.Error(), "kept the credentials of "+w.a) || !strings.Contains(err.Error(), tc.say) {
			t.Errorf("renewal failing %s after entering: err = %v, want it to say the credentials were kept (%s)", tc.after, err, tc.say)
		}
		res := w.cd(t, w.a) // the next prompt: quiet, nothing changes
		if res.Err != nil || len(res.Changes) != 0 {
			t.Errorf("prompt after the failed renewal: changes %v, err %v", res.Changes, res.Err)
		}
		for k, v := range inA {
			if w.env[k] != v {
				t.Errorf("after the failed renewal: %s = %q, want A's %q", k, w.env[k], v)
			}
		}
		w.now = w.now.Add(-tc.after)
	}
}

// useAWS points the engine at these shared AWS files ("": unchanged).
func (w *failWorld) useAWS(config, credentials string) {
	w.stores.AWS.Config = cmp.Or(config, w.stores.AWS.Config)
	w.stores.AWS.Credentials = cmp.Or(credentials, w.stores.AWS.Credentials)
	w.e.Stores = w.stores
}
