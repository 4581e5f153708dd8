package reliability

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

// manyProject is one of the projects the shells move between.
type manyProject struct {
	dir, role, region string
}

// manyRun is the shared world of TestManyShells.
type manyRun struct {
	t        *testing.T
	w        *world
	projects []manyProject
	plain    []string
	deadline time.Time

	mu      sync.Mutex
	shells  []*manyShell
	keys    map[string]string // access key id -> the role STS says it belongs to
	steps   int
	nested  int
	killed  int
	pending int // nested shells still to start
}

// manyShell is one shell of TestManyShells.
type manyShell struct {
	*shell
	name   string
	dead   bool
	parent string
}

// TestManyShells moves many real bash shells at random between five
// projects (roots and subdirectories) and plain directories, some started
// inside others and inheriting their environment, some killed on the way.
// After every step a shell's variables match its directory: the project's
// role (checked with STS itself) or the user's own values, byte for byte.
// STS sees at most one AssumeRole per role, no snapshot a live shell points
// at is pruned, and no lock stays held.
func TestManyShells(t *testing.T) {
	t.Parallel()
	exclusive.Lock()
	var unlock sync.Once
	release := func() { unlock.Do(exclusive.Unlock) }
	t.Cleanup(release)
	// 8 s keeps both cores busy with about 300 steps (2 killed and 2 nested
	// shells among them); the long run goes on for a minute.
	n, dur := 8, 8*time.Second
	if long() {
		n, dur = 32, time.Minute
	}
	rng := rand.New(rand.NewSource(seed(t)))
	w := newWorld(t)
	run := &manyRun{t: t, w: w, keys: map[string]string{}}
	regions := []string{"eu-west-1", "", "us-west-2", "", "ap-south-1"}
	for i, region := range regions {
		p := w.project(fmt.Sprintf("many-%d", i), fmt.Sprintf("arn:aws:iam::222222222222:role/many-%d", i), region)
		if err := os.MkdirAll(filepath.Join(p, "src", "deep"), 0o755); err != nil {
			t.Fatal(err)
		}
		run.projects = append(run.projects, manyProject{p, fmt.Sprintf("arn:aws:iam::222222222222:role/many-%d", i), region})
	}
	run.plain = []string{w.Home, filepath.Join(w.Home, "plain"), filepath.Join(w.Root, "outside")}
	for _, d := range run.plain {
		os.MkdirAll(d, 0o755)
	}

	roots := n - n/4
	run.pending = n / 4
	run.deadline = time.Now().Add(dur)
	var wg sync.WaitGroup
	for i := 0; i < roots; i++ {
		sh, err := w.startShell(t, w.Home, with(w.Env, variant(i)))
		if err != nil {
			t.Fatal(err)
		}
		ms := &manyShell{shell: sh, name: fmt.Sprintf("shell %d", i)}
		run.add(ms)
		seed := rng.Int63()
		// Some root shells are killed on the way, mid-call.
		var killAt time.Time
		if i < max(2, n/8) {
			killAt = time.Now().Add(time.Duration(rng.Int63n(int64(dur))))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			run.drive(ms, rand.New(rand.NewSource(seed)), killAt, &wg)
		}()
	}
	wg.Wait()
	t.Logf("%d steps by %d shells (%d nested, %d killed) in %s", run.steps, len(run.shells), run.nested, run.killed, dur)

	// STS: at most one AssumeRole per role in the run (one refresh window).
	for _, p := range run.projects {
		if got := assumeCalls(w.Stub, p.role); len(got) > 1 {
			t.Errorf("%d AssumeRole calls for %s, want at most 1:\n%s", len(got), p.role, hermetic.DescribeCalls(got))
		}
	}

	run.checkPointers("after the run")

	if long() {
		// Past the grace period, a snapshot write prunes: what live
		// shells point at stays, what dead shells had goes.
		// The wait loads nothing: let the timed tests run meanwhile.
		release()
		t.Logf("waiting past the one-minute grace period")
		time.Sleep(65 * time.Second)
		live := run.live()
		if len(live) == 0 {
			t.Fatal("no live shell left")
		}
		s := live[0]
		target := run.projects[0].dir
		if strings.HasPrefix(s.Cwd, target) {
			target = run.projects[1].dir
		}
		if r, err := s.step(target, 0); err != nil || r.RC != 0 {
			t.Fatalf("a step to prune: %v %+v", err, r)
		}
		run.checkPointers("after pruning")
		run.checkDeadPruned()
	}

	// No lock stays held: with an empty cache, entering each project
	// from a new shell finishes promptly.
	files, _ := filepath.Glob(filepath.Join(w.cacheDir(), "*.json"))
	for _, f := range files {
		os.Remove(f)
	}
	var lw sync.WaitGroup
	for _, p := range run.projects {
		lw.Add(1)
		go func() {
			defer lw.Done()
			start := time.Now()
			_, stderr, err := w.awsrole(p.dir, nil, "export", "bash", "--pid", fmt.Sprint(fakePIDNext()))
			if err != nil || time.Since(start) > 5*time.Second {
				t.Errorf("a fresh entry into %s after the run: %v after %s, stderr %q", p.dir, err, time.Since(start), stderr)
			}
		}()
	}
	lw.Wait()
}

// variant gives shell i its own mix of original values: set, empty, unset.
func variant(i int) map[string]*string {
	switch i % 4 {
	case 1:
		return map[string]*string{"AWS_SECURITY_TOKEN": sp(fmt.Sprintf("legacy 'token' %d\n", i)), "AWS_DEFAULT_REGION": nil}
	case 2:
		return map[string]*string{"AWS_PROFILE": nil, "AWS_DEFAULT_PROFILE": nil, "AWSROLE_DIR": nil}
	case 3:
		return map[string]*string{"AWS_DEFAULT_REGION": sp("sa-east-1"), "AWS_CREDENTIAL_EXPIRATION": sp("")}
	}
	return nil
}

func (run *manyRun) add(s *manyShell) {
	run.mu.Lock()
	defer run.mu.Unlock()
	run.shells = append(run.shells, s)
}

func (run *manyRun) live() []*manyShell {
	run.mu.Lock()
	defer run.mu.Unlock()
	var out []*manyShell
	for _, s := range run.shells {
		if !s.dead {
			out = append(out, s)
		}
	}
	return out
}

// pick chooses the next directory: a project's root or subdirectory, or a
// plain directory.
func (run *manyRun) pick(rng *rand.Rand) string {
	p := run.projects[rng.Intn(len(run.projects))].dir
	switch x := rng.Intn(10); {
	case x < 4:
		return p
	case x < 7:
		return filepath.Join(p, "src", "deep")
	}
	return run.plain[rng.Intn(len(run.plain))]
}

// drive moves one shell until the deadline (or killAt, when it is killed
// in the middle of a step).
func (run *manyRun) drive(s *manyShell, rng *rand.Rand, killAt time.Time, wg *sync.WaitGroup) {
	t := run.t
	for time.Now().Before(run.deadline) {
		dir := run.pick(rng)
		if !killAt.IsZero() && time.Now().After(killAt) {
			// Kill the shell and its awsrole while a step runs.
			go func() {
				time.Sleep(time.Duration(rng.Int63n(int64(80 * time.Millisecond))))
				s.Kill()
			}()
			s.step(dir, 0)
			s.Wait()
			run.mu.Lock()
			s.dead = true
			run.killed++
			run.mu.Unlock()
			return
		}
		r, err := s.step(dir, 0)
		if err != nil {
			t.Errorf("%s: step into %s: %v", s.name, dir, err)
			return
		}
		run.mu.Lock()
		run.steps++
		run.mu.Unlock()
		if !run.check(s, r) {
			return
		}
		// Now and then a nested shell starts here, with this environment.
		run.mu.Lock()
		spawn := run.pending > 0 && rng.Intn(8) == 0 && time.Until(run.deadline) > 3*time.Second
		if spawn {
			run.pending--
			run.nested++
		}
		name := fmt.Sprintf("%s/nested %d", s.name, run.nested)
		run.mu.Unlock()
		if spawn {
			env := map[string]*string{}
			for k, v := range s.Env {
				env[k] = sp(v)
			}
			child, err := run.w.startShell(t, s.Cwd, env)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			// Its own values are its parent's own values.
			child.Orig = s.Orig
			cs := &manyShell{shell: child, name: name, parent: s.name}
			run.add(cs)
			// Its first prompt is where it started.
			r, err := cs.step(s.Cwd, 0)
			if err != nil || !run.check(cs, r) {
				t.Errorf("%s: first prompt: %v", name, err)
				return
			}
			seed := rng.Int63()
			wg.Add(1)
			go func() {
				defer wg.Done()
				run.drive(cs, rand.New(rand.NewSource(seed)), time.Time{}, wg)
			}()
		}
	}
}

// check checks one step: the shell's variables match its directory.
func (run *manyRun) check(s *manyShell, r *step) bool {
	t := run.t
	where := fmt.Sprintf("%s in %s", s.name, r.Dir)
	if r.RC != 0 || r.Stderr != "" || r.EvalRC != 0 || r.EvalErr != "" {
		t.Errorf("%s: status %d, stderr %q, eval %d %q", where, r.RC, r.Stderr, r.EvalRC, r.EvalErr)
		return false
	}
	var proj *manyProject
	for i := range run.projects {
		if p := run.projects[i].dir; r.Dir == p || strings.HasPrefix(r.Dir, p+"/") {
			proj = &run.projects[i]
		}
	}
	env := r.After
	if proj == nil {
		if d := managedDiff(s.Orig, env); d != "" {
			t.Errorf("%s: outside any project, the shell does not have its own values:\n%s", where, d)
			return false
		}
		return true
	}
	var bad []string
	if env["AWSROLE_ARN"] != proj.role || env["AWSROLE_DIR"] != proj.dir {
		bad = append(bad, fmt.Sprintf("AWSROLE_ARN=%q AWSROLE_DIR=%q", env["AWSROLE_ARN"], env["AWSROLE_DIR"]))
	}
	wantRegion := proj.region
	if wantRegion == "" {
		wantRegion = *s.Orig["AWS_REGION"]
	}
	if env["AWS_REGION"] != wantRegion {
		bad = append(bad, fmt.Sprintf("AWS_REGION=%q, want %q", env["AWS_REGION"], wantRegion))
	}
	for _, h := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"} {
		if v, ok := env[h]; ok {
			bad = append(bad, fmt.Sprintf("%s=%q is still set", h, v))
		}
	}
	if p := env["AWSROLE_STATE"]; p == "" {
		bad = append(bad, "AWSROLE_STATE is not set")
	} else if snap, err := readSnapshot(p); err != nil {
		bad = append(bad, err.Error())
	} else if snap.PID != s.PID {
		bad = append(bad, fmt.Sprintf("AWSROLE_STATE %s belongs to pid %d, not this shell (%d)", p, snap.PID, s.PID))
	} else if d := managedDiff(s.Orig, originalsOf(snap.Originals)); d != "" {
		bad = append(bad, "the snapshot's originals are not the shell's own values:\n"+d)
	}
	if role, err := run.roleOf(env); err != nil {
		bad = append(bad, err.Error())
	} else if role != proj.role {
		bad = append(bad, fmt.Sprintf("STS says the credentials are %s's", role))
	}
	if len(bad) > 0 {
		t.Errorf("%s: %s", where, strings.Join(bad, "; "))
		return false
	}
	return true
}

// originalsOf is a snapshot's originals as an environment (AWSROLE_STATE unset).
func originalsOf(o map[string]*string) map[string]string {
	m := map[string]string{}
	for k, v := range o {
		if v != nil {
			m[k] = *v
		}
	}
	return m
}

// roleOf asks STS whose the credentials in env are, once per key.
func (run *manyRun) roleOf(env map[string]string) (string, error) {
	key := env["AWS_ACCESS_KEY_ID"]
	run.mu.Lock()
	role, ok := run.keys[key]
	run.mu.Unlock()
	if ok {
		return role, nil
	}
	client := sts.New(sts.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(run.w.Stub.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(key, env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"]),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("GetCallerIdentity with the shell's credentials: %v", err)
	}
	// arn:aws:sts::222222222222:assumed-role/NAME/SESSION -> the role ARN.
	arn := aws.ToString(out.Arn)
	parts := strings.Split(arn, "/")
	if len(parts) != 3 || !strings.Contains(parts[0], ":assumed-role") {
		return "", fmt.Errorf("the shell's credentials are %s's, not a role's", arn)
	}
	account := strings.Split(parts[0], ":")[4]
	role = "arn:aws:iam::" + account + ":role/" + parts[1]
	run.mu.Lock()
	run.keys[key] = role
	run.mu.Unlock()
	return role, nil
}

// checkPointers checks that the snapshot every live shell points at exists
// and is whole.
func (run *manyRun) checkPointers(when string) {
	for _, s := range run.live() {
		p := s.Env["AWSROLE_STATE"]
		if p == "" {
			continue
		}
		if _, err := readSnapshot(p); err != nil {
			run.t.Errorf("%s: %s (pid %d) points at %s: %v", when, s.name, s.PID, p, err)
		}
	}
}

// checkDeadPruned checks that no snapshot of a killed shell outlives the
// grace period.
func (run *manyRun) checkDeadPruned() {
	entries, _ := os.ReadDir(run.w.snapshotsDir())
	for _, s := range run.shells {
		if !s.dead {
			continue
		}
		prefix := fmt.Sprintf("%d-", s.PID)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), prefix) {
				run.t.Errorf("%s was killed over a minute ago, its snapshot %s is still there", s.name, e.Name())
			}
		}
	}
}
