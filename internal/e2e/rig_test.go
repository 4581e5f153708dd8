package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/testrig/ptyshell"

	"github.com/awsrole/awsrole/internal/stsstub"
	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

// The user's own long-term key, known to the stub.
const (
	userKey    = "AKIAE2EALICEEXAMPLE1"
	userSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYE2EALICEKEY"
	userARN    = "arn:aws:iam::111111111111:user/alice"

	roleDeploy = "arn:aws:iam::222222222222:role/deploy"
	roleAudit  = "arn:aws:iam::222222222222:role/audit"
)

// managedVars are the variables awsrole saves and restores (DESIGN.md §3),
// plus its own snapshot pointer, which must be gone after leaving.
var managedVars = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_CREDENTIAL_EXPIRATION", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CA_BUNDLE",
	"AWSROLE_ARN", "AWSROLE_DIR", "AWSROLE_ENV",
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
	"AWSROLE_STATE",
}

// rig is one test's world: a temporary HOME with the XDG directories and
// AWS files under it, its own STS stub, and the environment every process
// of the test starts with.
type rig struct {
	t *testing.T
	*hermetic.World
	bin string // the awsrole this test runs ("" = the shared build)
	// seenServers are the credential endpoints the test saw running.
	seenServers []int
}

// exe is the awsrole binary the test's commands run.
func (r *rig) exe() string {
	if r.bin != "" {
		return r.bin
	}
	return awsroleBin
}

func sp(s string) *string { return &s }

// newRig builds the hermetic environment (hermetic.World) with the user's
// key, profile corp, every shell's prompt rc and the built binaries first
// on PATH. overrides change the base environment (nil value: unset).
func newRig(t *testing.T, overrides map[string]*string) *rig {
	t.Helper()
	files := map[string]string{
		".aws/config":      "[profile corp]\nregion = us-east-1\n",
		".aws/credentials": fmt.Sprintf("[corp]\naws_access_key_id = %s\naws_secret_access_key = %s\n", userKey, userSecret),
	}
	// The prompt the shell driver waits for, then the shell level (nested
	// shells), set before the hook is installed.
	for _, kind := range shellKinds {
		files[ptyshell.Table[kind].RC] = ptyshell.Table[kind].Prompt
	}
	env := map[string]*string{"AWS_PAGER": sp("")}
	for k, v := range overrides {
		env[k] = v
	}
	w := hermetic.NewT(t, hermetic.Options{
		User:    hermetic.User{Key: userKey, Secret: userSecret, ARN: userARN},
		Session: true, BinDir: binDir, Files: files, Env: env,
		// fish generates completions from man pages in the background at
		// its first start (python, seconds of CPU, racing the temp dir's
		// removal) unless this directory exists.
		Dirs: []string{".local/share/fish/generated_completions"},
	})
	return &rig{t: t, World: w}
}

// write writes a file relative to HOME (or absolute).
func (r *rig) write(rel, content string) string {
	r.t.Helper()
	return r.World.Write(r.t, rel, content)
}

// settleAge is how old settle makes what the test wrote: more than the
// second a mark is set before its call, and than the whole second fish and
// direnv round mtimes to.
const settleAge = 3 * time.Second

// settle makes what the test has written so far (projects, trust store,
// rc and config files) look settleAge old, in place of waiting for it to
// age. The bash, zsh and fish hooks skip the process while nothing watched
// is newer than a mark set a second before the last call; without this
// that skipping would not start for the first prompts, and the tests would
// only exercise the slow path.
//
// Only the rig's own temporary tree is touched, symlinks not followed, and
// nothing is made newer than it was. awsrole's state and cache directories
// are left alone: the marks, snapshots and cached credentials there are the
// binary's own record, not the test's setup. An edit the test wants a hook
// to notice is made after settle, not before.
func (r *rig) settle() {
	r.t.Helper()
	old := time.Now().Add(-settleAge)
	skip := map[string]bool{
		r.Dir("XDG_STATE_HOME"): true,
		r.Dir("XDG_CACHE_HOME"): true,
	}
	err := filepath.WalkDir(r.Root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed since its directory was read
		} else if err != nil {
			return err
		}
		if skip[p] {
			return filepath.SkipDir
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil // os.Chtimes would change the link's target
		}
		fi, err := d.Info()
		if err == nil && fi.ModTime().After(old) {
			err = os.Chtimes(p, old, old)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	})
	if err != nil {
		r.t.Fatalf("settle: %v", err)
	}
}

// appendFile appends to a file relative to HOME.
func (r *rig) appendFile(rel, content string) {
	r.t.Helper()
	f, err := os.OpenFile(filepath.Join(r.Home, rel), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		r.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		r.t.Fatal(err)
	}
}

// userConfig writes $XDG_CONFIG_HOME/awsrole/config.toml.
func (r *rig) userConfig(content string) {
	r.write(filepath.Join(*r.Env["XDG_CONFIG_HOME"], "awsrole", "config.toml"), content)
}

// project creates dir (relative to HOME unless absolute) with a
// .awsrole.toml naming role, the session name and, if not "", the region;
// allow runs `awsrole allow DIR` as the user would.
func (r *rig) project(dir, role, session, region string, allow bool) string {
	r.t.Helper()
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(r.Home, dir)
	}
	content := fmt.Sprintf("role_arn = %q\nsession_name = %q\n", role, session)
	if region != "" {
		content += fmt.Sprintf("region = %q\n", region)
	}
	r.write(filepath.Join(dir, ".awsrole.toml"), content)
	if allow {
		r.awsrole(dir, "allow", dir)
	}
	return dir
}

// awsrole runs the binary in dir with the rig's environment and returns stdout.
func (r *rig) awsrole(dir string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command(r.exe(), args...)
	cmd.Dir = dir
	cmd.Env = r.Environ(map[string]*string{"PWD": sp(dir)})
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		r.t.Fatalf("awsrole %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// install runs `awsrole install SHELL`, the way README tells users to.
func (r *rig) install(kind string) {
	r.t.Helper()
	r.awsrole(r.Home, "install", kind)
}

// assumeCalls returns the AssumeRole calls (failed ones too) for session.
func (r *rig) assumeCalls(session string) []stsstub.Call {
	var out []stsstub.Call
	for _, c := range r.Stub.Calls() {
		if c.Action == "AssumeRole" && (session == "" || c.RoleSessionName == session) {
			out = append(out, c)
		}
	}
	return out
}

// noPWNED fails if a file whose name starts with PWNED exists under the
// rig's root or in the test's working directory.
func (r *rig) noPWNED() {
	r.t.Helper()
	_ = filepath.Walk(r.Root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(fi.Name(), "PWNED") {
			r.t.Errorf("a hostile directory name was executed: %s exists", p)
		}
		return nil
	})
	if _, err := os.Stat("PWNED"); err == nil {
		r.t.Errorf("a hostile directory name was executed: PWNED exists in the test's working directory")
	}
}

// pick returns the managed variables of env.
func pick(env map[string]*string) map[string]*string {
	out := map[string]*string{}
	for _, k := range managedVars {
		out[k] = env[k]
	}
	return out
}

func show(v *string) string {
	if v == nil {
		return "(unset)"
	}
	return fmt.Sprintf("%q", *v)
}

// diffVars describes how got differs from want on the managed variables
// ("" when identical byte for byte, unset and empty told apart).
func diffVars(want, got map[string]*string) string {
	var b strings.Builder
	for _, k := range managedVars {
		w, g := want[k], got[k]
		if (w == nil) != (g == nil) || (w != nil && *w != *g) {
			fmt.Fprintf(&b, "  %s: want %s, got %s\n", k, show(w), show(g))
		}
	}
	return b.String()
}

// forEachShell runs f as a parallel subtest per shell, each holding a slot
// of busy.
func forEachShell(t *testing.T, f func(t *testing.T, kind string)) {
	t.Parallel()
	for _, kind := range shellKinds {
		t.Run(kind, func(t *testing.T) {
			busy.Parallel(t)
			f(t, kind)
		})
	}
}
