package endpoint

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

func world(t *testing.T) string {
	root := t.TempDir()
	t.Setenv("XDG_STATE_HOME", root+"/state")
	t.Setenv("XDG_CACHE_HOME", root+"/cache")
	t.Setenv("XDG_DATA_HOME", root+"/data")
	t.Setenv("XDG_CONFIG_HOME", root+"/config")
	return root
}

// project writes an approved .awsrole.toml in root/name and returns it.
func project(t *testing.T, root, name, role string) *dirconfig.Config {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, dirconfig.FileName)
	if err := os.WriteFile(path, []byte("role_arn = \""+role+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := dirconfig.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := testTrust().Allow(cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

var (
	reqA = credreq.Request{RoleARN: "arn:aws:iam::222222222222:role/a", SessionName: "s", Duration: time.Hour, Window: 5 * time.Minute}
	reqB = credreq.Request{RoleARN: "arn:aws:iam::222222222222:role/b", SessionName: "s", Duration: time.Hour, Window: 5 * time.Minute}
	src  = credreq.Source{Kind: credreq.SourceEnv, Identity: "env:AKIAUNITEXAMPLE00001", Region: "us-east-1"}
)

// A registration holds the request, never credentials, in a 0600 file
// under an opaque id that differs per role and is stable per role.
func TestRegister(t *testing.T) {
	root := world(t)
	a, b := project(t, root, "a", reqA.RoleARN), project(t, root, "b", reqB.RoleARN)
	idA, err := ts().Register(testCache, reqA, src, a, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	idB, _ := ts().Register(testCache, reqB, src, b, os.Getpid())
	if idA == idB || idA != ID(testCache, reqA, src, a) || !validID(idA) || strings.Contains(idA, "222222222222") {
		t.Errorf("ids %q and %q: want distinct opaque ids, stable per role", idA, idB)
	}
	// Two projects naming the same role have an id each: denying one
	// revokes it alone.
	if idB2 := ID(testCache, reqA, src, b); idB2 == idA {
		t.Errorf("the same role for two files has one id %s", idA)
	}
	reg, err := ts().LoadRegistration(idA)
	if err != nil || reg.Request.RoleARN != reqA.RoleARN || reg.Dir != a.Dir || reg.File != a.Path || reg.Hash != a.Hash {
		t.Fatalf("LoadRegistration: %+v, %v", reg, err)
	}
	data, _ := os.ReadFile(ts().RolePath(idA))
	for _, secret := range []string{"secret", "token", "AKIA"} {
		if strings.Contains(strings.ToLower(string(data)), strings.ToLower(secret)+`"`) {
			t.Errorf("registration mentions %s: %s", secret, data)
		}
	}
	if fi, _ := os.Stat(ts().RolePath(idA)); fi.Mode().Perm() != 0o600 {
		t.Errorf("registration mode %v", fi.Mode().Perm())
	}
	for _, bad := range []string{"", "../token", strings.Repeat("A", 32), strings.Repeat("0", 31), strings.Repeat("0", 32)} {
		if _, err := ts().LoadRegistration(bad); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ts().LoadRegistration(%q): %v, want not found", bad, err)
		}
	}
}

// A registered process counts as a user while it lives; a dead one is
// forgotten.
func TestLiveUsers(t *testing.T) {
	a := project(t, world(t), "a", reqA.RoleARN)
	if ts().LiveUsers() != 0 {
		t.Fatal("users in an empty state dir")
	}
	cmd := exec.Command("true")
	cmd.Run()
	dead := cmd.Process.Pid
	ts().Register(testCache, reqA, src, a, os.Getpid())
	ts().Register(testCache, reqA, src, a, dead)
	if n := ts().LiveUsers(); n != 1 {
		t.Errorf("LiveUsers = %d, want 1 (this process; %d is gone)", n, dead)
	}
	if _, err := os.Stat(ts().shellPath(dead)); err == nil {
		t.Errorf("the entry of the dead process %d is still there", dead)
	}
	ts().Release(os.Getpid())
	if n := ts().LiveUsers(); n != 0 {
		t.Errorf("LiveUsers after Release = %d", n)
	}
}

// A record without the lock held is no server (a recycled pid after
// kill -9); with it, it is.
func TestRunningNeedsTheLock(t *testing.T) {
	world(t)
	data, _ := json.Marshal(Info{PID: os.Getpid(), Port: 4242})
	if err := privfile.Write(ts().InfoPath(), data); err != nil {
		t.Fatal(err)
	}
	if _, ok := ts().Running(); ok {
		t.Error("Running without anyone holding the server lock")
	}
	lock := flock.New(ts().ServerLockPath())
	if ok, err := lock.TryLock(); !ok || err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	if i, ok := ts().Running(); !ok || i.Port != 4242 {
		t.Errorf("Running with the lock held: %+v %v", i, ok)
	}
}

// The server's environment is the user's own: originals in, awsrole's
// values and state pointer out.
func TestServerEnv(t *testing.T) {
	key := "AKIAUSER"
	got := ServerEnv([]string{"PATH=/bin", "AWS_ACCESS_KEY_ID=ASIAROLE", "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:1/v1/x", "AWSROLE_STATE=/s"},
		map[string]*string{"AWS_ACCESS_KEY_ID": &key, "AWS_CONTAINER_CREDENTIALS_FULL_URI": nil})
	want := []string{"AWS_ACCESS_KEY_ID=AKIAUSER", "PATH=/bin"}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("ServerEnv = %q, want %q", got, want)
	}
}

// Approved holds while the file keeps the approved content and its
// approval, and fails, saying why and what to do, once it is denied,
// edited or gone.
func TestApproved(t *testing.T) {
	root := world(t)
	for _, tc := range []struct {
		name   string
		change func(cfg *dirconfig.Config) error
		want   string
	}{
		{"denied", func(cfg *dirconfig.Config) error { return testTrust().DenyPath(cfg.Path) }, "is denied, so the credential endpoint no longer serves its role; to use it, run: awsrole allow"},
		{"edited", func(cfg *dirconfig.Config) error {
			return os.WriteFile(cfg.Path, []byte("role_arn = \"arn:aws:iam::666666666666:role/evil\"\n"), 0o600)
		}, "has changed since it was approved"},
		{"edited and approved", func(cfg *dirconfig.Config) error {
			if err := os.WriteFile(cfg.Path, []byte("role_arn = \"arn:aws:iam::666666666666:role/evil\"\n"), 0o600); err != nil {
				return err
			}
			c, err := dirconfig.Load(cfg.Path)
			if err != nil {
				return err
			}
			return testTrust().Allow(c)
		}, "has changed since it was approved"},
		{"file removed", func(cfg *dirconfig.Config) error { return os.Remove(cfg.Path) }, "does not exist; the credential endpoint no longer serves its role"},
		{"project removed", func(cfg *dirconfig.Config) error { return os.RemoveAll(cfg.Dir) }, "does not exist; the credential endpoint no longer serves its role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := project(t, root, tc.name, reqA.RoleARN)
			id, err := ts().Register(testCache, reqA, src, cfg, os.Getpid())
			if err != nil {
				t.Fatal(err)
			}
			reg, err := ts().LoadRegistration(id)
			if err != nil {
				t.Fatal(err)
			}
			if err := reg.Approved(dirconfig.UserConfigPath(xdgdir.FromEnv(os.Getenv).Config), testTrust()); err != nil {
				t.Fatalf("before: %v", err)
			}
			if err := tc.change(cfg); err != nil {
				t.Fatal(err)
			}
			var revoked *Revoked
			if err := reg.Approved(dirconfig.UserConfigPath(xdgdir.FromEnv(os.Getenv).Config), testTrust()); !errors.As(err, &revoked) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("after: %v, want revoked: %q", err, tc.want)
			}
			ts().Drop(id, reg)
			if _, err := ts().LoadRegistration(id); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("registration after Drop: %v", err)
			}
		})
	}
}

// Every start takes a new token, alone in its port's file, without a
// newline (botocore and aws-sdk-go-v2 refuse one); the files of other
// ports go, and a stopping server removes its own.
func TestNewToken(t *testing.T) {
	world(t)
	t1, err := ts().NewToken(4242)
	if err != nil {
		t.Fatal(err)
	}
	t2, err := ts().NewToken(4242)
	if err != nil || t2 == t1 {
		t.Fatalf("second start: %q %v, want a new token", t2, err)
	}
	if data, _ := os.ReadFile(ts().TokenPath(4242)); string(data) != t2 {
		t.Errorf("token file %q, want exactly %q", data, t2)
	}
	if ts().LastPort() != 4242 {
		t.Errorf("LastPort = %d", ts().LastPort())
	}
	t3, _ := ts().NewToken(4343)
	if _, err := os.Stat(ts().TokenPath(4242)); err == nil {
		t.Error("the token file of the old port is still there")
	}
	ts().RemoveToken(4343, t2)
	if tok, err := ts().ReadToken(4343); err != nil || tok != t3 {
		t.Errorf("RemoveToken with another token removed it: %q %v", tok, err)
	}
	ts().RemoveToken(4343, t3)
	if _, err := os.Stat(ts().TokenPath(4343)); err == nil {
		t.Error("RemoveToken left the token")
	}
}

// A user config that cannot be read refuses for now and revokes nothing:
// a typo there must not cut every shell off for good.
func TestApprovedUserConfigBroken(t *testing.T) {
	root := world(t)
	cfg := project(t, root, "a", reqA.RoleARN)
	id, err := ts().Register(testCache, reqA, src, cfg, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := ts().LoadRegistration(id)
	conf := filepath.Join(root, "config", "awsrole", "config.toml")
	if err := os.MkdirAll(filepath.Dir(conf), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("credentials = 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var revoked *Revoked
	if err := reg.Approved(dirconfig.UserConfigPath(xdgdir.FromEnv(os.Getenv).Config), testTrust()); err == nil || errors.As(err, &revoked) {
		t.Errorf("with a broken user config: %v, want a refusal that revokes nothing", err)
	}
}

// ts is the endpoint's store under the test's XDG_STATE_HOME.
func ts() Store { return StoreIn(xdgdir.FromEnv(os.Getenv).State) }

// testCache names the entries a registration is keyed by; nothing is
// cached here.
var testCache = credcache.Cache{Dir: "/cache/awsrole/credentials"}

// testTrust is the trust store of the test's XDG_DATA_HOME, as cmd names it.
func testTrust() dirconfig.TrustStore {
	return dirconfig.TrustStore{Dir: xdgdir.FromEnv(os.Getenv).Data}
}
