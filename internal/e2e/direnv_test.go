package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/internal/testrig/ptyshell"

	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

// 5. direnv (issue 4): `awsrole install direnv`, an .envrc with `use awsrole`
// and the real direnv hooked into a real shell; no awsrole hook.

const roleInline = "arn:aws:iam::222222222222:role/inline"

// direnvHook adds direnv's own hook to the shell's rc file, as direnv's
// documentation says.
func (r *rig) direnvHook(kind string) {
	r.t.Helper()
	r.appendFile(ptyshell.Table[kind].RC, ptyshell.Table[kind].Direnv)
}

// envrc writes dir/.envrc and approves it with `direnv allow`.
func (r *rig) envrc(dir, content string) {
	r.t.Helper()
	r.write(filepath.Join(dir, ".envrc"), content)
	cmd := exec.Command("direnv", "allow", dir)
	cmd.Dir = dir
	cmd.Env = r.Environ(map[string]*string{"PWD": sp(dir)})
	if out, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("direnv allow %s: %v\n%s", dir, err, out)
	}
}

// wantDirenvActive checks the variables `use awsrole` exports: the role's,
// with no AWSROLE_STATE (direnv keeps the originals).
func wantDirenvActive(t *testing.T, what string, env map[string]*string, role, dir, region string) {
	t.Helper()
	want := map[string]*string{
		"AWSROLE_ARN": sp(role), "AWSROLE_DIR": sp(dir), "AWSROLE_STATE": nil,
		"AWS_PROFILE": nil, "AWS_DEFAULT_PROFILE": nil, "AWS_SECURITY_TOKEN": nil,
		"AWS_REGION": sp(region), "AWS_DEFAULT_REGION": sp(region),
	}
	wantEnv(t, what, env, want)
	if k := env["AWS_ACCESS_KEY_ID"]; k == nil || !strings.HasPrefix(*k, "ASIA") {
		t.Errorf("%s: AWS_ACCESS_KEY_ID = %s, want an issued ASIA… key", what, show(k))
	}
	for _, k := range []string{"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION"} {
		if v := env[k]; v == nil || *v == "" {
			t.Errorf("%s: %s = %s, want the issued value", what, k, show(v))
		}
	}
}

func TestDirenv(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		if ptyshell.Table[kind].Direnv == "" {
			t.Skipf("no direnv hook for %s in the shell table", kind)
		}
		r := newRig(t, map[string]*string{
			"AWS_ACCESS_KEY_ID":     nil,
			"AWS_SECRET_ACCESS_KEY": nil,
			"AWS_PROFILE":           sp("corp"), // the user's key, from ~/.aws/credentials
			"AWS_SESSION_TOKEN":     sp(""),     // set to the empty string
			"AWS_DEFAULT_REGION":    sp(""),
		})
		r.install("direnv")
		if _, err := os.Stat(filepath.Join(*r.Env["XDG_CONFIG_HOME"], "direnv", "lib", "awsrole.sh")); err != nil {
			t.Fatalf("awsrole install direnv: %v", err)
		}
		r.direnvHook(kind)
		p := r.project("p", roleDeploy, "e2e-direnv", "eu-west-1", true)
		r.envrc(p, "use awsrole\n")
		inline := filepath.Join(r.Home, "inline")
		r.envrc(inline, "use awsrole "+roleInline+" region=eu-west-1 session_name=e2e-direnv-inline\n")
		u := r.project("u", roleAudit, "e2e-direnv-u", "eu-west-1", false)
		r.envrc(u, "use awsrole\n")
		s := r.startShell(kind, "", nil)
		before := s.Managed()

		// In: the role, assumed with the user's own key.
		_, full := s.RunFull(s.Cd(p))
		if l := awsroleLines(full); len(l) != 0 {
			t.Errorf("entering through direnv printed %q", l)
		}
		wantDirenvActive(t, "in P through direnv", s.Managed(), roleDeploy, p, "eu-west-1")
		if got, want := callerArn(s), "arn:aws:sts::222222222222:assumed-role/deploy/e2e-direnv"; got != want {
			t.Errorf("get-caller-identity through direnv: %q, want %q", got, want)
		}
		wantAssumes(t, r, "e2e-direnv", 1)
		st := s.Run("awsrole status")
		if !strings.Contains(st, "via direnv") || !strings.Contains(st, "direnv reload") || !strings.Contains(st, roleDeploy) {
			t.Errorf("awsrole status under direnv: want the role, 'via direnv' and how to renew:\n%s", st)
		}

		// Out: originals back exactly.
		s.Run(s.Cd(r.Home))
		wantSame(t, "after leaving P", before, s.Managed())

		// Inline role in the .envrc, with a secret key full of shell
		// metacharacters: direnv's diff carries it exactly.
		const hostile = "a'b\"c$(touch PWNED)`d\\e\nf\tg!h%s"
		r.Stub.SetSecretOverride(hostile)
		s.Run(s.Cd(inline))
		inInline := s.Managed()
		wantDirenvActive(t, "in the inline project", inInline, roleInline, inline, "eu-west-1")
		if got := inInline["AWS_SECRET_ACCESS_KEY"]; got == nil || *got != hostile {
			t.Errorf("through direnv: AWS_SECRET_ACCESS_KEY = %s, want %q byte for byte", show(got), hostile)
		}
		r.noPWNED()
		wantAssumes(t, r, "e2e-direnv-inline", 1)
		s.Run(s.Cd(r.Home))
		wantSame(t, "after leaving the inline project", before, s.Managed())

		// An edit of the .awsrole.toml, approved again, reloads at the next
		// prompt. direnv compares watched files' mtimes in whole seconds:
		// settle first, so that the mtimes it records when it loads are
		// seconds older than the edit.
		r.settle()
		s.Run(s.Cd(p))
		r.write(filepath.Join(p, ".awsrole.toml"), "role_arn = \""+roleAudit+"\"\nsession_name = \"e2e-direnv-2\"\nregion = \"eu-central-1\"\n")
		s.Run("awsrole allow")
		s.Run("true")
		wantDirenvActive(t, "in P after the edit and awsrole allow", s.Managed(), roleAudit, p, "eu-central-1")
		// Assumed from the user's own key again, not from the first role's.
		wantAssumes(t, r, "e2e-direnv-2", 1)
		s.Run(s.Cd(r.Home))
		wantSame(t, "after leaving P again", before, s.Managed())

		// A .awsrole.toml awsrole has not approved: one line, nothing exported.
		n := len(r.Stub.Calls())
		_, full = s.RunFull(s.Cd(u))
		lines := awsroleLines(full)
		if len(lines) != 1 || !strings.Contains(lines[0], filepath.Join(u, ".awsrole.toml")) || !strings.Contains(lines[0], "awsrole allow") {
			t.Errorf("use awsrole with an unapproved .awsrole.toml: want one awsrole: line naming it and 'awsrole allow', got %q (terminal: %q)", lines, full)
		}
		wantSame(t, "in the unapproved project", before, s.Managed())
		if calls := r.Stub.Calls(); len(calls) != n {
			t.Errorf("STS calls for an unapproved file under direnv:\n%s", hermetic.DescribeCalls(calls[n:]))
		}
		s.Run(s.Cd(r.Home))
		wantSame(t, "at the end", before, s.Managed())
	})
}

// 5b. MFA under direnv: the code is asked for on the terminal while direnv
// evaluates the .envrc, and the role is loaded.
func TestDirenvMFA(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, nil)
	r.Stub.RequireMFA(roleDeploy, mfaSerial, mfaCode)
	r.install("direnv")
	r.direnvHook("bash")
	m := r.mfaProject("m", roleDeploy, "e2e-direnv-mfa", "eu-west-1")
	r.envrc(m, "use awsrole\n")
	s := r.startShell("bash", "", nil)
	before := s.Managed()
	full := enterWithCode(t, s, m, mfaCode)
	if lines := errorLines(full); len(lines) != 0 {
		t.Errorf("entering through direnv with the code typed printed %q", lines)
	}
	wantDirenvActive(t, "in M through direnv", s.Managed(), roleDeploy, m, "eu-west-1")
	if gst := calledN(r, "GetSessionToken"); len(gst) != 1 || gst[0].TokenCode != mfaCode || gst[0].AccessKeyID != userKey {
		t.Errorf("want one GetSessionToken with the typed code, signed with the user's key; stub log:\n%s", hermetic.DescribeCalls(r.Stub.Calls()))
	}
	s.Run(s.Cd(r.Home))
	wantSame(t, "after leaving", before, s.Managed())
}
