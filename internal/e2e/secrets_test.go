package e2e

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

// 3. A secret key full of shell metacharacters (issue 3): nothing runs, the
// shell holds it byte for byte, and the real aws CLI signs with it so that
// the stub's independent SigV4 check passes.
func TestHostileSecret(t *testing.T) {
	const hostile = "a'b\"c$(touch PWNED)`d\\e\nf\tg!h%s"
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, map[string]*string{"x": sp("EXPANDED")})
		r.install(kind)
		a := r.project("a", roleDeploy, "e2e-hostile-secret", "eu-west-1", true)
		s := r.startShell(kind, "", nil)
		// The stub hands the override to the next credentials it issues:
		// the AssumeRole of the cd below.
		r.Stub.SetSecretOverride(hostile)

		_, full := s.RunFull(s.Cd(a))
		if lines := awsroleLines(full); len(lines) != 0 {
			t.Errorf("entering printed %q", lines)
		}
		env := s.Managed()
		wantActive(t, r, "with a hostile secret", env, roleDeploy, a, "eu-west-1")
		if got := env["AWS_SECRET_ACCESS_KEY"]; got == nil || *got != hostile {
			t.Errorf("AWS_SECRET_ACCESS_KEY = %s, want %q byte for byte", show(got), hostile)
		}
		if got, want := callerArn(s), "arn:aws:sts::222222222222:assumed-role/deploy/e2e-hostile-secret"; got != want {
			t.Errorf("get-caller-identity with the hostile secret: %q, want %q; stub log:\n%s", got, want, hermetic.DescribeCalls(r.Stub.Calls()))
		}
		// A prompt more (a renewal check, the steady path), out, and in
		// again: from the cache, still exact.
		s.Run("true")
		s.Run(s.Cd(r.Home))
		s.Run(s.Cd(a))
		if got := s.Managed()["AWS_SECRET_ACCESS_KEY"]; got == nil || *got != hostile {
			t.Errorf("entering again (from the cache): AWS_SECRET_ACCESS_KEY = %s, want %q", show(got), hostile)
		}
		wantAssumes(t, r, "e2e-hostile-secret", 1)
		s.Run(s.Cd(r.Home))
		r.noPWNED()
		if _, err := os.Stat(filepath.Join(a, "PWNED")); err == nil {
			t.Errorf("PWNED exists in the project")
		}
	})
}

// secretsIn returns the values of secrets that occur in data.
func secretsIn(data []byte, secrets map[string]string) []string {
	var found []string
	for name, v := range secrets {
		if v != "" && bytes.Contains(data, []byte(v)) {
			found = append(found, name)
		}
	}
	return found
}

// run runs awsrole with the rig's environment plus extra and returns its
// stdout, stderr and exit status.
func (r *rig) run(dir string, extra map[string]*string, args ...string) (string, string, int) {
	r.t.Helper()
	cmd := exec.Command(r.exe(), args...)
	cmd.Dir = dir
	env := map[string]*string{"PWD": sp(dir)}
	for k, v := range extra {
		env[k] = v
	}
	cmd.Env = r.Environ(env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatalf("awsrole %s: %v", strings.Join(args, " "), err)
	}
	return stdout.String(), stderr.String(), code
}

// 4. Secrets (secret keys, session tokens, the MFA code) never leave the
// 0600 cache and state files: not in any other file under HOME, not in
// `awsrole status` (text or JSON), not on stderr or the terminal. Those
// files are 0600 in 0700 directories, and a cache file someone else could
// have written is not used, with one line saying why.
func TestSecretsNeverLeak(t *testing.T) {
	const code = "918273"
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, nil)
		r.Stub.RequireMFA(roleAudit, mfaSerial, code)
		r.install(kind)
		a := r.project("a", roleDeploy, "e2e-leak-a", "eu-west-1", true)
		m := r.mfaProject("m", roleAudit, "e2e-leak-m", "eu-west-1")
		cacheDir := filepath.Join(*r.Env["XDG_CACHE_HOME"], "awsrole")
		stateDir := filepath.Join(*r.Env["XDG_STATE_HOME"], "awsrole")
		s := r.startShell(kind, "", nil)

		secrets := map[string]string{}
		s.Run(s.Cd(a))
		envA := s.Managed()
		wantActive(t, r, "in A", envA, roleDeploy, a, "eu-west-1")
		secrets["A's secret key"], secrets["A's session token"] = deref(envA["AWS_SECRET_ACCESS_KEY"]), deref(envA["AWS_SESSION_TOKEN"])

		full := enterWithCode(t, s, m, code)
		envM := s.Managed()
		wantActive(t, r, "in M (MFA)", envM, roleAudit, m, "eu-west-1")
		secrets["M's secret key"], secrets["M's session token"] = deref(envM["AWS_SECRET_ACCESS_KEY"]), deref(envM["AWS_SESSION_TOKEN"])
		if lines := errorLines(full); len(lines) != 0 {
			t.Errorf("entering M printed %q", lines)
		}
		// The MFA session's own credentials, from its cache file.
		mfaFiles, _ := filepath.Glob(filepath.Join(cacheDir, "credentials", "mfa-*.json"))
		if len(mfaFiles) != 1 {
			t.Fatalf("MFA session cache files: %q, want one", mfaFiles)
		}
		var sess struct {
			Secret string `json:"secret_access_key"`
			Token  string `json:"session_token"`
		}
		if data, err := os.ReadFile(mfaFiles[0]); err != nil || json.Unmarshal(data, &sess) != nil || sess.Secret == "" {
			t.Fatalf("MFA session cache %s: %v %q", mfaFiles[0], err, data)
		}
		secrets["the MFA session's secret key"], secrets["the MFA session's token"] = sess.Secret, sess.Token

		// status, inside the project with the role active.
		for _, args := range []string{"awsrole status", "awsrole status --json", "awsrole status --short"} {
			out, full := s.RunFull(args + " 2>&1")
			if f := secretsIn([]byte(full), secrets); len(f) > 0 {
				t.Errorf("%s shows %v:\n%s", args, f, out)
			}
			if strings.Contains(out, code) {
				t.Errorf("%s shows the MFA code:\n%s", args, out)
			}
			if args == "awsrole status --json" {
				var st struct {
					Active *struct {
						RoleARN string `json:"role_arn"`
					} `json:"active"`
				}
				if err := json.Unmarshal([]byte(out), &st); err != nil || st.Active == nil || st.Active.RoleARN != roleAudit {
					t.Errorf("awsrole status --json in M: %v\n%s", err, out)
				}
			}
		}
		// The same from outside the shell, and the other commands that
		// fetch credentials: only credential-process prints them, on stdout.
		for _, args := range [][]string{{"status"}, {"status", "--json"}, {"credential-process", "--dir", a}, {"exec", "--dir", m, "--", "true"}, {"export", "json", "--pid", "4194100"}} {
			_, stderr, st := r.run(m, nil, args...)
			if st != 0 || stderr != "" {
				t.Errorf("awsrole %s: exit %d, stderr %q", strings.Join(args, " "), st, stderr)
			}
			if f := secretsIn([]byte(stderr), secrets); len(f) > 0 {
				t.Errorf("stderr of awsrole %s has %v", strings.Join(args, " "), f)
			}
		}
		s.Run(s.Cd(r.Home))

		// Every file under HOME but the cache and state dirs: no secret.
		// Everywhere (cache and state too): no MFA code.
		err := filepath.WalkDir(r.Home, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if bytes.Contains(data, []byte(code)) {
				t.Errorf("the MFA code is in %s", p)
			}
			if strings.HasPrefix(p, cacheDir+"/") || strings.HasPrefix(p, stateDir+"/") {
				return nil
			}
			if f := secretsIn(data, secrets); len(f) > 0 {
				t.Errorf("%s holds %v", p, f)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// The terminal: hook messages, prompts, status.
		if f := secretsIn([]byte(s.Transcript()), secrets); len(f) > 0 {
			t.Errorf("the terminal showed %v", f)
		}

		// Cache and state: 0600 files in 0700 directories.
		for _, root := range []string{cacheDir, stateDir} {
			_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					t.Errorf("%s: %v", p, err)
					return nil
				}
				fi, err := d.Info()
				if err != nil {
					return nil
				}
				switch perm := fi.Mode().Perm(); {
				case d.IsDir() && perm != 0o700:
					t.Errorf("directory %s has mode %04o, want 0700", p, perm)
				case d.Type().IsRegular() && perm != 0o600:
					t.Errorf("file %s has mode %04o, want 0600", p, perm)
				case !d.IsDir() && !d.Type().IsRegular():
					t.Errorf("%s is neither a file nor a directory (%s)", p, fi.Mode())
				}
				return nil
			})
		}

		// A group-writable cache file is not used: a new AssumeRole, and
		// one line saying why.
		files, _ := filepath.Glob(filepath.Join(cacheDir, "credentials", "*.json"))
		var cacheA string
		for _, f := range files {
			data, _ := os.ReadFile(f)
			if !strings.HasPrefix(filepath.Base(f), "mfa-") && strings.Contains(string(data), roleDeploy) {
				cacheA = f
			}
		}
		if cacheA == "" {
			t.Fatalf("no cache file for %s among %q", roleDeploy, files)
		}
		if err := os.Chmod(cacheA, 0o620); err != nil {
			t.Fatal(err)
		}
		n := len(r.assumeCalls("e2e-leak-a"))
		_, full = s.RunFull(s.Cd(a))
		lines := awsroleLines(full)
		if len(lines) != 1 || !strings.Contains(lines[0], cacheA) || !strings.Contains(lines[0], "writable") {
			t.Errorf("entering A with its cache file group-writable: want one line naming %s and why, got %q", cacheA, lines)
		}
		if f := secretsIn([]byte(full), secrets); len(f) > 0 {
			t.Errorf("the notice shows %v", f)
		}
		if got := len(r.assumeCalls("e2e-leak-a")); got != n+1 {
			t.Errorf("AssumeRole calls for A after its cache file became group-writable: %d, want %d (a new one); stub log:\n%s", got, n+1, hermetic.DescribeCalls(r.Stub.Calls()))
		}
		envA2 := s.Managed()
		wantActive(t, r, "in A again", envA2, roleDeploy, a, "eu-west-1")
		if show(envA2["AWS_ACCESS_KEY_ID"]) == show(envA["AWS_ACCESS_KEY_ID"]) {
			t.Errorf("in A again: the key from the group-writable cache file was used")
		}
		if fi, err := os.Stat(cacheA); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("the cache file after the new fetch: %v, mode %v, want 0600", err, fi.Mode())
		}
	})
}

func deref(v *string) string {
	if v == nil {
		return ""
	}
	return *v
}
