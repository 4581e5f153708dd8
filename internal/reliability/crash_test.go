package reliability

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	roleCrashA = "arn:aws:iam::222222222222:role/crash-a"
	roleCrashB = "arn:aws:iam::222222222222:role/crash-b"
)

// snapshotName is how a snapshot file is named: <pid>-<unixnano>.json.
var snapshotName = regexp.MustCompile(`^[0-9]+-[0-9]+\.json$`)

// seed is the crash tests' random seed: RELIABILITY_SEED, or the clock.
func seed(t *testing.T) int64 {
	s := time.Now().UnixNano()
	if v := os.Getenv("RELIABILITY_SEED"); v != "" {
		s, _ = strconv.ParseInt(v, 10, 64)
	}
	t.Logf("seed %d (set RELIABILITY_SEED to repeat)", s)
	return s
}

// TestCrash kills `awsrole export bash` with SIGKILL at random moments
// while it enters a project (credentials cached or not), leaves one or
// switches to another. After every kill: each snapshot file is complete,
// the shell points at its old snapshot or its new one, a later leave gives
// back the user's own values exactly, and no lock stays held.
func TestCrash(t *testing.T) {
	t.Parallel()
	timed(t)
	trials := 60
	if long() {
		trials = 520
	}
	kinds := []string{"enter-cache-miss", "enter-cache-hit", "leave", "switch"}
	rng := rand.New(rand.NewSource(seed(t)))
	for _, kind := range kinds {
		s := rng.Int63()
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			crashTrials(t, kind, trials/len(kinds), rand.New(rand.NewSource(s)))
		})
	}
}

// crashRig is one kind of crash trial's world.
type crashRig struct {
	t        *testing.T
	w        *world
	a, b     string // projects
	parent   string // a plain directory
	pid      int    // the shell, alive
	orig     map[string]*string
	baseEnv  map[string]string
	strays   map[string]bool
	finished int // trials in which awsrole finished before the kill
}

func crashTrials(t *testing.T, kind string, n int, rng *rand.Rand) {
	w := newWorld(t)
	rig := &crashRig{t: t, w: w, pid: sleeper(t), strays: map[string]bool{}}
	rig.a = w.project("crash-a", roleCrashA, "eu-west-1")
	rig.b = w.project("crash-b", roleCrashB, "")
	rig.parent = filepath.Join(w.Home, "plain")
	rig.orig = map[string]*string{}
	for _, k := range managedVars {
		rig.orig[k] = w.Env[k]
	}
	rig.baseEnv = envNow(w.Env, rig.parent)
	if kind != "enter-cache-miss" {
		// Fill the cache for both roles.
		for _, p := range []string{rig.a, rig.b} {
			env := rig.run(p, rig.baseEnv, fakePIDNext(), 0)
			if env.err != nil {
				t.Fatalf("entering %s: %v", p, env.err)
			}
		}
	}

	// How long the call takes when nobody kills it: the kills fall
	// anywhere in 0..1.3 times a window that starts there and then
	// follows the machine's speed, so that about half the calls are
	// killed, at every point of their run.
	var typical []time.Duration
	for i := 0; i < 3; i++ {
		start, _ := rig.prepare(kind)
		r := rig.run(rig.target(kind), start, rig.pid, 0)
		if r.err != nil || r.killed {
			t.Fatalf("%s without a kill: %v\nstderr: %s", kind, r.err, r.stderr)
		}
		typical = append(typical, r.elapsed)
	}
	sort.Slice(typical, func(i, j int) bool { return typical[i] < typical[j] })
	d := typical[1]
	t.Logf("%s takes about %s uncut", kind, d)

	for i := 0; i < n && !t.Failed(); i++ {
		killed := rig.trial(kind, time.Duration(rng.Int63n(int64(d)*13/10+1)), i%4 == 3 || i == n-1)
		if killed {
			d = min(d*107/100, 5*time.Second)
		} else {
			d = max(d*93/100, time.Millisecond)
		}
	}
	t.Logf("%d trials: awsrole finished before the kill in %d, was killed in %d (kill window at the end: 0..%s)", n, rig.finished, n-rig.finished, d*13/10)
	if len(rig.strays) > 0 {
		var names []string
		for s := range rig.strays {
			names = append(names, s)
		}
		sort.Strings(names)
		t.Logf("temporary files left by killed calls (ignored by awsrole): %s", strings.Join(names, ", "))
	}
	rig.checkTempsCleaned()
}

// tempDirs are where awsrole writes files through a temporary file.
func (rig *crashRig) tempDirs() []string {
	return []string{rig.w.snapshotsDir(), rig.w.cacheDir(),
		filepath.Join(rig.w.stateDir(), "failures"), filepath.Join(rig.w.stateDir(), "marks")}
}

// checkTempsCleaned ages the temporary files killed calls left past the
// grace period and checks that the next call that writes removes them.
func (rig *crashRig) checkTempsCleaned() {
	t := rig.t
	old := time.Now().Add(-2 * time.Minute)
	var left []string
	for _, dir := range rig.tempDirs() {
		// One of our own too, so that the cleaning is checked even when
		// no kill happened to leave one.
		if _, err := os.Stat(dir); err == nil {
			if err := os.WriteFile(filepath.Join(dir, ".tmp-reliability"), []byte("{\"vers"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		files, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
		for _, f := range files {
			os.Chtimes(f, old, old)
		}
	}
	rig.clearCache()
	if r := rig.run(rig.a, rig.baseEnv, fakePIDNext(), 0); r.err != nil {
		t.Fatalf("entering %s: %v", rig.a, r.err)
	}
	for _, dir := range rig.tempDirs() {
		files, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
		left = append(left, files...)
	}
	if len(left) > 0 {
		t.Errorf("temporary files older than the grace period outlive the next write: %s", strings.Join(left, ", "))
	}
}

// target is the directory the call under test runs in.
func (rig *crashRig) target(kind string) string {
	switch kind {
	case "leave":
		return rig.parent
	case "switch":
		return rig.b
	}
	return rig.a
}

// prepare puts the shell where the call under test starts: its environment
// and the snapshot it points at ("" for none).
func (rig *crashRig) prepare(kind string) (env map[string]string, snapshot string) {
	switch kind {
	case "enter-cache-miss":
		rig.clearCache()
		return rig.baseEnv, ""
	case "enter-cache-hit":
		return rig.baseEnv, ""
	}
	r := rig.run(rig.a, rig.baseEnv, rig.pid, 0)
	if r.err != nil {
		rig.t.Fatalf("entering %s: %v\nstderr: %s", rig.a, r.err, r.stderr)
	}
	return r.env, r.env["AWSROLE_STATE"]
}

func (rig *crashRig) clearCache() {
	files, _ := filepath.Glob(filepath.Join(rig.w.cacheDir(), "*.json"))
	for _, f := range files {
		os.Remove(f)
	}
}

// callResult is one awsrole call and the environment after the shell
// evaluated what it printed.
type callResult struct {
	env            map[string]string
	stdout, stderr string
	killed         bool
	elapsed        time.Duration
	err            error
}

func fakePIDNext() int { return int(fakePID.Add(1)) }

// run runs `awsrole export bash --pid pid` in dir with env, kills it after
// kill (0: never), and evaluates whatever it printed in bash, as the hook
// would.
func (rig *crashRig) run(dir string, env map[string]string, pid int, kill time.Duration) callResult {
	penv := map[string]*string{}
	for k, v := range env {
		penv[k] = sp(v)
	}
	penv["PWD"] = sp(dir)
	cmd := exec.Command(awsroleBin, "export", "bash", "--pid", strconv.Itoa(pid))
	cmd.Dir, cmd.Env = dir, environ(penv)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return callResult{err: err}
	}
	if kill > 0 {
		timer := time.AfterFunc(kill, func() { cmd.Process.Kill() })
		defer timer.Stop()
	}
	werr := cmd.Wait()
	res := callResult{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	if werr != nil {
		if ps := cmd.ProcessState; ps != nil && strings.Contains(ps.String(), "killed") {
			res.killed = true
		} else {
			res.err = fmt.Errorf("%v; stderr: %s", werr, res.stderr)
			return res
		}
	} else if res.stderr != "" {
		res.err = fmt.Errorf("stderr: %s", res.stderr)
		return res
	}
	res.env, res.err = evalInBash(dir, env, res.stdout)
	return res
}

// evalInBash evaluates code in a bash with env and returns the exported
// environment after.
func evalInBash(dir string, env map[string]string, code string) (map[string]string, error) {
	penv := map[string]*string{}
	for k, v := range env {
		penv[k] = sp(v)
	}
	cmd := exec.Command(bashBin, "--norc", "--noprofile", "-c", `eval "$1" || exit 99; env -0`, "bash", code)
	cmd.Dir, cmd.Env = dir, environ(penv)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		return nil, fmt.Errorf("bash could not evaluate %q: %v %s", code, err, stderr.String())
	}
	return parseEnv0(string(out)), nil
}

// trial runs one kill and everything that must hold after it; lockCheck
// adds a fresh entry with an empty cache, which must not wait on a lock.
func (rig *crashRig) trial(kind string, kill time.Duration, lockCheck bool) (killed bool) {
	t := rig.t
	t.Helper()
	start, oldSnap := rig.prepare(kind)
	before := rig.snapshots()
	r := rig.run(rig.target(kind), start, rig.pid, kill)
	where := fmt.Sprintf("%s killed after %s", kind, kill)
	if !r.killed {
		rig.finished++
		where = fmt.Sprintf("%s (finished before the kill at %s)", kind, kill)
	}
	if r.err != nil {
		t.Errorf("%s: %v", where, r.err)
		return r.killed
	}
	if r.killed && r.stdout != "" {
		t.Logf("%s: the killed call had printed %d bytes", where, len(r.stdout))
	}

	// Every snapshot is whole; other files are only awsrole's temporary ones.
	after := rig.checkSnapshotDir(where)

	// The shell points at its old snapshot or at one this call wrote.
	ptr := r.env["AWSROLE_STATE"]
	switch {
	case ptr == oldSnap:
		if d := envDiff(start, r.env); d != "" && r.killed && r.stdout == "" {
			t.Errorf("%s: nothing was printed, yet the environment changed:\n%s", where, d)
		}
	case ptr == "" && kind == "leave":
		if d := managedDiff(rig.orig, r.env); d != "" {
			t.Errorf("%s: left, but not to the user's own values:\n%s", where, d)
		}
	case ptr != "" && !before[filepath.Base(ptr)] && after[filepath.Base(ptr)]:
		want := roleCrashA
		if kind == "switch" {
			want = roleCrashB
		}
		checkActive(t, r.env, want)
	default:
		t.Errorf("%s: the shell points at %q: neither its old snapshot %q nor a new one", where, ptr, oldSnap)
	}
	if oldSnap != "" && !after[filepath.Base(oldSnap)] {
		t.Errorf("%s: the snapshot the shell pointed at before, %s, is gone", where, oldSnap)
	}

	// Leaving later gives back the user's own values, byte for byte.
	l := rig.run(rig.parent, r.env, rig.pid, 0)
	if l.err != nil {
		t.Errorf("%s: leaving afterwards: %v", where, l.err)
	} else if d := managedDiff(rig.orig, l.env); d != "" {
		t.Errorf("%s: leaving afterwards did not give back the user's own values:\n%s", where, d)
	}

	// No lock is held: a fresh entry with an empty cache finishes promptly.
	if !lockCheck {
		return r.killed
	}
	rig.clearCache()
	f := rig.run(rig.a, rig.baseEnv, fakePIDNext(), 0)
	if f.err != nil {
		t.Errorf("%s: a fresh entry afterwards: %v", where, f.err)
	} else if f.elapsed > 5*time.Second {
		t.Errorf("%s: a fresh entry afterwards took %s: a lock was left held?", where, f.elapsed)
	} else {
		checkActive(t, f.env, roleCrashA)
	}
	return r.killed
}

// snapshots lists the snapshot files by name.
func (rig *crashRig) snapshots() map[string]bool {
	entries, _ := os.ReadDir(rig.w.snapshotsDir())
	m := map[string]bool{}
	for _, e := range entries {
		m[e.Name()] = true
	}
	return m
}

// checkSnapshotDir checks every file in the snapshot directory and notes
// temporary files left behind; it returns the names present.
func (rig *crashRig) checkSnapshotDir(where string) map[string]bool {
	t := rig.t
	names := rig.snapshots()
	for name := range names {
		p := filepath.Join(rig.w.snapshotsDir(), name)
		switch {
		case snapshotName.MatchString(name):
			if _, err := readSnapshot(p); err != nil {
				t.Errorf("%s: torn snapshot: %v", where, err)
			}
		case strings.HasPrefix(name, ".tmp-"):
			rig.strays["snapshots/"+name] = true
		default:
			t.Errorf("%s: unexpected file %s in the snapshot directory", where, p)
		}
	}
	for _, dir := range []string{rig.w.cacheDir(), filepath.Join(rig.w.stateDir(), "failures"), filepath.Join(rig.w.stateDir(), "marks")} {
		files, _ := filepath.Glob(filepath.Join(dir, ".tmp-*"))
		for _, f := range files {
			rig.strays[filepath.Base(dir)+"/"+filepath.Base(f)] = true
		}
	}
	return names
}
