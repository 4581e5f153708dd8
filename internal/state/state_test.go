package state

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/transition"
)

func snapshot(pid int) *Snapshot {
	v := "us-east-1"
	return &Snapshot{PID: pid, Active: transition.Active{
		File: "/p/.awsrole.toml", Hash: "h", Originals: map[string]*string{"AWS_REGION": &v, "AWS_PROFILE": nil},
		Applied: map[string]string{"AWS_REGION": "x"},
	}}
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestSaveLoadRoundTrip(t *testing.T) {
	t.Parallel()
	st := Store{Dir: t.TempDir()}
	now := time.Now()
	path, err := st.Save(snapshot(os.Getpid()), now)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot mode: %v %v", fi.Mode(), err)
	}
	got, err := st.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Originals["AWS_REGION"] != "us-east-1" || got.Originals["AWS_PROFILE"] != nil {
		t.Fatalf("originals = %v (unset must stay unset, not become empty)", got.Originals)
	}
	if _, ok := got.Originals["AWS_PROFILE"]; !ok {
		t.Fatal("an unset original was dropped")
	}
}

func TestLoadRefusesWhatIsNotOurs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := Store{Dir: dir}
	path, err := st.Save(snapshot(os.Getpid()), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(dir, "elsewhere.json")
	os.WriteFile(outside, []byte("{}"), 0o600)
	damaged := filepath.Join(filepath.Dir(path), "1-1.json")
	os.WriteFile(damaged, []byte(`{"version":1,"pid":1,"fi`), 0o600)
	writable := filepath.Join(filepath.Dir(path), "1-2.json")
	data, _ := os.ReadFile(path)
	os.WriteFile(writable, data, 0o600)
	os.Chmod(writable, 0o620)
	for _, tt := range []struct{ path, want string }{
		{outside, "is not under"},
		{damaged, "is damaged"},
		{writable, "writable by group or others"},
		{filepath.Join(filepath.Dir(path), "1-3.json"), "is gone"},
	} {
		_, err := st.Load(tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "left as they are") {
			t.Errorf("st.Load(%s) = %v, want %q", filepath.Base(tt.path), err, tt.want)
		}
	}
}

func TestPruneKeepsWhatALiveShellUses(t *testing.T) {
	t.Parallel()
	st := Store{Dir: t.TempDir()}
	live, dead := os.Getpid(), deadPID(t)
	old := time.Now().Add(-2 * grace)
	liveOld, _ := st.Save(snapshot(live), old)
	liveNewest, _ := st.Save(snapshot(live), old.Add(time.Second))
	deadOld, _ := st.Save(snapshot(dead), old)
	deadRecent, _ := st.Save(snapshot(dead), time.Now())
	st.Prune(time.Now())
	for path, want := range map[string]bool{
		liveOld:    false, // superseded, past the grace period
		liveNewest: true,  // what the live shell points at
		deadOld:    false, // its shell is gone
		deadRecent: true,  // inside the grace period: a child may still adopt it
	} {
		_, err := os.Stat(path)
		if (err == nil) != want {
			t.Errorf("%s: exists = %v, want %v", filepath.Base(path), err == nil, want)
		}
	}
}

func TestFailureBackoff(t *testing.T) {
	t.Parallel()
	st := Store{Dir: t.TempDir()}
	now := time.Now()
	f := Failure{PWD: "/p", File: "/p/.awsrole.toml", Hash: "h", At: now}
	if st.Last(1).Repeats(f) {
		t.Fatal("repeated before any failure")
	}
	if err := st.RecordFailure(1, f); err != nil {
		t.Fatal(err)
	}
	later := f
	later.At = now.Add(30 * time.Second)
	if !st.Last(1).Repeats(later) {
		t.Error("same failure 30s later not held back")
	}
	later.At = now.Add(Backoff + time.Second)
	if st.Last(1).Repeats(later) {
		t.Error("held back past the backoff")
	}
	moved := f
	moved.PWD = "/p/sub"
	if st.Last(1).Repeats(moved) {
		t.Error("held back after the directory changed")
	}
	st.ClearFailure(1)
	if st.Last(1).Repeats(f) {
		t.Error("held back after ClearFailure")
	}
}

// A notice stays said however long the shell stays, until another record
// replaces it; it is never taken for a failure, nor one kind for another.
func TestNoticeOnce(t *testing.T) {
	t.Parallel()
	st := Store{Dir: t.TempDir()}
	now := time.Now()
	n := Notice{PWD: "/p", File: "/p/.awsrole.toml", Hash: "h", Kind: Blocked}
	if st.Last(1).Noticed(n) {
		t.Fatal("noticed before any notice")
	}
	if _, err := st.RecordNotice(1, n, now); err != nil {
		t.Fatal(err)
	}
	if !st.Last(1).Noticed(n) {
		t.Error("the notice is not remembered")
	}
	declined := n
	declined.Kind = Declined
	if st.Last(1).Noticed(declined) || st.Last(1).Repeats(Failure{PWD: n.PWD, File: n.File, Hash: n.Hash, At: now}) {
		t.Error("a notice taken for another kind of notice, or for a failure")
	}
	if err := st.RecordFailure(1, Failure{PWD: "/q", File: "/q/.awsrole.toml", Hash: "h", At: now}); err != nil {
		t.Fatal(err)
	}
	if st.Last(1).Noticed(n) {
		t.Error("the notice is remembered after another record replaced it")
	}
}

// A snapshot naming a variable awsrole does not manage (BASH_ENV,
// LD_PRELOAD) was written by someone else: it is damaged, never used.
func TestLoadRefusesUnmanagedNames(t *testing.T) {
	t.Parallel()
	st := Store{Dir: t.TempDir()}
	evil := "/tmp/evil.sh"
	for _, tamper := range []func(s *Snapshot){
		func(s *Snapshot) { s.Originals["BASH_ENV"] = &evil },
		func(s *Snapshot) { s.Applied["LD_PRELOAD"] = transition.Digest(nil) },
		func(s *Snapshot) { s.Originals[transition.StateVar] = &evil },
	} {
		s := snapshot(os.Getpid())
		tamper(s)
		path, err := st.Save(s, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Load(path); err == nil || !strings.Contains(err.Error(), "is damaged") {
			t.Errorf("Load of a snapshot naming %v/%v: err = %v, want damaged", transition.Names(s.Originals), transition.Names(s.Applied), err)
		}
	}
}
