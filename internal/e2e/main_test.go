package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsrole/awsrole/internal/testrig/ptyshell"

	"github.com/awsrole/awsrole/internal/testrig"
	"github.com/awsrole/awsrole/shellgen"
)

var (
	// busy bounds the tests at work: a test takes a slot with
	// busy.Parallel(t) in place of t.Parallel() (forEachShell does it for
	// each shell), unless its parallel subtests do the work.
	busy *testrig.Busy
	// binDir holds the awsrole binary built for this run, a link to the aws
	// CLI (testrig.LookPath: past a pyenv shim) and a link to this test
	// binary named goCaller.
	binDir string
	// awsroleBin is the built binary.
	awsroleBin string
	// shells maps bash, zsh and fish to their paths.
	shells = map[string]string{}
)

// shellKinds are the shells every scenario runs under: the registry's
// interactive shells, each with a row in ptyshell.Table.
var shellKinds = shellgen.Names(shellgen.UsePrompt)

// fastPathShells are the shells whose hook starts no process at a steady prompt.
func fastPathShells() []string {
	var out []string
	for _, kind := range shellKinds {
		if ptyshell.Table[kind].FastPath {
			out = append(out, kind)
		}
	}
	return out
}

// goCaller is the name under which this test binary, linked into binDir,
// is the Go SDK client of callerArn (see goCallerMain).
const goCaller = "awsrole-e2e-caller"

func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == goCaller {
		os.Exit(goCallerMain())
	}
	flag.Parse()
	// Three tests per CPU at work overlap their short waits (prompts, STS
	// round trips) without crowding the shells and clients they start;
	// tests that wait for a renewal window or an expiry give their slot
	// back meanwhile (busy.Wait). Four per CPU spent a sixth more CPU.
	busy = testrig.NewBusy(3)
	if testing.Short() {
		// Nothing here is logic of its own: the whole suite drives real
		// processes, so it costs nothing under -short, not even a build.
		fmt.Println("e2e: skipped:", testrig.Short)
		os.Exit(0)
	}
	code, err := setup(m)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e setup: %v\n", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	tmp, err := os.MkdirTemp("", "awsrole-e2e-bin-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	binDir = filepath.Join(tmp, "bin")

	if awsroleBin, err = testrig.Build(binDir); err != nil {
		return 0, err
	}

	for _, sh := range shellKinds {
		p, err := exec.LookPath(sh)
		switch {
		case err != nil && ptyshell.Table[sh].Optional:
			// Its subtests skip, saying so (startShell).
			fmt.Fprintf(os.Stderr, "e2e: %s is not on PATH: its subtests are skipped (.ci/run installs it)\n", sh)
			continue
		case err != nil:
			return 0, fmt.Errorf("%s is not on PATH; the end-to-end tests need bash, zsh and fish (.ci/run installs every shell)", sh)
		}
		shells[sh] = p
	}
	aws, err := testrig.LookPath("aws")
	if err != nil {
		return 0, fmt.Errorf("the aws CLI is not on PATH (%v); the end-to-end tests use it as an independent client", err)
	}
	if out, err := exec.Command(aws, "--version").CombinedOutput(); err != nil {
		return 0, fmt.Errorf("aws --version: %v\n%s", err, out)
	}
	if err := os.Symlink(aws, filepath.Join(binDir, "aws")); err != nil {
		return 0, err
	}
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	if err := os.Symlink(self, filepath.Join(binDir, goCaller)); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// goCallerMain is `aws sts get-caller-identity --query Arn --output text`
// written with aws-sdk-go-v2: credentials, region and AWS_ENDPOINT_URL_STS
// from the default chain, exactly as a user's Go program finds them; the
// ARN on stdout, or the error on stderr and exit status 1.
func goCallerMain() int {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(*out.Arn)
	return 0
}
