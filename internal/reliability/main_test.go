package reliability

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/awsrole/awsrole/internal/testrig"
)

var longFlag = flag.Bool("long", false, "run the long variants: 500+ crash trials, 32 shells for a minute, pruning after the grace period (also RELIABILITY_LONG=1)")

// long reports whether the long variants run.
func long() bool { return *longFlag || os.Getenv("RELIABILITY_LONG") == "1" }

var (
	// awsroleBin is the binary built for this run.
	awsroleBin string
	// bashBin is the bash every shell of the tests runs.
	bashBin string
)

func TestMain(m *testing.M) {
	flag.Parse()
	// Most tests spend their time waiting on processes and STS timeouts;
	// the CPU-bound ones bound their own concurrency (see cpuSlots).
	testrig.WaitingParallel(8)
	if testing.Short() {
		// Nothing here is logic of its own: the whole suite drives real
		// processes, so it costs nothing under -short, not even a build.
		fmt.Println("reliability: skipped:", testrig.Short)
		os.Exit(0)
	}
	code, err := setup(m)
	if err != nil {
		fmt.Fprintf(os.Stderr, "reliability setup: %v\n", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	tmp, err := os.MkdirTemp("", "awsrole-reliability-bin-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	if awsroleBin, err = testrig.Build(tmp); err != nil {
		return 0, err
	}
	if bashBin, err = exec.LookPath("bash"); err != nil {
		return 0, fmt.Errorf("bash is not on PATH; the reliability tests evaluate awsrole's output in a real bash")
	}
	return m.Run(), nil
}

var trackOnce sync.Once

// trackSources reads the module's sources from within a test. go test
// caches a package's result keyed on the files its tests open; the binary
// TestMain builds is invisible to it, so without this a change to, say,
// the engine would replay a stale result.
func trackSources() {
	trackOnce.Do(func() {
		root := filepath.Join("..", "..")
		for _, f := range []string{"go.mod", "go.sum"} {
			os.ReadFile(filepath.Join(root, f))
		}
		for _, dir := range []string{"cmd", "dirconfig", "shellgen", "hooks", "internal"} {
			filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
				switch {
				case err != nil:
					return nil
				case d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")):
					return filepath.SkipDir
				case !d.IsDir() && !strings.HasSuffix(p, "_test.go"):
					os.ReadFile(p)
				}
				return nil
			})
		}
	})
}
