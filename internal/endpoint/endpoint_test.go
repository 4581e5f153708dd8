package endpoint

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/privfile"
)

func world(t *testing.T) {
	root := t.TempDir()
	t.Setenv("XDG_STATE_HOME", root+"/state")
	t.Setenv("XDG_CACHE_HOME", root+"/cache")
}

var (
	reqA = credcache.Request{RoleARN: "arn:aws:iam::222222222222:role/a", SessionName: "s", Duration: time.Hour, Window: 5 * time.Minute}
	reqB = credcache.Request{RoleARN: "arn:aws:iam::222222222222:role/b", SessionName: "s", Duration: time.Hour, Window: 5 * time.Minute}
	src  = credcache.Source{Kind: credcache.SourceEnv, Identity: "env:AKIAUNITEXAMPLE00001", Region: "us-east-1"}
)

// A registration holds the request, never credentials, in a 0600 file
// under an opaque id that differs per role and is stable per role.
func TestRegister(t *testing.T) {
	world(t)
	idA, err := Register(reqA, src, "/src/a", os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	idB, _ := Register(reqB, src, "/src/b", os.Getpid())
	if idA == idB || idA != ID(reqA, src) || !validID(idA) || strings.Contains(idA, "222222222222") {
		t.Errorf("ids %q and %q: want distinct opaque ids, stable per role", idA, idB)
	}
	reg, err := LoadRegistration(idA)
	if err != nil || reg.Request.RoleARN != reqA.RoleARN || reg.Dir != "/src/a" {
		t.Fatalf("LoadRegistration: %+v, %v", reg, err)
	}
	data, _ := os.ReadFile(RolePath(idA))
	for _, secret := range []string{"secret", "token", "AKIA"} {
		if strings.Contains(strings.ToLower(string(data)), strings.ToLower(secret)+`"`) {
			t.Errorf("registration mentions %s: %s", secret, data)
		}
	}
	if fi, _ := os.Stat(RolePath(idA)); fi.Mode().Perm() != 0o600 {
		t.Errorf("registration mode %v", fi.Mode().Perm())
	}
	for _, bad := range []string{"", "../token", strings.Repeat("A", 32), strings.Repeat("0", 31), strings.Repeat("0", 32)} {
		if _, err := LoadRegistration(bad); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("LoadRegistration(%q): %v, want not found", bad, err)
		}
	}
}

// A registered process counts as a user while it lives; a dead one is
// forgotten.
func TestLiveUsers(t *testing.T) {
	world(t)
	if LiveUsers() != 0 {
		t.Fatal("users in an empty state dir")
	}
	cmd := exec.Command("true")
	cmd.Run()
	dead := cmd.Process.Pid
	Register(reqA, src, "/src/a", os.Getpid())
	Register(reqA, src, "/src/a", dead)
	if n := LiveUsers(); n != 1 {
		t.Errorf("LiveUsers = %d, want 1 (this process; %d is gone)", n, dead)
	}
	if _, err := os.Stat(shellPath(dead)); err == nil {
		t.Errorf("the entry of the dead process %d is still there", dead)
	}
	Release(os.Getpid())
	if n := LiveUsers(); n != 0 {
		t.Errorf("LiveUsers after Release = %d", n)
	}
}

// A record without the lock held is no server (a recycled pid after
// kill -9); with it, it is.
func TestRunningNeedsTheLock(t *testing.T) {
	world(t)
	data, _ := json.Marshal(Info{PID: os.Getpid(), Port: 4242})
	if err := privfile.Write(InfoPath(), data); err != nil {
		t.Fatal(err)
	}
	if _, ok := Running(); ok {
		t.Error("Running without anyone holding the server lock")
	}
	lock := flock.New(ServerLockPath())
	if ok, err := lock.TryLock(); !ok || err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	if i, ok := Running(); !ok || i.Port != 4242 {
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
