package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/state"
	"github.com/awsrole/awsrole/internal/stsstub"
	"github.com/awsrole/awsrole/internal/testrig"
	"github.com/awsrole/awsrole/internal/testrig/hermetic"
	"github.com/awsrole/awsrole/internal/testrig/ptyshell"
)

// The user's own long-term key, known to the stub.
const (
	userKey    = "AKIARELIABILITYALICE"
	userSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYRELIABILITY"
	userARN    = "arn:aws:iam::111111111111:user/alice"
)

// cpuSlots bounds the CPU-bound work whose duration a test asserts, so that
// the bound measures awsrole rather than the machine's queue.
var cpuSlots = make(chan struct{}, max(2, runtime.NumCPU()))

func acquireCPU() func() {
	cpuSlots <- struct{}{}
	return func() { <-cpuSlots }
}

// exclusive keeps TestManyShells, which loads every core on purpose, from
// running at the same time as the tests that time single calls.
var exclusive sync.RWMutex

// timed marks a test that times calls: it does not overlap TestManyShells.
func timed(t testing.TB) {
	exclusive.RLock()
	t.Cleanup(exclusive.RUnlock)
}

func sp(s string) *string { return &s }

// world is one test's machine: a temporary HOME with the XDG directories,
// its own STS stub, and the environment shells start with.
type world struct {
	t testing.TB
	*hermetic.World
}

// originals are the user's own values of the managed variables that the
// shells of most tests start with: set, set to the empty string, unset, and
// one with bytes a careless quoting would mangle.
func originals() map[string]*string {
	return map[string]*string{
		"AWS_ACCESS_KEY_ID":         sp(userKey),
		"AWS_SECRET_ACCESS_KEY":     sp(userSecret),
		"AWS_SESSION_TOKEN":         nil,
		"AWS_SECURITY_TOKEN":        nil,
		"AWS_CREDENTIAL_EXPIRATION": nil,
		"AWS_REGION":                sp("us-east-1"),
		"AWS_DEFAULT_REGION":        sp(""),
		"AWS_PROFILE":               sp(""),
		"AWS_DEFAULT_PROFILE":       sp(""),
		"AWSROLE_ARN":               nil,
		"AWSROLE_DIR":               sp("it's \"odd\" $HOME `x` \\ \n\ttab \x01 é"),
	}
}

// managedVars are the variables awsrole saves and restores, and its pointer.
var managedVars = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_CREDENTIAL_EXPIRATION", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CA_BUNDLE",
	"AWSROLE_ARN", "AWSROLE_DIR",
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN",
	"AWSROLE_STATE",
}

func newWorld(t testing.TB) *world {
	t.Helper()
	trackSources()
	h := hermetic.NewT(t, hermetic.Options{
		User:    hermetic.User{Key: userKey, Secret: userSecret, ARN: userARN},
		Session: true, Env: originals(), Dirs: []string{"plain"},
		Files: map[string]string{".aws/config": "[default]\nregion = us-east-1\n", ".aws/credentials": ""},
	})
	return &world{t: t, World: h}
}

func (w *world) stateDir() string     { return w.Dir("XDG_STATE_HOME") }
func (w *world) snapshotsDir() string { return filepath.Join(w.stateDir(), "snapshots") }
func (w *world) cacheDir() string {
	return w.Dir("XDG_CACHE_HOME", "credentials")
}

// environ is env as a process environment.
func environ(env map[string]*string) []string { return testrig.Environ(env) }

// with returns a copy of base changed by over (nil value: unset).
func with(base map[string]*string, over map[string]*string) map[string]*string {
	m := make(map[string]*string, len(base)+len(over))
	for k, v := range base {
		m[k] = v
	}
	for k, v := range over {
		m[k] = v
	}
	return m
}

// write writes a file relative to HOME (or absolute).
func (w *world) write(rel, content string) string {
	w.t.Helper()
	return w.World.Write(w.t, rel, content)
}

// project creates dir (relative to HOME unless absolute) with a
// .awsrole.toml naming role and, if not "", region, and approves it.
func (w *world) project(dir, role, region string) string {
	w.t.Helper()
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(w.Home, dir)
	}
	content := fmt.Sprintf("role_arn = %q\nsession_name = %q\n", role, "rel-"+filepath.Base(dir))
	if region != "" {
		content += fmt.Sprintf("region = %q\n", region)
	}
	w.write(filepath.Join(dir, ".awsrole.toml"), content)
	if _, stderr, err := w.awsrole(dir, nil, "allow", dir); err != nil {
		w.t.Fatalf("awsrole allow %s: %v: %s", dir, err, stderr)
	}
	return dir
}

// awsrole runs the binary in dir with the world's environment changed by over.
func (w *world) awsrole(dir string, over map[string]*string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, awsroleBin, args...)
	cmd.Dir = dir
	cmd.Env = environ(with(w.Env, with(map[string]*string{"PWD": sp(dir)}, over)))
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// sleeper starts a long-lived process whose pid stands for a shell that is
// alive, and kills it when the test ends.
func sleeper(t testing.TB) int {
	t.Helper()
	cmd := exec.Command("sleep", "3600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

// bashQuote makes s one bash word in printable ASCII: every line is typed
// at a terminal, whose line editor would act on control bytes.
func bashQuote(s string) string { return ptyshell.Quote("bash", s) }

// stepScript is loaded into every shell: __rel_step DIR RESULTS PID BEFORE
// does what the bash hook does at a prompt after `cd DIR`: run `awsrole
// export bash --pid PID` ("": the shell's own) and eval its output,
// recording the environment after (and before, if BEFORE is 1), stdout,
// stderr, exit statuses and the time the call took. No job control: a
// command runs in the shell's process group, which a kill ends whole.
const stepScript = `
set +m +H
__rel_step() {
  builtin cd -- "$1" 2>"$2/cderr" || { builtin echo "__REL_END cd 0 0 0"; return; }
  [[ $4 == 1 ]] && env -0 >"$2/before"
  local __rel_out __rel_rc __rel_erc __rel_t0 __rel_t1
  __rel_t0=$EPOCHREALTIME
  "$__rel_bin" export bash --pid "${3:-$$}" >"$2/out" 2>"$2/err" </dev/null
  __rel_rc=$?
  __rel_t1=$EPOCHREALTIME
  IFS= builtin read -r -d '' __rel_out <"$2/out"
  eval "$__rel_out" 2>"$2/evalerr"
  __rel_erc=$?
  env -0 >"$2/after"
  builtin echo "__REL_END $__rel_rc $__rel_erc $__rel_t0 $__rel_t1"
}
`

// shell is a real, persistent interactive bash under a pty (the shared
// driver, ptyshell): each step moves it to a directory and runs the hook's
// work there.
type shell struct {
	*ptyshell.Shell
	results string
	PID     int
	Cwd     string
	Env     map[string]string // exported environment after the last step
	Orig    map[string]*string
	stepped bool
}

// startShell starts bash in cwd with env (nil value: unset). wrap, if
// given, is a command line bash runs under (e.g. unshare); it must exec
// the command line it is given at its end.
func (w *world) startShell(t testing.TB, cwd string, env map[string]*string, wrap ...string) (*shell, error) {
	results, err := os.MkdirTemp(w.Root, "results-")
	if err != nil {
		return nil, err
	}
	rc := filepath.Join(results, "rc")
	script := ptyshell.Table["bash"].Prompt + "__rel_bin=" + bashQuote(awsroleBin) + "\n__rel_results=" + bashQuote(results) + "\n" + stepScript
	if err := os.WriteFile(rc, []byte(script), 0o644); err != nil {
		return nil, err
	}
	argv := append(append([]string(nil), wrap...), bashBin, "--noprofile", "--rcfile", rc, "-i")
	sh, err := ptyshell.Open(t, "bash", argv, cwd, environ(with(env, map[string]*string{"PWD": sp(cwd)})), 60*time.Second)
	if err != nil {
		return nil, err
	}
	s := &shell{Shell: sh, results: results, Cwd: cwd, Orig: map[string]*string{}}
	for _, k := range managedVars {
		s.Orig[k] = env[k]
	}
	pid, err := s.Try("builtin echo $$")
	if err != nil {
		return nil, err
	}
	if s.PID, err = strconv.Atoi(strings.TrimSpace(pid)); err != nil {
		return nil, fmt.Errorf("shell said %q for its pid", pid)
	}
	s.Env = envNow(env, cwd)
	return s, nil
}

func mustShell(t testing.TB, w *world, cwd string, env map[string]*string, wrap ...string) *shell {
	t.Helper()
	s, err := w.startShell(t, cwd, env, wrap...)
	if err != nil {
		t.Fatalf("start bash: %v", err)
	}
	return s
}

// envNow is env as the map env -0 would show (before the first step).
func envNow(env map[string]*string, cwd string) map[string]string {
	m := map[string]string{}
	for k, v := range env {
		if v != nil {
			m[k] = *v
		}
	}
	m["PWD"] = cwd
	return m
}

// await runs line in the shell and returns the rest of the line it prints
// that starts with prefix; anything else it prints is an error.
func (s *shell) await(line, prefix string) (string, error) {
	out, err := s.Try(line)
	if err != nil {
		return "", err
	}
	var noise []string
	for _, l := range strings.Split(out, "\n") {
		if rest, found := strings.CutPrefix(l, prefix); found && len(noise) == 0 {
			return rest, nil
		} else if found {
			return rest, fmt.Errorf("bash printed %q before %s", noise, prefix)
		} else if l != "" {
			noise = append(noise, l)
		}
	}
	return "", fmt.Errorf("no %q from bash; it printed %q", prefix, noise)
}

// step is one prompt after cd DIR.
type step struct {
	Dir           string
	RC, EvalRC    int
	Stdout        string
	Stderr        string
	EvalErr       string
	Before, After map[string]string
	Elapsed       time.Duration
}

// step moves the shell to dir and runs the hook's work there, as shell
// pid (0: the bash's own pid).
func (s *shell) step(dir string, pid int) (*step, error) {
	p := ""
	if pid != 0 {
		p = strconv.Itoa(pid)
	}
	for _, f := range []string{"before", "after", "out", "err", "evalerr", "cderr"} {
		os.Remove(filepath.Join(s.results, f))
	}
	// The environment before a step is the one after the last, but for
	// the directory: dump it only at the first step.
	before := "0"
	if !s.stepped {
		before = "1"
	}
	prev := s.Env
	line, err := s.await(fmt.Sprintf("__rel_step %s %s %s %s", bashQuote(dir), bashQuote(s.results), bashQuote(p), before), "__REL_END ")
	if err != nil {
		return nil, err
	}
	f := strings.Fields(line)
	if len(f) != 4 {
		return nil, fmt.Errorf("bad step line %q", line)
	}
	if f[0] == "cd" {
		b, _ := os.ReadFile(filepath.Join(s.results, "cderr"))
		return nil, fmt.Errorf("cd %s failed: %s", dir, b)
	}
	r := &step{Dir: dir}
	r.RC, _ = strconv.Atoi(f[0])
	r.EvalRC, _ = strconv.Atoi(f[1])
	t0, _ := strconv.ParseFloat(f[2], 64)
	t1, _ := strconv.ParseFloat(f[3], 64)
	r.Elapsed = time.Duration((t1 - t0) * float64(time.Second))
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(s.results, name))
		return string(b)
	}
	r.Stdout, r.Stderr, r.EvalErr = read("out"), read("err"), read("evalerr")
	r.Before, r.After = prev, parseEnv0(read("after"))
	if !s.stepped {
		r.Before = parseEnv0(read("before"))
	}
	s.Env, s.Cwd, s.stepped = r.After, dir, true
	return r, nil
}

// run runs a line of bash in the shell (between prompts, as the user would)
// and returns an error if it fails.
func (s *shell) run(script string) error {
	line, err := s.await("{ "+script+"\n} >/dev/null 2>\"$__rel_results/runerr\" </dev/null; builtin echo \"__REL_DONE $?\"", "__REL_DONE ")
	if err != nil {
		return err
	}
	if line != "0" {
		b, _ := os.ReadFile(filepath.Join(s.results, "runerr"))
		return fmt.Errorf("%s: exit status %s: %s", script, line, b)
	}
	return nil
}

func (s *shell) mustStep(t testing.TB, dir string) *step {
	t.Helper()
	r, err := s.step(dir, 0)
	if err != nil {
		t.Fatalf("step into %s: %v", dir, err)
	}
	return r
}

func parseEnv0(s string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(s, "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// ignoredVar is what a step may change in the environment besides awsrole's
// work: the directory and bash's own bookkeeping.
func ignoredVar(k string) bool {
	switch k {
	case "PWD", "OLDPWD", "_", "SHLVL":
		return true
	}
	return strings.HasPrefix(k, "__awsrole_")
}

// envDiff describes how b differs from a, ignoring ignoredVar ("" when equal).
func envDiff(a, b map[string]string) string {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		if !ignoredVar(k) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var out strings.Builder
	for _, k := range names {
		va, oka := a[k]
		vb, okb := b[k]
		if oka != okb || va != vb {
			fmt.Fprintf(&out, "  %s: %s -> %s\n", k, show(va, oka), show(vb, okb))
		}
	}
	return out.String()
}

func show(v string, ok bool) string {
	if !ok {
		return "(unset)"
	}
	if len(v) > 60 {
		v = v[:60] + "…"
	}
	return strconv.Quote(v)
}

// managedDiff describes how env's managed variables differ from want
// (nil: unset), "" when they match byte for byte.
func managedDiff(want map[string]*string, env map[string]string) string {
	var out strings.Builder
	for _, k := range managedVars {
		w := want[k]
		g, ok := env[k]
		if (w == nil) == !ok && (w == nil || *w == g) {
			continue
		}
		ws, wok := "", w != nil
		if w != nil {
			ws = *w
		}
		fmt.Fprintf(&out, "  %s: want %s, got %s\n", k, show(ws, wok), show(g, ok))
	}
	return out.String()
}

// checkFailure checks a step that must fail: exit status 1, nothing on
// stdout, one line on stderr starting "awsrole: " and holding every one of
// wants, no crash, and the environment unchanged.
func checkFailure(t testing.TB, r *step, wants ...string) {
	t.Helper()
	checkNoCrash(t, r)
	if r.RC != 1 && !crashed(r.Stderr) {
		t.Errorf("exit status %d, want 1", r.RC)
	}
	if r.Stdout != "" {
		t.Errorf("stdout %q, want nothing", r.Stdout)
	}
	if !crashed(r.Stderr) && (!oneLine(r.Stderr) || !strings.HasPrefix(r.Stderr, "awsrole: ")) {
		t.Errorf("stderr %q, want one line starting \"awsrole: \"", r.Stderr)
	}
	for _, w := range wants {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("stderr %q does not say %q", r.Stderr, w)
		}
	}
	if d := envDiff(r.Before, r.After); d != "" {
		t.Errorf("a failed call changed the environment:\n%s", d)
	}
}

// checkLeft checks a failed switch from the project in dir left: exit
// status 0 (the hook must evaluate the leave), one line on stderr holding
// every one of wants and ending "; left DIR", and the shell's own values
// back, exactly as before it entered anything.
func checkLeft(t testing.TB, sh *shell, r *step, dir string, wants ...string) {
	t.Helper()
	checkNoCrash(t, r)
	if r.RC != 0 {
		t.Errorf("exit status %d, want 0 (the leave must be evaluated)", r.RC)
	}
	if !oneLine(r.Stderr) || !strings.HasPrefix(r.Stderr, "awsrole: ") || !strings.HasSuffix(strings.TrimSpace(r.Stderr), "; left "+dir) {
		t.Errorf("stderr %q, want one line starting \"awsrole: \" and ending \"; left %s\"", r.Stderr, dir)
	}
	for _, w := range wants {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("stderr %q does not say %q", r.Stderr, w)
		}
	}
	if d := managedDiff(sh.Orig, r.After); d != "" {
		t.Errorf("a failed switch did not give back the shell's own values:\n%s", d)
	}
}

// checkQuiet checks a step that must say nothing and change nothing.
func checkQuiet(t testing.TB, r *step) {
	t.Helper()
	checkNoCrash(t, r)
	if r.Stderr != "" && !crashed(r.Stderr) {
		t.Errorf("stderr %q, want nothing (the failure was already reported)", r.Stderr)
	}
	if d := envDiff(r.Before, r.After); d != "" {
		t.Errorf("the environment changed:\n%s", d)
	}
}

func checkNoCrash(t testing.TB, r *step) {
	t.Helper()
	if crashed(r.Stderr) {
		lines := strings.SplitN(r.Stderr, "\n", 7)
		t.Errorf("awsrole crashed (exit status %d):\n%s", r.RC, strings.Join(lines[:min(6, len(lines))], "\n"))
		return
	}
	if r.RC > 1 {
		t.Errorf("exit status %d", r.RC)
	}
	if r.EvalErr != "" || r.EvalRC != 0 {
		t.Errorf("bash could not evaluate the output (status %d): %s\noutput: %q", r.EvalRC, r.EvalErr, r.Stdout)
	}
}

func crashed(stderr string) bool {
	for _, bad := range []string{"panic:", "goroutine ", "SIGSEGV", "runtime error"} {
		if strings.Contains(stderr, bad) {
			return true
		}
	}
	return false
}

func oneLine(s string) bool {
	return strings.HasSuffix(s, "\n") && strings.Count(s, "\n") == 1
}

// checkActive checks that env holds role's credentials as awsrole exports them.
func checkActive(t testing.TB, env map[string]string, role string) {
	t.Helper()
	if env["AWSROLE_ARN"] != role {
		t.Errorf("AWSROLE_ARN = %q, want %q", env["AWSROLE_ARN"], role)
	}
	if k := env["AWS_ACCESS_KEY_ID"]; !strings.HasPrefix(k, "ASIA") || env["AWS_SESSION_TOKEN"] == "" {
		t.Errorf("AWS_ACCESS_KEY_ID = %q, AWS_SESSION_TOKEN = %q: not assumed-role credentials", k, env["AWS_SESSION_TOKEN"])
	}
	if p := env["AWSROLE_STATE"]; p == "" {
		t.Errorf("AWSROLE_STATE is not set")
	}
}

// readSnapshot parses a snapshot file as awsrole's state package would,
// without the checks that depend on the process environment.
func readSnapshot(path string) (*state.Snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s state.Snapshot
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %v (%d bytes)", path, err, len(data))
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: trailing data", path)
	}
	if s.Version != 1 || s.File == "" || s.Originals == nil || s.PID <= 0 || s.RoleARN == "" || s.Expiration.IsZero() {
		return nil, fmt.Errorf("%s: incomplete snapshot %+v", path, s)
	}
	return &s, nil
}

// calls is the number of requests the stub has seen, failed ones included.
func calls(s *stsstub.Server) int { return len(s.Calls()) }

func assumeCalls(s *stsstub.Server, role string) []stsstub.Call {
	var out []stsstub.Call
	for _, c := range s.Calls() {
		if c.Action == "AssumeRole" && (role == "" || c.RoleArn == role) {
			out = append(out, c)
		}
	}
	return out
}
