package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

// TestCredentialProcessShortDuration: a project with duration = "20m"
// whose cached credential (the hook's) has 12 minutes left. botocore
// renews 15 minutes before expiry: handed that credential, it would run
// awsrole at every call. credential-process fetches one with 16 minutes
// left instead (20m leaves room for that), so ten calls run awsrole once.
func TestCredentialProcessShortDuration(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, nil)
	python := botocorePython(t, r)
	wrapper, log := r.callLogger()
	r.appendFile(".aws/config", "\n[profile x]\ncredential_process = "+wrapper+" credential-process --dir ~/x\n")
	x := r.project("x", roleDeploy, "e2e-cp-short", "", false)
	r.appendFile("x/.awsrole.toml", "duration = \"20m\"\n")
	r.awsrole(x, "allow", x)

	r.Stub.SetSessionDuration(12 * time.Minute)
	if out, stderr, st := r.run(x, nil, "export", "json", "--pid", "4194651"); st != 0 || !strings.Contains(out, "AWS_SECRET_ACCESS_KEY") {
		t.Fatalf("awsrole export json in ~/x: exit %d, stdout %q, stderr %q", st, out, stderr)
	}
	r.Stub.SetSessionDuration(0)

	const want = "arn:aws:sts::222222222222:assumed-role/deploy/e2e-cp-short"
	script := `import botocore.session
c = botocore.session.Session(profile='x').create_client('sts', region_name='us-east-1')
for _ in range(10):
    print(c.get_caller_identity()['Arn'])
`
	cmd := exec.Command(python, "-c", script)
	cmd.Dir = r.Home
	cmd.Env = r.Environ(map[string]*string{"PWD": sp(r.Home)})
	got, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(got)) != strings.TrimSpace(strings.Repeat(want+"\n", 10)) {
		t.Fatalf("ten botocore calls through profile x: %v\n%s", err, got)
	}
	if n := lines(log); n != 1 {
		t.Errorf("ten botocore calls with duration 20m ran awsrole %d times, want 1", n)
	}
	if n := r.Stub.Count("AssumeRole"); n != 2 {
		t.Errorf("AssumeRole: %d, want 2 (the hook's 12-minute one, then a fresh one); stub log:\n%s", n, hermetic.DescribeCalls(r.Stub.Calls()))
	}
	for _, c := range r.Stub.Calls() {
		if c.Action == "AssumeRole" && c.DurationSeconds != 1200 {
			t.Errorf("AssumeRole asked for %d s, want the file's 1200", c.DurationSeconds)
		}
	}
}
