package reliability

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// corpusDir holds the broken .awsrole.toml files and their expected messages.
const corpusDir = "../../testdata/dirconfig/bad"

// callBound is how long one hook call may take on a broken file.
const callBound = time.Second

// roleOuter is the role of the project the "inside" variants start in.
const roleOuter = "arn:aws:iam::222222222222:role/outer"

// badCase is one broken thing at a project's .awsrole.toml.
type badCase struct {
	name   string
	setup  func(t *testing.T, path string) // put it at path
	change func(t *testing.T, path string) // change it so awsrole must speak again
	want   []string                        // message fragments; PATH is the file's path, "!x": must not say x
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendComment(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n# changed\n"); err != nil {
		t.Fatal(err)
	}
}

// relink replaces the symlink at path with one to target.
func relink(t *testing.T, path, target string) {
	t.Helper()
	os.Remove(path)
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

func corpusCases(t *testing.T) []badCase {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("only %d corpus files in %s", len(files), corpusDir)
	}
	var cases []badCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		wantData, err := os.ReadFile(strings.TrimSuffix(f, ".toml") + ".want")
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, l := range strings.Split(string(wantData), "\n") {
			if l != "" {
				want = append(want, l)
			}
		}
		cases = append(cases, badCase{
			name:   strings.TrimSuffix(filepath.Base(f), ".toml"),
			setup:  func(t *testing.T, path string) { writeFile(t, path, data) },
			change: appendComment,
			want:   want,
		})
	}
	return cases
}

// specialCases are the things at the path that cannot sit in the corpus as
// text files.
func specialCases() []badCase {
	mkfifo := func(t *testing.T, path string) {
		t.Helper()
		os.Remove(path)
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Skip("no FIFOs here:", err)
		}
	}
	garbage := make([]byte, 4096)
	rand.New(rand.NewSource(1)).Read(garbage)
	big := []byte("role_arn = \"arn:aws:iam::222222222222:role/big\"\n" + strings.Repeat("# padding\n", 110000))
	return []badCase{
		{"special-fifo", mkfifo, func(t *testing.T, path string) {
			time.Sleep(2 * time.Millisecond)
			mkfifo(t, path)
		}, []string{"PATH: is a named pipe (FIFO), not a regular file"}},
		{"special-symlink-to-fifo", func(t *testing.T, path string) {
			mkfifo(t, path+".pipe")
			relink(t, path, filepath.Base(path)+".pipe")
		}, func(t *testing.T, path string) {
			mkfifo(t, path+".pipe2")
			relink(t, path, filepath.Base(path)+".pipe2")
		}, []string{"PATH: is a named pipe (FIFO)"}},
		{"special-symlink-loop", func(t *testing.T, path string) {
			relink(t, path, "loop-b")
			relink(t, filepath.Join(filepath.Dir(path), "loop-b"), path)
		}, func(t *testing.T, path string) {
			relink(t, path, "loop-bb")
			relink(t, filepath.Join(filepath.Dir(path), "loop-bb"), path)
		}, []string{"PATH: symlink loop; fix or remove the link"}},
		{"special-self-symlink", func(t *testing.T, path string) {
			relink(t, path, filepath.Base(path))
		}, func(t *testing.T, path string) {
			relink(t, path, "./"+filepath.Base(path))
		}, []string{"PATH: symlink loop"}},
		{"special-dangling-symlink", func(t *testing.T, path string) {
			relink(t, path, "shared/awsrole.toml")
		}, func(t *testing.T, path string) {
			relink(t, path, "shared/other/awsrole.toml")
		}, []string{`PATH: is a dangling symlink (its target "shared/awsrole.toml" does not exist); fix or remove the link`}},
		{"special-directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, path string) {
			later := time.Now().Add(5 * time.Second)
			if err := os.Chtimes(path, later, later); err != nil {
				t.Fatal(err)
			}
		}, []string{"PATH: is a directory, not a regular file; remove or rename it"}},
		{"special-over-1MiB", func(t *testing.T, path string) {
			writeFile(t, path, big)
		}, appendComment, []string{fmt.Sprintf("PATH: file is %d bytes, over the 1048576-byte limit", len(big))}},
		{"special-sparse-64GiB", func(t *testing.T, path string) {
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(64 << 30); err != nil {
				t.Skip("cannot make a sparse file:", err)
			}
		}, func(t *testing.T, path string) {
			if err := os.Truncate(path, 65<<30); err != nil {
				t.Fatal(err)
			}
		}, []string{"PATH: file is 68719476736 bytes, over the 1048576-byte limit"}},
		{"special-binary-garbage", func(t *testing.T, path string) {
			writeFile(t, path, garbage)
		}, func(t *testing.T, path string) {
			writeFile(t, path, garbage[:2048])
		}, []string{"PATH:"}},
		{"special-bom-then-typo", func(t *testing.T, path string) {
			writeFile(t, path, []byte("\uFEFFregoin = \"eu-west-1\"\n"))
		}, appendComment, []string{"PATH:1: regoin: unknown key; did you mean region?"}},
		{"special-bom-then-bad-arn", func(t *testing.T, path string) {
			writeFile(t, path, []byte("\uFEFF# payments\nrole_arn = \"arn:aws:iam::222222222222:user/alice\"\n"))
		}, appendComment, []string{"PATH:2: role_arn:"}},
		{"special-unreadable", func(t *testing.T, path string) {
			if os.Geteuid() == 0 {
				t.Skip("running as root: file permissions do not stop reads")
			}
			writeFile(t, path, []byte("role_arn = \"arn:aws:iam::222222222222:role/deploy\"\n"))
			if err := os.Chmod(path, 0); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, path string) {
			later := time.Now().Add(5 * time.Second)
			if err := os.Chtimes(path, later, later); err != nil {
				t.Fatal(err)
			}
		}, []string{"PATH: cannot read it: permission denied"}},
	}
}

// TestBadInput puts every broken .awsrole.toml in a project, enters it from
// a real bash that has some AWS variables set, some empty and some unset,
// once from a plain directory and once from inside an active project, and
// checks each call: one line naming the file, no crash, within a second,
// the environment unchanged; the next prompt is quiet; a change to the file
// is reported again.
func TestBadInput(t *testing.T) {
	t.Parallel()
	timed(t)
	w := newWorld(t)
	outer := w.project("outer", roleOuter, "eu-west-1")
	// The hook parses only trusted bytes: these trees are the user's own,
	// so every broken file in them is read as the user's.
	w.write(filepath.Join(*w.Env["XDG_CONFIG_HOME"], "awsrole", "config.toml"),
		fmt.Sprintf("trusted_dirs = [%q, %q]\n", filepath.Join(w.Home, "bad"), filepath.Join(outer, "bad")))
	corpus := corpusCases(t)
	cases := append(corpus, specialCases()...)
	for i, c := range cases {
		for _, inside := range []bool{false, true} {
			variant := "/from-plain-dir"
			if inside {
				variant = "/from-active-project"
				// The short run takes every tenth corpus file and
				// every special case from inside a project.
				if !long() && i < len(corpus) && i%10 != 0 {
					continue
				}
			}
			t.Run(c.name+variant, func(t *testing.T) {
				t.Parallel()
				defer acquireCPU()()
				testBadCase(t, w, outer, c, inside)
			})
		}
	}
}

func testBadCase(t *testing.T, w *world, outer string, c badCase, inside bool) {
	base := filepath.Join(w.Home, "bad", c.name)
	if inside {
		base = filepath.Join(outer, "bad", c.name)
	}
	proj := filepath.Join(base, "proj")
	if err := os.MkdirAll(proj, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(proj, ".awsrole.toml")
	c.setup(t, path)
	var wants, nots []string
	for _, f := range c.want {
		if not, ok := strings.CutPrefix(f, "!"); ok {
			nots = append(nots, not)
			continue
		}
		wants = append(wants, strings.ReplaceAll(f, "PATH", path))
	}

	sh := mustShell(t, w, base, w.Env)
	start := sh.Env
	if inside {
		r := sh.mustStep(t, outer)
		checkNoCrash(t, r)
		if r.Stderr != "" || r.RC != 0 {
			t.Fatalf("entering %s: status %d, stderr %q", outer, r.RC, r.Stderr)
		}
		checkActive(t, r.After, roleOuter)
		start = r.After
	}

	r := sh.mustStep(t, proj)
	if inside {
		// The directory decides, even on failure: the outer project's
		// role does not stay.
		checkLeft(t, sh, r, outer, append([]string{path}, wants...)...)
		start = r.After
	} else {
		checkFailure(t, r, append([]string{path}, wants...)...)
	}
	for _, not := range nots {
		if strings.Contains(r.Stderr, not) {
			t.Errorf("the message says %q, which it must not", not)
		}
	}
	checkBound(t, w, r, "the call")
	if t.Failed() {
		return
	}

	// The next prompt within the backoff window: quiet, nothing changes.
	r = sh.mustStep(t, proj)
	checkQuiet(t, r)
	if d := envDiff(start, r.After); d != "" {
		t.Errorf("the prompt after the failure: the environment is no longer what it was before entering:\n%s", d)
	}
	checkBound(t, w, r, "the prompt after the failure")

	// A changed file is news: said again, still nothing changes.
	c.change(t, path)
	r = sh.mustStep(t, proj)
	checkFailure(t, r, path)
	if d := envDiff(start, r.After); d != "" {
		t.Errorf("after the change: the environment is no longer what it was before entering:\n%s", d)
	}

	if !inside {
		return
	}
	// Back in the project the shell came from: its role again.
	back := outer
	r = sh.mustStep(t, back)
	checkNoCrash(t, r)
	if r.Stderr != "" || r.RC != 0 {
		t.Errorf("back in %s: status %d, stderr %q", back, r.RC, r.Stderr)
	}
	checkActive(t, r.After, roleOuter)
}

// fakePID hands out process ids no process has (pid_max is at most 2^22).
var fakePID atomic.Int64

func init() { fakePID.Store(1 << 23) }

// checkBound checks that the step's awsrole call took at most callBound.
// Other work on the machine can stretch one call's wall time (CI runs
// every package at once on two cores): a slow call is run again (as a new
// shell, in the same place) and is slow only if, every time, it either
// used more than callBound of CPU or did not finish within hangBound
// (which is what blocking, on a FIFO say, would look like).
func checkBound(t *testing.T, w *world, r *step, what string) {
	t.Helper()
	if r.Elapsed <= callBound {
		return
	}
	const hangBound = 10 * callBound
	var cpu, wall time.Duration
	for i := 0; i < 3; i++ {
		env := map[string]*string{}
		for k, v := range r.Before {
			env[k] = sp(v)
		}
		env["PWD"] = sp(r.Dir)
		cmd := exec.Command(awsroleBin, "export", "bash", "--pid", strconv.FormatInt(fakePID.Add(1), 10))
		cmd.Dir, cmd.Env = r.Dir, environ(env)
		start := time.Now()
		_ = cmd.Run()
		wall = time.Since(start)
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if cpu <= callBound && wall <= hangBound {
			t.Logf("%s took %s once; again: %s wall, %s CPU: the machine was busy", what, r.Elapsed, wall, cpu)
			return
		}
	}
	t.Errorf("%s took %s, and again %s wall with %s CPU: over %s of CPU or %s of wall", what, r.Elapsed, wall, cpu, callBound, hangBound)
}

// TestEmptyRoleMarker: a shell whose AWSROLE_ARN is set to the empty string
// (awsrole never exports an empty one: the user did, or a leave restored
// it) has no role active, so nothing of its own may be taken for awsrole's:
// a prompt outside any project changes nothing, and entering and leaving a
// project gives back every value exactly, the empty one included.
func TestEmptyRoleMarker(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	proj := w.project("marker", roleOuter, "")
	plain := filepath.Join(w.Home, "plain")
	sh := mustShell(t, w, plain, with(w.Env, map[string]*string{"AWSROLE_ARN": sp("")}))
	r := sh.mustStep(t, plain)
	checkQuiet(t, r)
	if d := managedDiff(sh.Orig, r.After); d != "" {
		t.Errorf("a prompt outside any project changed the user's own values:\n%s", d)
	}
	r = sh.mustStep(t, proj)
	checkNoCrash(t, r)
	checkActive(t, r.After, roleOuter)
	r = sh.mustStep(t, plain)
	checkNoCrash(t, r)
	if d := managedDiff(sh.Orig, r.After); d != "" {
		t.Errorf("leaving did not give back the user's own values:\n%s", d)
	}
}

// TestBadUserConfig: a broken user config is reported once, on one line
// naming it, and changes nothing, inside or outside a project; fixing it
// makes the next prompt work.
func TestBadUserConfig(t *testing.T) {
	t.Parallel()
	timed(t)
	w := newWorld(t)
	proj := w.project("userconf", roleOuter, "")
	sh := mustShell(t, w, w.Home, w.Env)
	r := sh.mustStep(t, proj)
	checkActive(t, r.After, roleOuter)
	active := r.After
	conf := w.write(filepath.Join(*w.Env["XDG_CONFIG_HOME"], "awsrole", "config.toml"), "refresh_before = 5\n")
	for i, dir := range []string{proj, filepath.Join(w.Home, "plain")} {
		r = sh.mustStep(t, dir)
		checkFailure(t, r, conf)
		checkBound(t, w, r, "the call")
		r = sh.mustStep(t, dir)
		checkQuiet(t, r)
		if d := envDiff(active, r.After); d != "" {
			t.Errorf("step %d: the environment changed:\n%s", i+1, d)
		}
	}
	writeFile(t, conf, []byte("refresh_before = \"5m\"\n"))
	r = sh.mustStep(t, filepath.Join(w.Home, "plain"))
	checkNoCrash(t, r)
	if r.RC != 0 || r.Stderr != "" {
		t.Errorf("after the fix: status %d, stderr %q", r.RC, r.Stderr)
	}
	if d := managedDiff(sh.Orig, r.After); d != "" {
		t.Errorf("leaving after the fix did not give back the user's own values:\n%s", d)
	}
}
