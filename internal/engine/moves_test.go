package engine_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
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
	"github.com/awsrole/awsrole/internal/wire"
)

// fetches counts the fake STS's answers per role.
func (w *failWorld) counting(t *testing.T) map[string]int {
	n := map[string]int{}
	inner := w.e.Creds
	w.e.Creds = fakeCreds(func(req credreq.Request) (credcache.Credentials, error) {
		n[req.RoleARN]++
		return inner.Get(context.Background(), req, credreq.Source{}, nil)
	})
	return n
}

// TestMoves walks one shell through every kind of move, each step checked
// against the environment a shell would then hold; milliseconds, no shell.
func TestMoves(t *testing.T) {
	w := newFailWorld(t)
	fetches := w.counting(t)
	plain := filepath.Join(w.home, "plain")
	os.MkdirAll(plain, 0o755)
	sub := filepath.Join(w.a, "deep", "er")
	os.MkdirAll(sub, 0o755)

	// Nothing to do outside every project.
	if res := w.cd(t, plain); len(res.Changes) != 0 || res.Steady == nil || res.Steady.File != "" {
		t.Fatalf("plain dir: changes %v, steady %+v", res.Changes, res.Steady)
	}
	// Enter: the role's variables, AWS_PROFILE saved and unset.
	res := w.cd(t, w.a)
	if w.env["AWSROLE_ARN"] != roleA || w.env["AWS_ACCESS_KEY_ID"] != "ASIAa" || w.env["AWSROLE_DIR"] != w.a {
		t.Fatalf("enter: env %v", w.env)
	}
	if _, ok := w.env["AWS_PROFILE"]; ok {
		t.Fatal("enter: AWS_PROFILE still set")
	}
	if res.Steady == nil || res.Steady.Deadline != w.now.Add(time.Hour-5*time.Minute).Unix() || len(res.Steady.Leave) == 0 {
		t.Fatalf("enter: steady facts %+v", res.Steady)
	}
	// Stay: a prompt deeper in the same project changes nothing and fetches nothing.
	if res := w.cd(t, sub); len(res.Changes) != 0 || fetches[roleA] != 1 {
		t.Fatalf("stay: changes %v, %d fetches", res.Changes, fetches[roleA])
	}
	// Refresh: inside the window, new credentials without a cd.
	w.now = w.now.Add(56 * time.Minute)
	if res := w.cd(t, w.a); res.Changes["AWS_CREDENTIAL_EXPIRATION"] == nil || fetches[roleA] != 2 {
		t.Fatalf("refresh: changes %v, %d fetches", res.Changes, fetches[roleA])
	}
	// A value changed by hand inside the project stays the user's.
	w.env["AWS_REGION"] = "by-hand"
	// Switch: B's role, the originals of A kept.
	w.cd(t, w.b)
	if w.env["AWSROLE_ARN"] != roleB || w.env["AWS_ACCESS_KEY_ID"] != "ASIAb" {
		t.Fatalf("switch: env %v", w.env)
	}
	// Leave: everything back, the hand-set value left alone.
	w.cd(t, plain)
	if w.env["AWS_REGION"] != "by-hand" {
		t.Errorf("leave dropped a value set by hand: %q", w.env["AWS_REGION"])
	}
	delete(w.env, "AWS_REGION")
	w.wantLeft(t, "after leaving")
}

// TestNestedShellTakesACopy: a shell started inside a project (another
// pid, the parent's environment) takes its own snapshot at its first
// prompt, so neither replaces the other's.
func TestNestedShellTakesACopy(t *testing.T) {
	w := newFailWorld(t)
	w.cd(t, w.a)
	parent := w.env[transition.StateVar]
	child := *w
	child.pid = w.pid + 1000000
	res, err := child.e.Export(context.Background(), engine.Input{Env: w.env, PWD: w.a, PID: child.pid})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Changes[transition.StateVar]
	if p == nil || *p == parent {
		t.Fatalf("nested shell kept its parent's snapshot: %v", res.Changes)
	}
	if len(res.Changes) != 1 {
		t.Errorf("nested shell changed more than its pointer: %v", res.Changes)
	}
	snap, err := w.stores.State.Load(*p)
	if err != nil || snap.PID != child.pid || snap.RoleARN != roleA {
		t.Fatalf("nested snapshot %+v, %v", snap, err)
	}
}

// TestOrphanedRole: a role's variables with no snapshot are awsrole's:
// never a source, unset on leave.
func TestOrphanedRole(t *testing.T) {
	w := newFailWorld(t)
	w.cd(t, w.a)
	delete(w.env, transition.StateVar) // the pointer lost
	var asked credreq.Env
	w.e.Creds = fakeCreds(func(req credreq.Request) (credcache.Credentials, error) {
		return credcache.Credentials{AccessKeyID: "ASIAB2", SecretAccessKey: "s", SessionToken: "t", Expiration: w.now.Add(time.Hour)}, nil
	})
	w.e.Creds = envRecorder{&asked, w.e.Creds}
	w.cd(t, w.b)
	if v := asked.Get("AWS_ACCESS_KEY_ID"); v == "ASIAa" {
		t.Fatal("the orphaned role's key was used as the source")
	}
	w.cd(t, filepath.Dir(w.a))
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWSROLE_ARN"} {
		if v, ok := w.env[name]; ok {
			t.Errorf("after leaving an orphaned role: %s = %q", name, v)
		}
	}
}

// envRecorder records the originals a fetch was asked to use.
type envRecorder struct {
	got   *credreq.Env
	inner engine.CredentialProvider
}

func (r envRecorder) Get(ctx context.Context, req credreq.Request, src credreq.Source, env credreq.Env) (credcache.Credentials, error) {
	*r.got = env
	return r.inner.Get(ctx, req, src, env)
}

// TestBackoff: a failure is said once, the next prompts stay quiet and
// fetch nothing for state.Backoff, then it is tried again.
func TestBackoff(t *testing.T) {
	w := newFailWorld(t)
	fetches := w.counting(t)
	w.failA = errors.New("assume " + roleA + ": Throttling: slow down")
	in := engine.Input{Env: w.env, PWD: w.a, PID: w.pid}
	if _, err := w.e.Export(context.Background(), in); err == nil || !strings.Contains(err.Error(), "Throttling") {
		t.Fatalf("first failure: %v", err)
	}
	w.now = w.now.Add(30 * time.Second)
	res, err := w.e.Export(context.Background(), in)
	if err != nil || len(res.Changes) != 0 || fetches[roleA] != 1 {
		t.Fatalf("inside the backoff: err %v, changes %v, %d fetches", err, res.Changes, fetches[roleA])
	}
	w.now = w.now.Add(state.Backoff)
	if _, err := w.e.Export(context.Background(), in); err == nil || fetches[roleA] != 2 {
		t.Fatalf("after the backoff: err %v, %d fetches", err, fetches[roleA])
	}
	// Editing the file tries again at once.
	w.now = w.now.Add(time.Second)
	w.failA = nil
	w.writeFile(t, w.a, "role_arn = \""+roleA+"\"\nregion = \"eu-west-1\"\n")
	w.cd(t, w.a)
	if w.env["AWSROLE_ARN"] != roleA || fetches[roleA] != 3 {
		t.Fatalf("after an edit: %v, %d fetches", w.env["AWSROLE_ARN"], fetches[roleA])
	}
}

// TestAutoSignInOnce: with sso_login = "auto", a fetch whose sign-in on
// the terminal did not complete is tried again after the backoff without
// one (the user gave up on it), however often; moving (elsewhere in the
// project, or out and back) asks for one again. A failure that had no
// sign-in in it (the network) keeps them. What an attempt itself changed,
// a token file it wrote, does not mend its own failure.
func TestAutoSignInOnce(t *testing.T) {
	w := newFailWorld(t)
	userDir := filepath.Join(w.home, ".config", "awsrole")
	if err := os.MkdirAll(userDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(userDir, "config.toml"), []byte("sso_login = \"auto\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(w.home, ".aws", "config")
	if err := os.MkdirAll(filepath.Dir(config), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(config, []byte("[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w.useAWS(config, "")
	w.writeFile(t, w.a, "sso_session = \"corp\"\nsso_account_id = \"222222222222\"\nsso_role_name = \"Deploy\"\n")
	token := awsconfig.PathsFromEnv(os.Getenv).TokenPath("corp")
	var asked []bool
	w.e.Creds = fakeCreds(func(req credreq.Request) (credcache.Credentials, error) {
		asked = append(asked, req.SSOLogin)
		// The attempt refreshes the token file, and fails all the same:
		// the first with a sign-in the user gave up on, the rest with
		// no sign-in in them.
		os.MkdirAll(filepath.Dir(token), 0o700)
		os.WriteFile(token, []byte(strings.Repeat("t", len(asked))), 0o600)
		if len(asked) == 1 {
			return credcache.Credentials{}, &wire.SignInError{Msg: "sign-in cancelled"}
		}
		return credcache.Credentials{}, errors.New("IAM Identity Center did not answer")
	})
	export := func(dir string) {
		t.Helper()
		if _, err := w.e.Export(context.Background(), engine.Input{Env: w.env, PWD: dir, PID: w.pid}); err != nil && !strings.Contains(err.Error(), "sign-in cancelled") && !strings.Contains(err.Error(), "did not answer") {
			t.Fatalf("export in %s: %v", dir, err)
		}
	}
	later := func() { w.now = w.now.Add(state.Backoff + time.Second) }
	sub := filepath.Join(w.a, "sub")
	plain := filepath.Join(w.home, "plain")
	for _, d := range []string{sub, plain} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	export(w.a) // the sign-in, given up on
	w.now = w.now.Add(time.Second)
	export(w.a) // within the backoff, though the attempt wrote the token
	later()
	export(w.a) // after it: tried, no sign-in
	later()
	export(w.a) // and again: still none
	export(sub) // moved: a sign-in again, failing without one
	later()
	export(sub) // that failure had no sign-in in it: one again
	export(plain)
	export(w.a) // out and back: again
	if want := []bool{true, false, false, true, true, true}; !slices.Equal(asked, want) {
		t.Errorf("fetches asked for a sign-in %v, want %v", asked, want)
	}
}

// TestNoticeOnce: a file not allowed yet is said once per shell and
// content, enters nothing and fetches nothing.
func TestNoticeOnce(t *testing.T) {
	w := newFailWorld(t)
	fetches := w.counting(t)
	var notices bytes.Buffer
	w.e.Notice = &notices
	c := filepath.Join(w.home, "c")
	os.MkdirAll(c, 0o755)
	os.WriteFile(filepath.Join(c, dirconfig.FileName), []byte("role_arn = \"arn:aws:iam::222222222222:role/c\"\n"), 0o644)
	for i := 0; i < 3; i++ {
		w.cd(t, c)
	}
	if n := strings.Count(notices.String(), "is not allowed yet"); n != 1 || !strings.Contains(notices.String(), "awsrole allow ") {
		t.Fatalf("notices: %q", notices.String())
	}
	if len(fetches) != 0 || w.env["AWSROLE_ARN"] != "" {
		t.Fatalf("a blocked file entered: %v, %v", fetches, w.env)
	}
}

// TestDamagedSnapshot: a snapshot that cannot be read is reported and
// nothing changes; the variables stay as they are.
func TestDamagedSnapshot(t *testing.T) {
	w := newFailWorld(t)
	w.cd(t, w.a)
	if err := os.WriteFile(w.env[transition.StateVar], []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := w.e.Export(context.Background(), engine.Input{Env: w.env, PWD: w.b, PID: w.pid})
	if err == nil {
		t.Fatal("a damaged snapshot was not reported")
	}
}

// TestForDir: what exec and credential-process get, and the minimum time
// left they ask for.
func TestForDir(t *testing.T) {
	w := newFailWorld(t)
	var window time.Duration
	w.e.Creds = fakeCreds(func(req credreq.Request) (credcache.Credentials, error) {
		window = req.Window
		return credcache.Credentials{AccessKeyID: "ASIAX", SecretAccessKey: "s", SessionToken: "t", Expiration: w.now.Add(time.Hour)}, nil
	})
	role, err := w.e.ForDir(context.Background(), filepath.Join(w.a), w.env, 16*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if role.Label() != roleA || *role.Desired["AWS_ACCESS_KEY_ID"] != "ASIAX" || window != 16*time.Minute {
		t.Fatalf("ForDir: %s %v window %s", role.Label(), role.Desired, window)
	}
	if _, err := w.e.ForDir(context.Background(), w.home, w.env, 0); err == nil || !strings.Contains(err.Error(), "no "+dirconfig.FileName) {
		t.Fatalf("no file: %v", err)
	}
	c := filepath.Join(w.home, "c")
	os.MkdirAll(c, 0o755)
	os.WriteFile(filepath.Join(c, dirconfig.FileName), []byte("role_arn = \"arn:aws:iam::222222222222:role/c\"\n"), 0o644)
	if _, err := w.e.ForDir(context.Background(), c, w.env, 0); err == nil || !strings.Contains(err.Error(), "not allowed yet") {
		t.Fatalf("unapproved file: %v", err)
	}
}

// TestInheritedPointerGone: a terminal server or IDE started in A hands its
// environment (A's keys and the pointer to its shell's snapshot) to shells
// started later, when the parent has moved on and that snapshot is pruned.
// Outside A such a shell must not keep A's role: it leaves with A's values
// unset, saying so once. (In B it cannot enter: the user's own keys were in
// the lost snapshot, and A's are never a source.) Inside A nothing changes
// and it says so (the user may restore the file).
func TestInheritedPointerGone(t *testing.T) {
	w := newFailWorld(t)
	w.cd(t, w.a)
	inherited := maps.Clone(w.env)
	w.now = w.now.Add(time.Second)
	w.cd(t, w.b) // the parent moves on
	w.now = w.now.Add(2 * time.Minute)
	w.stores.State.Prune(w.now)
	if _, err := os.Stat(inherited[transition.StateVar]); err == nil {
		t.Fatal("the old snapshot was not pruned")
	}
	child := w.pid + 1
	export := func(dir string) (*engine.Result, error) {
		return w.e.Export(context.Background(), engine.Input{Env: inherited, PWD: dir, PID: child})
	}

	if _, err := export(w.a); err == nil || !strings.Contains(err.Error(), "is gone") {
		t.Errorf("inside A: %v, want the snapshot reported gone and nothing changed", err)
	}
	for _, dir := range []string{w.b, w.home} {
		res, err := export(dir)
		if err != nil || res.Err == nil || !strings.Contains(res.Err.Error(), "left "+roleA) {
			t.Fatalf("in %s: %v, %v; want A left, and said", dir, res, err)
		}
		for _, name := range []string{"AWSROLE_ARN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", transition.StateVar} {
			if v, ok := res.Changes[name]; !ok || v != nil {
				t.Errorf("in %s: %s changes to %v, want unset (A's value, or the dead pointer)", dir, name, v)
			}
		}
	}
	if res, err := export(w.home); err != nil || !strings.Contains(res.Err.Error(), "is gone") {
		t.Errorf("at home: %v, %v; want the snapshot said gone", res, err)
	}
}
