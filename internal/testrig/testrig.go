// Package testrig holds what the end-to-end and reliability suites both
// need to run the real binaries: building them, a process environment from
// layered variables, and fixture files.
package testrig

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// binaries are the programs Build puts in place.
var binaries = []string{"awsrole", "awsrole-sts", "awsrole-keyring"}

// Build puts awsrole, awsrole-sts and awsrole-keyring (which awsrole finds
// beside it) into dir and returns awsrole's path. It builds them, unless
// AWSROLE_TEST_BIN names a directory where they were built for this run
// (.ci/run builds ./cmd/... there once): then it copies them from there,
// which spares each suite linking the three (about 5 s on two cores, on
// the way of every suite that runs them). Copies, not links: each suite's
// directory holds its own binaries, as when it builds them.
func Build(dir string) (string, error) {
	if from := os.Getenv("AWSROLE_TEST_BIN"); from != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		for _, name := range binaries {
			if err := copyExecutable(filepath.Join(from, name), filepath.Join(dir, name)); err != nil {
				return "", fmt.Errorf("AWSROLE_TEST_BIN: %w", err)
			}
		}
		return filepath.Join(dir, "awsrole"), nil
	}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, name := range binaries {
		args = append(args, "github.com/awsrole/awsrole/cmd/"+name)
	}
	// Static binaries, as README installs them.
	build := exec.Command("go", args...)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("CGO_ENABLED=0 go build ./cmd/awsrole ./cmd/awsrole-sts ./cmd/awsrole-keyring: %v\n%s", err, out)
	}
	return filepath.Join(dir, "awsrole"), nil
}

// copyExecutable copies the program from to the new file to, with cp: a
// file this process held open for writing would be inherited by whatever
// another goroutine forks meanwhile, and running the copy would then fail
// with "text file busy".
func copyExecutable(from, to string) error {
	if out, err := exec.Command("cp", from, to).CombinedOutput(); err != nil {
		return fmt.Errorf("cp %s %s: %v: %s", from, to, err, out)
	}
	return nil
}

// Environ is a sorted process environment from layers of variables, later
// layers winning; a nil value leaves the variable unset.
func Environ(layers ...map[string]*string) []string {
	m := map[string]*string{}
	for _, layer := range layers {
		for k, v := range layer {
			m[k] = v
		}
	}
	var out []string
	for k, v := range m {
		if v != nil {
			out = append(out, k+"="+*v)
		}
	}
	sort.Strings(out)
	return out
}

// Write writes content to rel under base (or to rel if absolute), making
// the directories, and returns the path.
func Write(t testing.TB, base, rel, content string) string {
	t.Helper()
	p := rel
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, rel)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// OtherUserName is the account the ownership tests give files away to.
const OtherUserName = "awsrole-other"

var (
	otherOnce sync.Once
	otherUID  int
	otherGID  int
	otherErr  error
)

// OtherUser returns the uid and gid of a second local account, creating it
// with useradd (once, idempotently) when the tests run as root. Elsewhere
// the test is skipped, saying why, unless AWSROLE_TEST_REQUIRE=all asks for
// every test to run: then it fails.
func OtherUser(t testing.TB) (uid, gid int) {
	t.Helper()
	if os.Geteuid() != 0 {
		Require(t, "giving files to another user needs root (CI runs as root)")
	}
	otherOnce.Do(func() {
		// Test binaries of several packages may race here: useradd
		// fails on a locked /etc/passwd, or because the account exists
		// already, which is as good.
		for try := 0; ; try++ {
			if _, err := user.Lookup(OtherUserName); err == nil {
				break
			}
			out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OtherUserName).CombinedOutput()
			if err == nil {
				break
			}
			if try == 10 {
				otherErr = fmt.Errorf("useradd %s: %v: %s", OtherUserName, err, out)
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		u, err := user.Lookup(OtherUserName)
		if err != nil {
			otherErr = err
			return
		}
		if otherUID, otherErr = strconv.Atoi(u.Uid); otherErr == nil {
			otherGID, otherErr = strconv.Atoi(u.Gid)
		}
	})
	if otherErr != nil {
		Require(t, otherErr.Error())
	}
	return otherUID, otherGID
}

// RequireAll is true when AWSROLE_TEST_REQUIRE=all asks every test to run:
// a missing tool or permission then fails the test instead of skipping it.
// CI sets it; a newcomer without fish gets skips that say what to install.
func RequireAll() bool { return os.Getenv("AWSROLE_TEST_REQUIRE") == "all" }

// Require skips t for why, or fails it when AWSROLE_TEST_REQUIRE=all. It is
// the one way a test gives up on something the machine lacks.
func Require(t testing.TB, why string) {
	t.Helper()
	if RequireAll() {
		t.Fatalf("cannot run (AWSROLE_TEST_REQUIRE=all): %s", why)
	}
	t.Skip("skipped:", why)
}

// Short is the reason every suite that drives real shells, real clients or
// real expiry gives for skipping under -short: `go test -short ./...` is the
// one-minute loop, `.ci/run` the gate.
const Short = "-short runs logic only; real shells, real clients and real expiry run in the full suite (go test ./..., .ci/run)"

// Slow skips t under -short, where only the fast loop runs.
func Slow(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip(Short)
	}
}

// LookPath is exec.LookPath, except that a pyenv shim is resolved to the
// program it would run (`pyenv which NAME`): each call through a shim first
// runs pyenv's bash scripts, about 0.25 s of CPU, and the suites run the
// Python aws CLI hundreds of times.
func LookPath(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil || !strings.Contains(p, "/shims/") {
		return p, err
	}
	out, err := exec.Command("pyenv", "which", name).Output()
	if real := strings.TrimSpace(string(out)); err == nil && real != "" {
		return real, nil
	}
	return p, nil
}

// Tool returns the path of the named program on PATH (LookPath), or goes
// through Require saying how to get it (install: e.g. ".ci/run installs
// it").
func Tool(t testing.TB, name, install string) string {
	t.Helper()
	p, err := LookPath(name)
	if err != nil {
		Require(t, fmt.Sprintf("%s is not on PATH (%s)", name, install))
	}
	return p
}

// WaitingParallel sets -test.parallel, unless it was given, for a package
// whose tests mostly wait on real processes (shells, STS round trips,
// renewal windows): perCPU tests per CPU. Waiting tests overlap well, but
// each one also starts shells and SDK clients that need the CPU for a
// moment; with 64 at once on two cores a Python aws CLI run took over 45 s
// in CI, so the bound follows the machine rather than the test count.
func WaitingParallel(perCPU int) {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(perCPU*runtime.GOMAXPROCS(0)))
	}
}

// Busy bounds how many tests of a suite work at once, perCPU per CPU, the
// way WaitingParallel does, except that a test which then only waits for a
// long while (a renewal window, an expiry, clients running for a minute)
// gives its slot back with Wait. Under go test's own -parallel bound such
// a test keeps its slot while it waits: five shells of one renewal test
// held five of six slots for 45 s, with one core idle.
type Busy struct {
	slots chan struct{}
	mu    sync.Mutex
	held  map[*testing.T]func()
}

// NewBusy makes a Busy of perCPU slots per CPU, and lifts go test's own
// -parallel bound unless the command line sets it (then both apply).
func NewBusy(perCPU int) *Busy {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", "10000")
	}
	return newBusy(perCPU * runtime.GOMAXPROCS(0))
}

func newBusy(slots int) *Busy {
	return &Busy{slots: make(chan struct{}, slots), held: map[*testing.T]func(){}}
}

// Parallel is t.Parallel, then holds a slot until t ends or calls Wait.
// A test whose parallel subtests do the work calls t.Parallel instead:
// Go runs those subtests after it returns, but before its Cleanup, so its
// slot would be held while they wait for theirs.
func (b *Busy) Parallel(t *testing.T) {
	t.Helper()
	t.Parallel()
	b.slots <- struct{}{}
	var once sync.Once
	release := func() { once.Do(func() { <-b.slots }) }
	b.mu.Lock()
	b.held[t] = release
	b.mu.Unlock()
	t.Cleanup(func() {
		b.mu.Lock()
		delete(b.held, t)
		b.mu.Unlock()
		release()
	})
}

// Wait gives t's slot back for the rest of t, which from here on mostly
// waits: what it still does runs beside the working tests, unbounded, so
// it resumes on time when its wait ends.
func (b *Busy) Wait(t *testing.T) {
	b.mu.Lock()
	release := b.held[t]
	b.mu.Unlock()
	if release == nil {
		t.Fatal("testrig.Busy.Wait: the test holds no slot (call Busy.Parallel first)")
	}
	release()
}
