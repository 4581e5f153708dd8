package e2e

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/testrig/ptyshell"

	"github.com/awsrole/awsrole/internal/stsstub"

	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

// TestConcurrentEntry starts 16 hook calls at once, as 16 shells entering
// the same project would, with an empty cache: one AssumeRole at the stub,
// and every answer gives working credentials.
func TestConcurrentEntry(t *testing.T) {
	busy.Parallel(t)
	const n = 16
	r := newRig(t, nil)
	proj := r.project("proj", roleDeploy, "e2e-conc", "eu-west-1", true)
	// The first AssumeRole takes a while, so every process is surely
	// running (and waiting or calling) before any credentials are cached.
	r.Stub.FailNext("AssumeRole", 1, stsstub.Fault{Hang: 1500 * time.Millisecond})

	results := enterAtOnce(r, proj, n, 4194304+1000)

	if got := r.assumeCalls(""); len(got) != 1 {
		t.Errorf("%d processes entering at once made %d AssumeRole calls, want 1:\n%s", n, len(got), hermetic.DescribeCalls(got))
	}
	keys := exportedKeys(t, r, proj, results)
	if len(keys) != 1 {
		t.Errorf("the %d processes exported %d different keys, want one (the shared cache's)", n, len(keys))
	}
	for key, code := range keys {
		cmd := exec.Command("bash", "-c", `eval "$1" && aws sts get-caller-identity --query Arn --output text`, "bash", code)
		cmd.Dir = proj
		cmd.Env = r.Environ(map[string]*string{"PWD": sp(proj)})
		out, err := cmd.CombinedOutput()
		if got, want := strings.TrimSpace(string(out)), "arn:aws:sts::222222222222:assumed-role/deploy/e2e-conc"; err != nil || got != want {
			t.Errorf("aws sts get-caller-identity with %s: %q (%v), want %q", key, got, err, want)
		}
	}
}

// exportResult is one `awsrole export bash` run by enterAtOnce.
type exportResult struct {
	stdout, stderr string
	err            error
}

// enterAtOnce runs n `awsrole export bash` in proj at the same moment, as n
// shells entering it would (distinct shell pids from pidBase; no such
// processes exist, pid_max is lower).
func enterAtOnce(r *rig, proj string, n, pidBase int) []exportResult {
	results := make([]exportResult, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		cmd := exec.Command(awsroleBin, "export", "bash", "--pid", strconv.Itoa(pidBase+i))
		cmd.Dir = proj
		cmd.Env = r.Environ(map[string]*string{"PWD": sp(proj), "SHLVL": sp("1")})
		wg.Add(1)
		go func() {
			defer wg.Done()
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			<-start
			err := cmd.Run()
			results[i] = exportResult{stdout.String(), stderr.String(), err}
		}()
	}
	close(start)
	wg.Wait()
	return results
}

// exportedKeys evaluates each result in bash as the hook does, checks the
// role is active there, and returns each access key id exported with one
// output that exports it.
func exportedKeys(t *testing.T, r *rig, proj string, results []exportResult) map[string]string {
	t.Helper()
	keys := map[string]string{}
	for i, res := range results {
		if res.err != nil || res.stderr != "" {
			t.Errorf("process %d: %v, stderr %q", i, res.err, res.stderr)
			continue
		}
		cmd := exec.Command("bash", "-c", `eval "$1" && env -0`, "bash", res.stdout)
		cmd.Dir = proj
		cmd.Env = r.Environ(map[string]*string{"PWD": sp(proj)})
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("process %d: evaluating its output in bash: %v\noutput: %q", i, err, res.stdout)
			continue
		}
		env := ptyshell.ParseEnv0(t, string(out))
		wantActive(t, r, "process "+strconv.Itoa(i), env, roleDeploy, proj, "eu-west-1")
		if k := env["AWS_ACCESS_KEY_ID"]; k != nil {
			keys[*k] = res.stdout
		}
	}
	return keys
}
