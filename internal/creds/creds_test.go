package creds

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/stsstub"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

const (
	userKey    = "AKIAIOSFODNN7EXAMPLE"
	userSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	role       = "arn:aws:iam::222222222222:role/deploy"
)

func s(v string) *string { return &v }

// setup points the SDK at a fresh stand-in and a fresh cache.
func setup(t *testing.T) *stsstub.Server {
	t.Helper()
	srv, err := stsstub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	srv.AddUser(userKey, userSecret, "arn:aws:iam::111111111111:user/alice")
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("AWS_ENDPOINT_URL_STS", srv.URL)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CA_BUNDLE", "")
	os.Unsetenv("AWS_CA_BUNDLE")
	// What the process has is awsrole's own injected role: never a source.
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(name, "")
	}
	os.Setenv("AWS_ACCESS_KEY_ID", "ASIAINJECTEDBYAWSROLE")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "injected")
	return srv
}

func request() Request {
	return Request{RoleARN: role, SessionName: "unit", Duration: time.Hour, Window: 5 * time.Minute}
}

// testCache is the cache setup points at, as awsrole-sts's main builds it.
func testCache() credcache.Cache {
	return credcache.New(filepath.Join(xdgdir.FromEnv(os.Getenv).Cache, credcache.DirName), credreq.EnvOf(os.Environ()))
}

// userEnv is the user's own environment: their long-term key.
func userEnv() credreq.Env {
	return credreq.Env{"AWS_ACCESS_KEY_ID": s(userKey), "AWS_SECRET_ACCESS_KEY": s(userSecret)}
}

// get resolves req's source in env, as awsrole-sts does, and fetches. The
// SDK reaches the stand-in through the process's endpoint variables (set
// by setup); env holds them too, and where the user's AWS files are, as
// awsrole-sts's own environment would.
func get(g *Getter, req Request, env credreq.Env) (credcache.Credentials, error) {
	if g.Cache == (credcache.Cache{}) {
		g.Cache = testCache()
	}
	env = maps.Clone(env)
	if env == nil {
		env = credreq.Env{}
	}
	for _, k := range append([]string{"HOME", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"}, endpointVars...) {
		if v, ok := os.LookupEnv(k); ok && env[k] == nil {
			env[k] = &v
		}
	}
	src, err := credreq.Resolve(req, env, awsconfig.PathsFromEnv(os.Getenv).Load, nil)
	if err != nil {
		return credcache.Credentials{}, err
	}
	return g.Get(context.Background(), req, src, env)
}

func TestGetFromUsersOwnKeysThenCache(t *testing.T) {
	srv := setup(t)
	var notice bytes.Buffer
	g := &Getter{Now: time.Now, Notice: &notice}
	c1, err := get(g, request(), userEnv())
	if err != nil {
		t.Fatal(err)
	}
	c2, err := get(g, request(), userEnv())
	if err != nil {
		t.Fatal(err)
	}
	if c1.AccessKeyID != c2.AccessKeyID || !strings.HasPrefix(c1.AccessKeyID, "ASIA") {
		t.Fatalf("second Get did not come from the cache: %s vs %s", c1.AccessKeyID, c2.AccessKeyID)
	}
	calls := srv.Calls()
	if len(calls) != 1 || calls[0].AccessKeyID != userKey {
		t.Fatalf("want one AssumeRole signed with the user's key, got %+v", calls)
	}
	// Everything that changes the result is in the key: another session
	// name is another entry.
	r := request()
	r.SessionName = "other"
	if _, err := get(g, r, userEnv()); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("AssumeRole"); n != 2 {
		t.Fatalf("AssumeRole calls = %d, want 2", n)
	}
	// Cache files are private.
	entries, _ := os.ReadDir(testCache().Dir)
	for _, e := range entries {
		fi, _ := e.Info()
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v", e.Name(), fi.Mode())
		}
	}
	if notice.Len() != 0 {
		t.Errorf("unexpected notice: %s", notice.String())
	}
}

func TestRenewInsideWindowAndRefuseUnsafeCache(t *testing.T) {
	srv := setup(t)
	var notice bytes.Buffer
	now := time.Now()
	g := &Getter{Now: func() time.Time { return now }, Notice: &notice}
	srv.SetSessionDuration(7 * time.Minute)
	if _, err := get(g, request(), userEnv()); err != nil {
		t.Fatal(err)
	}
	// Two minutes later less than the 5-minute window is left: renew.
	srv.SetSessionDuration(0)
	now = now.Add(2*time.Minute + time.Second)
	if _, err := get(g, request(), userEnv()); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("AssumeRole"); n != 2 {
		t.Fatalf("AssumeRole calls = %d, want 2 (renewal)", n)
	}
	// A cache file others could have written is not used, and we say why.
	entries, _ := filepath.Glob(filepath.Join(testCache().Dir, "*.json"))
	for _, p := range entries {
		os.Chmod(p, 0o666)
	}
	if _, err := get(g, request(), userEnv()); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("AssumeRole"); n != 3 {
		t.Fatalf("AssumeRole calls = %d, want 3 (unsafe cache refused)", n)
	}
	if !strings.Contains(notice.String(), "not using cached credentials") || strings.Count(notice.String(), "\n") != 1 {
		t.Fatalf("notice = %q", notice.String())
	}
}

func TestErrorsAreOneLineNamingTheRole(t *testing.T) {
	srv := setup(t)
	g := &Getter{Now: time.Now}
	srv.FailNext("AssumeRole", 1, stsstub.Fault{Status: 403, Code: "AccessDenied", Message: "not authorized\nto assume"})
	_, err := get(g, request(), userEnv())
	if err == nil || !strings.Contains(err.Error(), role) || !strings.Contains(err.Error(), "AccessDenied") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), userSecret) {
		t.Fatal("secret in error")
	}
	// Nothing listens: one line, quickly.
	t.Setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1")
	start := time.Now()
	_, err = get(g, request(), userEnv())
	if err == nil || !strings.Contains(err.Error(), role) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > Timeout+time.Second {
		t.Fatalf("took %s", time.Since(start))
	}
}

func TestSourceProfileThatRunsAwsroleIsRefused(t *testing.T) {
	setup(t)
	cfg := "[profile loop]\ncredential_process = awsrole credential-process --dir /x\n"
	if err := os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := get(&Getter{Now: time.Now}, request(), credreq.Env{"AWS_PROFILE": s("loop")})
	if err == nil || !strings.Contains(err.Error(), "gets its credentials from awsrole itself") {
		t.Fatalf("err = %v", err)
	}
}

// TestKeysSourceWaitsForTheKeyring: behind a source_keys source, another
// shell's fetch may be waiting for the keyring (its passphrase, its
// unlocking): a fetch waits for it as long as a keyring read may take,
// and says what it waits for.
func TestKeysSourceWaitsForTheKeyring(t *testing.T) {
	setup(t)
	env := userEnv()
	g := &Getter{Now: time.Now, Cache: testCache()}
	src := credreq.Source{Kind: credreq.SourceKeys, Keys: &credreq.StoredKeys{Name: "bob", AccessKeyID: "AKIAKEYRINGEXAMPLE01"}, Identity: "keys=bob"}
	p, err := g.provider(context.Background(), request(), src, env, NewEnviron(env), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := p.(*credcache.Cached)
	if !ok {
		t.Fatalf("provider is %T, want the role's *credcache.Cached", p)
	}
	if c.LockWait < KeyringWait || !strings.Contains(c.Waiting, "unlock the keyring that holds the keys bob") {
		t.Fatalf("LockWait %s (want at least %s), Waiting %q", c.LockWait, KeyringWait, c.Waiting)
	}
}
