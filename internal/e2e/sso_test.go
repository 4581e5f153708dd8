package e2e

import (
	"cmp"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/testrig/ptyshell"

	"github.com/awsrole/awsrole/internal/stsstub"
	"github.com/awsrole/awsrole/internal/testrig"

	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

// IAM Identity Center (issue 9): a project file names an SSO account and
// permission set (and maybe one more hop); the sign-in is the aws CLI v2's
// token file, shared with botocore; entries are cached by identity.

const (
	ssoStartURL = "https://corp.awsapps.example/start"
	ssoAccount  = "222222222222"
	ssoRole     = "Deploy"
	// ssoProfile is the profile of ~/.aws/config that signs in through the
	// same session and permission set as the projects.
	ssoProfile = "sso"
	// ssoArnPrefix and ssoArnSuffix frame the caller ARN of the permission
	// set's role, as the stand-in names it (AWSReservedSSO_<set>_<hash>).
	ssoArnPrefix = "arn:aws:sts::" + ssoAccount + ":assumed-role/AWSReservedSSO_" + ssoRole + "_"
	ssoArnSuffix = "/alice"
	// ssoExpired is what an expired sign-in says, after "awsrole: assume <label>: ".
	ssoExpired = "the sign-in to IAM Identity Center session corp has expired; run: awsrole login --sso-session corp"
)

// ssoTokenFile is the aws CLI v2's token cache file of session "corp".
func (r *rig) ssoTokenFile() string {
	sum := sha1.Sum([]byte("corp"))
	return filepath.Join(r.Home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json")
}

// cliToken is the aws CLI v2's token file, all eight fields, written by
// the test as `aws sso login` would.
type cliToken struct {
	StartURL              string `json:"startUrl"`
	Region                string `json:"region"`
	AccessToken           string `json:"accessToken"`
	ExpiresAt             string `json:"expiresAt"`
	ClientID              string `json:"clientId"`
	ClientSecret          string `json:"clientSecret"`
	RegistrationExpiresAt string `json:"registrationExpiresAt"`
	RefreshToken          string `json:"refreshToken"`
}

// setupSSO gives the user an [sso-session corp] and a profile "sso" (region
// eu-central-1) using it, assigns the permission set Deploy in account
// 222222222222, points the SSO and OIDC endpoints at the stand-in, and
// takes away the user's static keys (an SSO user has none). With
// tokenTTL != 0 it signs the user in: a token file valid for tokenTTL
// (negative: already expired), as `aws sso login` writes it.
func (r *rig) setupSSO(tokenTTL time.Duration) {
	r.t.Helper()
	r.Env["AWS_ENDPOINT_URL_SSO"] = sp(r.Stub.URL)
	r.Env["AWS_ENDPOINT_URL_SSO_OIDC"] = sp(r.Stub.URL)
	r.Env["AWS_ACCESS_KEY_ID"] = nil
	r.Env["AWS_SECRET_ACCESS_KEY"] = nil
	r.Stub.AssignSSO(ssoAccount, ssoRole)
	r.appendFile(".aws/config", "\n[sso-session corp]\nsso_start_url = "+ssoStartURL+
		"\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n\n[profile "+ssoProfile+
		"]\nsso_session = corp\nsso_account_id = "+ssoAccount+"\nsso_role_name = "+ssoRole+"\nregion = eu-central-1\n")
	if err := os.MkdirAll(filepath.Dir(r.ssoTokenFile()), 0o700); err != nil {
		r.t.Fatal(err)
	}
	if tokenTTL != 0 {
		r.writeSSOToken(tokenTTL)
	}
}

// writeSSOToken signs the user in at the stand-in and writes the token
// file in the aws CLI v2 format, access token valid for ttl.
func (r *rig) writeSSOToken(ttl time.Duration) cliToken {
	r.t.Helper()
	access, refresh := r.Stub.IssueSSOToken(ssoStartURL, ttl)
	id, secret, regExpires := r.Stub.SSOClient()
	tok := cliToken{
		StartURL: ssoStartURL, Region: "us-east-1", AccessToken: access,
		ExpiresAt: time.Now().Add(ttl).UTC().Format("2006-01-02T15:04:05Z"),
		ClientID:  id, ClientSecret: secret,
		RegistrationExpiresAt: regExpires.UTC().Format("2006-01-02T15:04:05Z"),
		RefreshToken:          refresh,
	}
	data, err := json.Marshal(tok)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(r.ssoTokenFile(), data, 0o600); err != nil {
		r.t.Fatal(err)
	}
	return tok
}

// readSSOToken reads the token file and fails unless it has all eight
// fields the aws CLI v2 writes (botocore refreshes only with all of them).
func (r *rig) readSSOToken() cliToken {
	r.t.Helper()
	data, err := os.ReadFile(r.ssoTokenFile())
	if err != nil {
		r.t.Fatalf("token file: %v", err)
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		r.t.Fatalf("token file %s: %v", r.ssoTokenFile(), err)
	}
	for _, k := range []string{"startUrl", "region", "accessToken", "expiresAt", "clientId", "clientSecret", "registrationExpiresAt", "refreshToken"} {
		if v, ok := fields[k].(string); !ok || v == "" {
			r.t.Errorf("token file %s: %s missing or empty: %s", r.ssoTokenFile(), k, data)
		}
	}
	var tok cliToken
	_ = json.Unmarshal(data, &tok)
	for _, ts := range []string{tok.ExpiresAt, tok.RegistrationExpiresAt} {
		if _, err := time.Parse("2006-01-02T15:04:05Z", ts); err != nil {
			r.t.Errorf("token file: time %q is not in the aws CLI's format: %v", ts, err)
		}
	}
	return tok
}

// ssoProject writes an approved project whose file names session corp,
// account 222222222222 and permission set Deploy; with hop != "" one more
// hop to that role; extra lines are appended.
func (r *rig) ssoProject(dir, hop, session, region, extra string) string {
	r.t.Helper()
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(r.Home, dir)
	}
	content := fmt.Sprintf("sso_session = \"corp\"\nsso_account_id = %q\nsso_role_name = %q\nsession_name = %q\n", ssoAccount, ssoRole, session)
	if hop != "" {
		content += fmt.Sprintf("role_arn = %q\n", hop)
	}
	if region != "" {
		content += fmt.Sprintf("region = %q\n", region)
	}
	r.write(filepath.Join(dir, ".awsrole.toml"), content+extra)
	r.awsrole(dir, "allow", dir)
	return dir
}

// isSSOCaller tells whether arn is the permission set's role, signed in as alice.
func isSSOCaller(arn string) bool {
	return strings.HasPrefix(arn, ssoArnPrefix) && strings.HasSuffix(arn, ssoArnSuffix)
}

// countHelperRuns gives the test its own awsrole, a link to the shared
// build in a directory of its own and first on PATH, with an awsrole-sts
// beside it that logs each run and execs the real one (awsrole looks for
// awsrole-sts next to itself first). It returns the number of runs so far.
func (r *rig) countHelperRuns() func() int {
	r.t.Helper()
	dir := filepath.Join(r.Root, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.t.Fatal(err)
	}
	r.bin = filepath.Join(dir, "awsrole")
	if err := os.Link(awsroleBin, r.bin); err != nil {
		data, err := os.ReadFile(awsroleBin)
		if err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(r.bin, data, 0o755); err != nil {
			r.t.Fatal(err)
		}
	}
	log := filepath.Join(r.Root, "helper-runs.log")
	r.write(filepath.Join(dir, "awsrole-sts"), fmt.Sprintf("#!/bin/sh\necho run >> %q\nexec %q \"$@\"\n", log, filepath.Join(binDir, "awsrole-sts")))
	if err := os.Chmod(filepath.Join(dir, "awsrole-sts"), 0o755); err != nil {
		r.t.Fatal(err)
	}
	r.Env["PATH"] = sp(dir + string(os.PathListSeparator) + *r.Env["PATH"])
	return func() int {
		data, _ := os.ReadFile(log)
		return strings.Count(string(data), "\n")
	}
}

// ssoDeployArn is what AWSROLE_ARN says in a project whose role is the
// permission set's own (no hop): the permission set in its account, not
// a role ARN (the role's name has a hash no one knows before the call).
const ssoDeployArn = "sso:" + ssoAccount + "/" + ssoRole

// browserScript writes a $BROWSER that "opens" its argument by fetching
// it, which approves the device sign-in at the stand-in, and returns it.
func (r *rig) browserScript() string {
	r.t.Helper()
	p := r.write(filepath.Join(r.Root, "browser"), "#!/bin/sh\nexec curl -fsS -o /dev/null \"$1\"\n")
	if err := os.Chmod(p, 0o755); err != nil {
		r.t.Fatal(err)
	}
	return p
}

// wantSSOSourced checks that every AssumeRole at the stand-in was signed
// with issued (ASIA) keys, i.e. the portal's, never a user's long-term key.
func wantSSOSourced(t *testing.T, r *rig) {
	t.Helper()
	for _, c := range calledN(r, "AssumeRole") {
		if !strings.HasPrefix(c.AccessKeyID, "ASIA") {
			t.Errorf("AssumeRole of %s signed with %q, want the IAM Identity Center role's issued key; stub log:\n%s", c.RoleArn, c.AccessKeyID, hermetic.DescribeCalls(r.Stub.Calls()))
		}
	}
}

// 1. Entering an SSO project gives the permission set's role (or the hop's
// role), as the aws CLI sees it; leaving puts back exactly what was there.
func TestSSOEnterLeave(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, nil)
		r.setupSSO(time.Hour)
		r.install(kind)
		plain := r.ssoProject("plain", "", "e2e-sso", "eu-west-1", "")
		hop := r.ssoProject("hop", roleDeploy, "e2e-sso-hop", "", "")
		s := r.startShell(kind, "", nil)
		before := s.Managed()

		if _, full := s.RunFull(s.Cd(plain)); len(awsroleLines(full)) > 0 {
			t.Errorf("entering the SSO project printed %q", awsroleLines(full))
		}
		wantActive(t, r, "in the SSO project", s.Managed(), ssoDeployArn, plain, "eu-west-1")
		if got := callerArn(s); !isSSOCaller(got) {
			t.Errorf("get-caller-identity in the SSO project: %q, want %s…%s", got, ssoArnPrefix, ssoArnSuffix)
		}
		s.Run(s.Cd(r.Home))
		wantSame(t, "after leaving the SSO project", before, s.Managed())

		if _, full := s.RunFull(s.Cd(hop)); len(awsroleLines(full)) > 0 {
			t.Errorf("entering the project with a hop printed %q", awsroleLines(full))
		}
		env := s.Managed()
		wantActive(t, r, "in the project with a hop", env, roleDeploy, hop, "")
		if v := env["AWS_REGION"]; v == nil || *v != "us-east-1" {
			t.Errorf("in the project with a hop (no region in the file, no profile): AWS_REGION = %s, want the user's \"us-east-1\"", show(v))
		}
		if got, want := callerArn(s), "arn:aws:sts::222222222222:assumed-role/deploy/e2e-sso-hop"; got != want {
			t.Errorf("get-caller-identity in the project with a hop: %q, want %q", got, want)
		}
		if n := r.Stub.Count("AssumeRole"); n != 1 {
			t.Errorf("AssumeRole calls: %d, want 1 (the hop); stub log:\n%s", n, hermetic.DescribeCalls(r.Stub.Calls()))
		}
		// Both projects start from the same permission set; the portal is
		// the session's region, whatever region the projects' calls go to.
		if n := r.Stub.Count("GetRoleCredentials"); n != 1 {
			t.Errorf("GetRoleCredentials calls for two projects on the same permission set (regions eu-west-1 and us-east-1): %d, want 1; stub log:\n%s", n, hermetic.DescribeCalls(r.Stub.Calls()))
		}
		wantSSOSourced(t, r)
		s.Run(s.Cd(r.Home))
		wantSame(t, "after leaving the project with a hop", before, s.Managed())
	})
}

// 2. 16 processes entering an SSO project with a hop at once, cache empty:
// one GetRoleCredentials and one AssumeRole, and all get the same keys.
func TestSSOConcurrentEntry(t *testing.T) {
	busy.Parallel(t)
	const n = 16
	r := newRig(t, nil)
	r.setupSSO(time.Hour)
	proj := r.ssoProject("proj", roleDeploy, "e2e-sso-conc", "eu-west-1", "")
	// The portal answers slowly, so every process is surely running before
	// anything is cached.
	r.Stub.FailNext("GetRoleCredentials", 1, stsstub.Fault{Hang: 1500 * time.Millisecond})

	results := enterAtOnce(r, proj, n, 4194304+2000)

	if got := r.Stub.Count("GetRoleCredentials"); got != 1 {
		t.Errorf("%d processes entering at once: %d GetRoleCredentials, want 1; stub log:\n%s", n, got, hermetic.DescribeCalls(r.Stub.Calls()))
	}
	if got := r.Stub.Count("AssumeRole"); got != 1 {
		t.Errorf("%d processes entering at once: %d AssumeRole, want 1; stub log:\n%s", n, got, hermetic.DescribeCalls(r.Stub.Calls()))
	}
	if got := len(r.Stub.Calls()); got != 2 {
		t.Errorf("%d processes entering at once: %d requests at the stand-in, want 2; stub log:\n%s", n, got, hermetic.DescribeCalls(r.Stub.Calls()))
	}
	wantSSOSourced(t, r)
	keys := exportedKeys(t, r, proj, results)
	if len(keys) != 1 {
		t.Errorf("the %d processes exported %d different keys, want one (the shared cache's)", n, len(keys))
	}
}

// 3. Entering again with the cache fresh starts no awsrole-sts (the hook's
// awsrole reads the cache itself) and makes no request, in this shell or a
// new one.
func TestSSOCachedReentryStartsNoHelper(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, nil)
		runs := r.countHelperRuns()
		r.setupSSO(time.Hour)
		r.install(kind)
		proj := r.ssoProject("proj", roleDeploy, "e2e-sso-cached", "eu-west-1", "")
		s := r.startShell(kind, "", nil)
		before := s.Managed()

		s.Run(s.Cd(proj))
		wantActive(t, r, "first entry", s.Managed(), roleDeploy, proj, "eu-west-1")
		if got := runs(); got != 1 {
			t.Fatalf("first entry (cache empty) ran awsrole-sts %d times, want 1 (is the hook using the test's awsrole?)", got)
		}
		s.Run(s.Cd(r.Home))
		wantSame(t, "after leaving", before, s.Managed())
		s.Run(s.Cd(proj))
		wantActive(t, r, "re-entry", s.Managed(), roleDeploy, proj, "eu-west-1")
		s2 := r.startShell(kind, "", nil)
		s2.Run(s2.Cd(proj))
		wantActive(t, r, "entry from a second shell", s2.Managed(), roleDeploy, proj, "eu-west-1")
		if got := runs(); got != 1 {
			t.Errorf("re-entry and a second shell's entry with a fresh cache ran awsrole-sts %d more times, want 0", got-1)
		}
		if got := len(r.Stub.Calls()); got != 2 {
			t.Errorf("requests at the stand-in: %d, want 2 (one GetRoleCredentials, one AssumeRole); stub log:\n%s", got, hermetic.DescribeCalls(r.Stub.Calls()))
		}
		if got := callerArn(s2); got != "arn:aws:sts::222222222222:assumed-role/deploy/e2e-sso-cached" {
			t.Errorf("get-caller-identity after a cached entry: %q", got)
		}
	})
}

// 4. The sign-in expired and cannot be refreshed: entering prints one line
// naming the login command and changes nothing; the next prompts neither
// print nor retry. `awsrole login` in the same terminal completes the device
// flow, and the very next prompt enters without a cd.
func TestSSOExpiredThenLogin(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, nil)
		r.setupSSO(-time.Minute)
		r.Stub.RevokeRefreshTokens()
		browser := r.browserScript()
		r.install(kind)
		proj := r.ssoProject("proj", "", "e2e-sso-exp", "eu-west-1", "")
		s := r.startShell(kind, "", nil)
		before := s.Managed()

		_, full := s.RunFull(s.Cd(proj))
		want := "awsrole: assume " + ssoDeployArn + ": " + ssoExpired
		if lines := awsroleLines(full); len(lines) != 1 || lines[0] != want {
			t.Errorf("entering with an expired sign-in printed %q, want the one line %q", lines, want)
		}
		wantSame(t, "after the failed entry", before, s.Managed())
		calls := len(r.Stub.Calls())
		for i := range 2 {
			if _, full := s.RunFull("true"); len(awsroleLines(full)) > 0 {
				t.Errorf("prompt %d after the failed entry printed %q", i+1, awsroleLines(full))
			}
		}
		if got := len(r.Stub.Calls()); got != calls {
			t.Errorf("the prompts after the failed entry made %d requests, want none (back off); stub log:\n%s", got-calls, hermetic.DescribeCalls(r.Stub.Calls()))
		}
		wantSame(t, "after the prompts in the project", before, s.Managed())

		_, full = s.RunFull("env BROWSER=" + ptyshell.Quote(kind, browser) + " awsrole login --sso-session corp")
		// The environment dump runs after exactly one prompt since the login.
		wantSignedIn(t, r, s, "awsrole login", full, proj)
		if got := r.Stub.Count("GetRoleCredentials"); got != 1 {
			t.Errorf("GetRoleCredentials: %d, want 1; stub log:\n%s", got, hermetic.DescribeCalls(r.Stub.Calls()))
		}
		s.Run(s.Cd(r.Home))
		wantSame(t, "after leaving", before, s.Managed())
	})
}

// autoLoginRig is a user with sso_login = "auto" whose sign-in has
// expired and cannot be refreshed.
func autoLoginRig(t *testing.T) *rig {
	t.Helper()
	r := newRig(t, nil)
	r.setupSSO(-time.Minute)
	r.Stub.RevokeRefreshTokens()
	r.userConfig("sso_login = \"auto\"\n")
	return r
}

// 4b. With sso_login = "auto" an expired sign-in is made anew on the
// terminal at the cd itself: the address line, the signed-in line, and
// the project entered at that one prompt. Ctrl-C while it waits for the
// browser gives up with one line, changes nothing and is not retried at
// the next prompts. Without a terminal (a program's awsrole exec) no
// sign-in starts and the line names the command as without the setting.
func TestSSOAutoLogin(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := autoLoginRig(t)
		// The browser confirms the sign-in only once the user is there.
		there := filepath.Join(r.Root, "user-at-the-browser")
		r.Env["BROWSER"] = sp(r.write(filepath.Join(r.Root, "bin-browser", "browser"),
			"#!/bin/sh\n[ -e "+there+" ] || exit 0\nexec "+r.browserScript()+" \"$1\"\n"))
		if err := os.Chmod(*r.Env["BROWSER"], 0o755); err != nil {
			t.Fatal(err)
		}
		r.install(kind)
		proj := r.ssoProject("proj", "", "e2e-sso-auto", "eu-west-1", "")

		ctx, cancel := context.WithTimeout(context.Background(), ptyshell.Timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, r.exe(), "exec", "--", "true")
		cmd.Dir, cmd.Env = proj, r.Environ(map[string]*string{"PWD": sp(proj)})
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no controlling terminal
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), ssoExpired) {
			t.Errorf("awsrole exec without a terminal: %v %q, want a failure saying %q", err, out, ssoExpired)
		}
		if n := r.Stub.Count("StartDeviceAuthorization"); n != 0 {
			t.Errorf("awsrole exec without a terminal started %d sign-ins, want none", n)
		}

		s := r.startShell(kind, "", nil)
		before := s.Managed()
		if kind == "bash" || kind == "zsh" || kind == "fish" {
			// A background job has the terminal but not its foreground:
			// no one would see the sign-in or could interrupt it.
			out := s.Run("awsrole exec --dir " + ptyshell.Quote(kind, proj) + " -- true & wait")
			if !strings.Contains(out, ssoExpired) || r.Stub.Count("StartDeviceAuthorization") != 0 {
				t.Errorf("awsrole exec in the background: %q and %d sign-ins started, want %q and none", out, r.Stub.Count("StartDeviceAuthorization"), ssoExpired)
			}
		}
		p := s.Begin(s.Cd(proj))
		s.WaitFor(p.Start, "awsrole: to sign in to IAM Identity Center session corp, open ")
		s.Interrupt()
		full := s.WaitPrompt(p)
		want := "awsrole: assume " + ssoDeployArn + ": sign-in to IAM Identity Center session corp cancelled; run: awsrole login --sso-session corp"
		var lines []string
		for _, l := range awsroleLines(full) {
			if !strings.HasPrefix(l, "awsrole: to sign in to ") {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 || lines[0] != want {
			t.Errorf("Ctrl-C during the sign-in: the terminal showed %q after the address line, want the one line %q (terminal: %q)", lines, want, full)
		}
		wantSame(t, "after the cancelled sign-in", before, s.Managed())
		for i := range 2 {
			if _, full := s.RunFull("true"); len(awsroleLines(full)) > 0 {
				t.Errorf("prompt %d after the cancelled sign-in printed %q", i+1, awsroleLines(full))
			}
		}
		if n := r.Stub.Count("StartDeviceAuthorization"); n != 1 {
			t.Errorf("%d sign-ins started, want the one at the cd (no retry at the prompts after it)", n)
		}

		s.Run(s.Cd(r.Home))
		r.write(there, "")
		_, full = s.RunFull(s.Cd(proj))
		wantSignedIn(t, r, s, "the cd with an expired sign-in", full, proj)
		s.Run(s.Cd(r.Home))
		wantSame(t, "after leaving", before, s.Managed())
	})
}

// 4c. A sign-in made elsewhere (aws sso login in another terminal) while
// the hook's waits for the browser ends that wait: the cd completes with
// the new token, and the code shown is left unconfirmed.
func TestSSOAutoLoginElsewhere(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := autoLoginRig(t)
		r.Env["BROWSER"] = sp("true") // the user never confirms this one
		r.install(kind)
		proj := r.ssoProject("proj", "", "e2e-sso-elsewhere", "eu-west-1", "")
		s := r.startShell(kind, "", nil)

		p := s.Begin(s.Cd(proj))
		s.WaitFor(p.Start, "awsrole: to sign in to IAM Identity Center session corp, open ")
		r.writeSSOToken(time.Hour)
		_, full := s.Finish(p)
		lines := awsroleLines(full)
		if len(lines) != 2 || !strings.HasPrefix(lines[1], "awsrole: signed in to IAM Identity Center session corp elsewhere, until ") {
			t.Errorf("the cd waiting for a sign-in made elsewhere printed %q, want the address line and the signed-in-elsewhere line", lines)
		}
		wantActive(t, r, "after the sign-in made elsewhere", s.Managed(), ssoDeployArn, proj, "eu-west-1")
		if n := r.Stub.Count("CreateToken"); n != 0 {
			t.Errorf("successful CreateToken: %d, want none (the code shown was never confirmed)", n)
		}
	})
}

// wantSignedIn checks a device-flow sign-in to session corp: what the
// terminal showed from what to the next prompt (full) is the address line
// and the signed-in line only; the shell then holds proj's permission set,
// the aws CLI calls as it, one CreateToken succeeded, and the token file
// has every field the aws CLI writes.
func wantSignedIn(t *testing.T, r *rig, s *shell, what, full, proj string) {
	t.Helper()
	lines := awsroleLines(full)
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "awsrole: to sign in to IAM Identity Center session corp, open "+r.Stub.URL+"/device?user_code=") ||
		!strings.HasPrefix(lines[1], "awsrole: signed in to IAM Identity Center session corp until ") {
		t.Errorf("%s and the prompt after it printed %q, want the address line and the signed-in line only", what, lines)
	}
	wantActive(t, r, "at the first prompt after "+what, s.Managed(), ssoDeployArn, proj, "eu-west-1")
	if got := callerArn(s); !isSSOCaller(got) {
		t.Errorf("get-caller-identity after %s: %q", what, got)
	}
	if got := r.Stub.Count("CreateToken"); got != 1 {
		t.Errorf("successful CreateToken: %d, want 1 (%s); stub log:\n%s", got, what, hermetic.DescribeCalls(r.Stub.Calls()))
	}
	r.readSSOToken()
}

// aws runs the aws CLI (botocore) in HOME with the rig's environment
// changed by extra, and returns its trimmed combined output.
func (r *rig) aws(extra map[string]*string, args ...string) (string, error) {
	r.t.Helper()
	cmd := exec.Command("aws", args...)
	cmd.Dir = r.Home
	env := map[string]*string{"PWD": sp(r.Home)}
	for k, v := range extra {
		env[k] = v
	}
	cmd.Env = r.Environ(env)
	// exec.Command looks aws up on the test's PATH; the rig's comes first.
	if p, err := lookPathIn("aws", *r.Env["PATH"]); err == nil {
		cmd.Path = p
	}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// lookPathIn finds an executable named name in the directories of path.
func lookPathIn(name, path string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

// 5a. The token file `awsrole login` writes is the aws CLI v2's: botocore
// signs in with it through a profile of the same session, refreshes it with
// its client registration and refresh token, and awsrole then uses what
// botocore wrote.
func TestSSOLoginTokenSharedWithBotocore(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, nil)
	r.setupSSO(0) // not signed in
	proj := r.ssoProject("proj", "", "e2e-sso-share", "", "")

	_, stderr, st := r.run(proj, nil, "export", "json", "--pid", "4194600")
	if want := "awsrole: assume " + ssoDeployArn + ": not signed in to IAM Identity Center session corp (no token at " + r.ssoTokenFile() + "); run: awsrole login --sso-session corp\n"; st != 1 || stderr != want {
		t.Errorf("entering without a sign-in: exit %d, stderr %q, want exit 1 and %q", st, stderr, want)
	}

	_, stderr, st = r.run(r.Home, map[string]*string{"BROWSER": sp(r.browserScript())}, "login", "--sso-session", "corp")
	if st != 0 {
		t.Fatalf("awsrole login: exit %d, stderr %q", st, stderr)
	}
	fi, err := os.Stat(r.ssoTokenFile())
	if err != nil {
		t.Fatalf("awsrole login wrote no token file at %s: %v", r.ssoTokenFile(), err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
	}
	written := r.readSSOToken()
	if written.StartURL != ssoStartURL || written.Region != "us-east-1" {
		t.Errorf("token file names start URL %q, region %q; want %q, us-east-1", written.StartURL, written.Region, ssoStartURL)
	}
	if got := r.Stub.Count("CreateToken"); got != 1 {
		t.Fatalf("CreateToken after the login: %d, want 1; stub log:\n%s", got, hermetic.DescribeCalls(r.Stub.Calls()))
	}

	noKeys := map[string]*string{"AWS_ACCESS_KEY_ID": nil, "AWS_SECRET_ACCESS_KEY": nil}
	out, err := r.aws(noKeys, "sts", "get-caller-identity", "--profile", ssoProfile, "--query", "Arn", "--output", "text")
	if err != nil || !isSSOCaller(out) {
		t.Fatalf("aws sts get-caller-identity --profile %s with awsrole's token: %q (%v), want %s…%s", ssoProfile, out, err, ssoArnPrefix, ssoArnSuffix)
	}
	if got := r.Stub.Count("CreateToken"); got != 1 {
		t.Errorf("botocore refreshed a token awsrole had just written (CreateToken %d, want 1); stub log:\n%s", got, hermetic.DescribeCalls(r.Stub.Calls()))
	}

	// The access token expires: botocore refreshes with what awsrole wrote.
	r.Stub.ExpireSSOTokens()
	written.ExpiresAt = time.Now().Add(-time.Minute).UTC().Format("2006-01-02T15:04:05Z")
	data, _ := json.Marshal(written)
	if err := os.WriteFile(r.ssoTokenFile(), data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = r.aws(noKeys, "sts", "get-caller-identity", "--profile", ssoProfile, "--query", "Arn", "--output", "text")
	if err != nil || !isSSOCaller(out) {
		t.Fatalf("aws sts get-caller-identity --profile %s after expiry (botocore refreshes with awsrole's registration and refresh token): %q (%v)", ssoProfile, out, err)
	}
	if got := r.Stub.Count("CreateToken"); got != 2 {
		t.Errorf("CreateToken after botocore's refresh: %d, want 2; stub log:\n%s", got, hermetic.DescribeCalls(r.Stub.Calls()))
	}
	refreshed := r.readSSOToken()
	if refreshed.AccessToken == written.AccessToken {
		t.Fatalf("botocore did not write its refreshed token to %s", r.ssoTokenFile())
	}

	// awsrole uses the token botocore refreshed, as it is.
	out, stderr, st = r.run(proj, nil, "export", "json", "--pid", "4194601")
	if st != 0 || !strings.Contains(out, `"AWSROLE_ARN":"`+ssoDeployArn+`"`) {
		t.Errorf("entering with botocore's refreshed token: exit %d, stdout %q, stderr %q", st, out, stderr)
	}
	if got := r.Stub.Count("CreateToken"); got != 2 {
		t.Errorf("awsrole refreshed botocore's fresh token (CreateToken %d, want 2); stub log:\n%s", got, hermetic.DescribeCalls(r.Stub.Calls()))
	}
}

// 5b. A token file as the aws CLI v2 writes it (all eight fields) is used
// as it is while valid, and refreshed by awsrole when expired, rewritten in
// the same format, which botocore then reads without refreshing again.
func TestSSOCLITokenFile(t *testing.T) {
	t.Parallel()
	t.Run("valid", func(t *testing.T) {
		busy.Parallel(t)
		r := newRig(t, nil)
		r.setupSSO(time.Hour)
		proj := r.ssoProject("proj", "", "e2e-sso-cli", "", "")
		out, stderr, st := r.run(proj, nil, "export", "json", "--pid", "4194610")
		if st != 0 || !strings.Contains(out, `"AWSROLE_ARN":"`+ssoDeployArn+`"`) {
			t.Fatalf("entering with the aws CLI's token file: exit %d, stdout %q, stderr %q", st, out, stderr)
		}
		if c, g := r.Stub.Count("CreateToken"), r.Stub.Count("GetRoleCredentials"); c != 0 || g != 1 {
			t.Errorf("CreateToken %d, GetRoleCredentials %d; want 0 and 1; stub log:\n%s", c, g, hermetic.DescribeCalls(r.Stub.Calls()))
		}
	})
	t.Run("expired", func(t *testing.T) {
		busy.Parallel(t)
		r := newRig(t, nil)
		r.setupSSO(-time.Minute)
		before := r.readSSOToken()
		proj := r.ssoProject("proj", "", "e2e-sso-cli", "", "")
		out, stderr, st := r.run(proj, nil, "export", "json", "--pid", "4194611")
		if st != 0 || !strings.Contains(out, `"AWSROLE_ARN":"`+ssoDeployArn+`"`) {
			t.Fatalf("entering with an expired, refreshable token file: exit %d, stdout %q, stderr %q", st, out, stderr)
		}
		if c := r.Stub.Count("CreateToken"); c != 1 {
			t.Errorf("CreateToken %d, want 1 (the refresh); stub log:\n%s", c, hermetic.DescribeCalls(r.Stub.Calls()))
		}
		after := r.readSSOToken()
		if after.AccessToken == before.AccessToken || after.ClientID != before.ClientID || after.StartURL != before.StartURL {
			t.Errorf("token file after awsrole's refresh: %+v, want a new access token for the same client and start URL", after)
		}
		if exp, err := time.Parse("2006-01-02T15:04:05Z", after.ExpiresAt); err != nil || !exp.After(time.Now()) {
			t.Errorf("token file after awsrole's refresh expires at %q, want a future time", after.ExpiresAt)
		}
		out, err := r.aws(map[string]*string{"AWS_ACCESS_KEY_ID": nil, "AWS_SECRET_ACCESS_KEY": nil},
			"sts", "get-caller-identity", "--profile", ssoProfile, "--query", "Arn", "--output", "text")
		if err != nil || !isSSOCaller(out) {
			t.Errorf("aws sts get-caller-identity --profile %s with the token awsrole refreshed: %q (%v)", ssoProfile, out, err)
		}
		if c := r.Stub.Count("CreateToken"); c != 1 {
			t.Errorf("botocore refreshed the token awsrole had just refreshed (CreateToken %d, want 1)", c)
		}
	})
}

// 6. AWS_PROFILE names an SSO profile with a region (and a CA bundle); the
// project file names no region: inside, botocore resolves the profile's
// region from the environment although AWS_PROFILE is unset, and a call
// without --region goes there; `awsrole status` says where the region came from; leaving puts
// AWS_PROFILE back and the region variables away.
func TestSSORegionFromProfile(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, map[string]*string{"AWS_PROFILE": sp("work"), "AWS_REGION": nil, "AWS_DEFAULT_REGION": nil})
		r.setupSSO(time.Hour)
		// Any readable PEM file will do: the stand-in is plain HTTP.
		bundle := r.write("corp-ca.pem", "")
		if data, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt"); err == nil {
			bundle = r.write("corp-ca.pem", string(data))
		}
		r.appendFile(".aws/config", "\n[profile work]\nsso_session = corp\nsso_account_id = "+ssoAccount+
			"\nsso_role_name = "+ssoRole+"\nregion = ap-southeast-2\nca_bundle = "+bundle+"\n")
		r.install(kind)
		proj := r.project("proj", roleDeploy, "e2e-sso-region", "", true)
		s := r.startShell(kind, "", nil)
		before := s.Managed()
		if v := before["AWS_REGION"]; v != nil {
			t.Fatalf("AWS_REGION before entering: %s, want unset", show(v))
		}

		s.Run(s.Cd(proj))
		env := s.Managed()
		wantActive(t, r, "in the project", env, roleDeploy, proj, "ap-southeast-2")
		if v := env["AWS_CA_BUNDLE"]; v == nil || *v != bundle {
			t.Errorf("in the project: AWS_CA_BUNDLE = %s, want the profile's ca_bundle %q", show(v), bundle)
		}
		// `aws configure get region` reads only the config file's section of
		// the active profile (aws CLI v1 and v2 alike), and AWS_PROFILE is
		// unset inside: what botocore resolves is what `configure list` shows.
		// botocore reads the environment, which wantActive and wantSame
		// compare byte for byte in every shell: the aws CLI (a second of
		// CPU a run) asks it in bash only.
		if kind == "bash" {
			if got := configuredRegion(s.Run("aws configure list")); got != "ap-southeast-2 env" {
				t.Errorf("aws configure list in the project: region %q, want \"ap-southeast-2 env\"", got)
			}
		}
		if got, want := callerArn(s), "arn:aws:sts::222222222222:assumed-role/deploy/e2e-sso-region"; got != want {
			t.Errorf("get-caller-identity (no --region) in the project: %q, want %q", got, want)
		}
		var regions []string
		for _, c := range r.Stub.Calls() {
			if c.Action == "GetCallerIdentity" || c.Action == "AssumeRole" {
				regions = append(regions, c.Action+" "+c.Region)
			}
		}
		if want := []string{"AssumeRole ap-southeast-2", "GetCallerIdentity ap-southeast-2"}; fmt.Sprint(regions) != fmt.Sprint(want) {
			t.Errorf("STS calls signed for regions %q, want %q", regions, want)
		}
		if got := r.Stub.Count("GetRoleCredentials"); got != 1 {
			t.Errorf("GetRoleCredentials: %d, want 1 (the profile's SSO source); stub log:\n%s", got, hermetic.DescribeCalls(r.Stub.Calls()))
		}
		status := s.Run("awsrole status")
		if !strings.Contains(status, "region:  ap-southeast-2 (from ") || !strings.Contains(status[strings.Index(status, "region:"):], "work") {
			t.Errorf("awsrole status does not say the region came from profile work:\n%s", status)
		}

		s.Run(s.Cd(r.Home))
		after := s.Managed()
		wantSame(t, "after leaving", before, after)
		if v := after["AWS_PROFILE"]; v == nil || *v != "work" {
			t.Errorf("after leaving: AWS_PROFILE = %s, want \"work\"", show(v))
		}
		if kind == "bash" {
			if got := strings.TrimSpace(s.Run("aws configure get region")); got != "ap-southeast-2" {
				t.Errorf("aws configure get region after leaving (through AWS_PROFILE again): %q", got)
			}
		}
	})
}

// configuredRegion is the region line of `aws configure list`: value and
// where it came from.
func configuredRegion(list string) string {
	for _, l := range strings.Split(list, "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "region" {
			return f[1] + " " + f[2]
		}
	}
	return ""
}

// 7. credential-process, run by botocore itself (no shell: ~ is awsrole's
// to expand), through a profile of ~/.aws/config; and in the last 15
// minutes of a credential's life, where botocore refreshes before every
// call, ten calls of one client start awsrole once: it hands out
// credentials with more than 15 minutes left.
func TestCredentialProcessBotocore(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, nil)
	python := botocorePython(t, r)
	wrapper, log := r.callLogger()
	runs := func() int { return lines(log) }
	r.appendFile(".aws/config", "\n[profile x]\ncredential_process = "+wrapper+" credential-process --dir ~/x\n")
	x := r.project("x", roleDeploy, "e2e-cp", "", true)
	const want = "arn:aws:sts::222222222222:assumed-role/deploy/e2e-cp"

	// The hook cached a credential that has 10 minutes left: fresh for
	// awsrole's own 5-minute window, inside botocore's 15.
	r.Stub.SetSessionDuration(10 * time.Minute)
	out, stderr, st := r.run(x, nil, "export", "json", "--pid", "4194650")
	if st != 0 || !strings.Contains(out, "AWS_SECRET_ACCESS_KEY") {
		t.Fatalf("awsrole export json in ~/x: exit %d, stdout %q, stderr %q", st, out, stderr)
	}
	r.Stub.SetSessionDuration(0)

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
	if n := runs(); n != 1 {
		t.Errorf("ten botocore calls starting with a credential 10 minutes from expiry ran awsrole %d times, want 1", n)
	}
	if n := r.Stub.Count("AssumeRole"); n != 2 {
		t.Errorf("AssumeRole: %d, want 2 (the 10-minute one, then one that lasts); stub log:\n%s", n, hermetic.DescribeCalls(r.Stub.Calls()))
	}

	// And the aws CLI's --profile, from the cache.
	if out, err := r.aws(nil, "sts", "get-caller-identity", "--profile", "x", "--query", "Arn", "--output", "text"); err != nil || out != want {
		t.Errorf("aws sts get-caller-identity --profile x: %q (%v), want %q", out, err, want)
	}
	if n := r.Stub.Count("AssumeRole"); n != 2 {
		t.Errorf("AssumeRole after the aws CLI's call: %d, want still 2 (cached)", n)
	}
	// One cache entry for the role: the hook's and credential-process's key agree.
	if entries, _ := filepath.Glob(filepath.Join(*r.Env["XDG_CACHE_HOME"], "awsrole", "credentials", "role-*.json")); len(entries) != 1 {
		t.Errorf("role cache entries: %q, want one shared by the hook and credential-process", entries)
	}
	if data, _ := os.ReadFile(log); strings.Count(string(data), "credential-process --dir ~/x\n") != 2 {
		t.Errorf("awsrole runs: %q, want two of `credential-process --dir ~/x`, ~ unexpanded", data)
	}
}

// botocorePython is the Python that runs the aws CLI, which has botocore;
// the test is skipped when there is none.
func botocorePython(t *testing.T, r *rig) string {
	t.Helper()
	aws, err := lookPathIn("aws", *r.Env["PATH"])
	if err != nil {
		testrig.Require(t, "no aws CLI on the rig's PATH (pip install awscli)")
	}
	data, err := os.ReadFile(aws)
	if err != nil {
		testrig.Require(t, fmt.Sprintf("aws CLI: %v", err))
	}
	first, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(strings.TrimPrefix(first, "#!"))
	if !strings.HasPrefix(first, "#!") || len(fields) == 0 {
		testrig.Require(t, "the aws CLI is not a Python script (aws CLI v2?): no botocore to drive")
	}
	python := fields[0]
	if filepath.Base(python) == "env" && len(fields) > 1 {
		python = fields[1]
	}
	if out, err := exec.Command(python, "-c", "import botocore.session").CombinedOutput(); err != nil {
		testrig.Require(t, fmt.Sprintf("%s has no botocore: %v\n%s", python, err, out))
	}
	return python
}

// 8. duration = "2h" on a hop from an SSO role: STS would refuse more than
// 1 h for a chained role, so awsrole asks for 3600 s and status says why.
func TestSSODurationCap(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, nil)
	r.setupSSO(time.Hour)
	proj := r.ssoProject("proj", roleDeploy, "e2e-sso-cap", "", "duration = \"2h\"\n")
	out, stderr, st := r.run(proj, nil, "export", "json", "--pid", "4194700")
	if st != 0 || !strings.Contains(out, "AWS_SECRET_ACCESS_KEY") {
		t.Fatalf("entering with duration 2h from SSO: exit %d, stdout %q, stderr %q", st, out, stderr)
	}
	calls := calledN(r, "AssumeRole")
	if len(calls) != 1 || calls[0].DurationSeconds != 3600 || calls[0].Status != 200 {
		asked := []int{}
		for _, c := range calls {
			asked = append(asked, int(c.DurationSeconds))
		}
		t.Errorf("AssumeRole calls asked for %v s, want one successful call asking for 3600; stub log:\n%s", asked, hermetic.DescribeCalls(r.Stub.Calls()))
	}
	var vars map[string]string
	if err := json.Unmarshal([]byte(out), &vars); err != nil {
		t.Fatal(err)
	}
	if exp, err := time.Parse(time.RFC3339, vars["AWS_CREDENTIAL_EXPIRATION"]); err != nil || exp.After(time.Now().Add(time.Hour+time.Minute)) {
		t.Errorf("AWS_CREDENTIAL_EXPIRATION %q, want at most 1 h away", vars["AWS_CREDENTIAL_EXPIRATION"])
	}
	status, _, _ := r.run(proj, nil, "status")
	want := "duration: 2h0m0s asked, 1h0m0s granted: STS caps a role assumed from the IAM Identity Center role Deploy in account 222222222222 (role chaining) at 1h0m0s\n"
	if !strings.Contains(status, want) {
		t.Errorf("awsrole status does not say %q:\n%s", want, status)
	}
}

// 9. `awsrole init --sso-session corp`: the list the user picks from covers
// every account and permission set, though the portal pages them two at a
// time; --account/--role writes an approved file that enters at once; a
// pair the user cannot reach is refused in one line and nothing is written.
func TestSSOInit(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, nil)
	r.setupSSO(time.Hour)
	r.Stub.SetSSOPageSize(2)
	assigned := map[string]bool{ssoAccount + " " + ssoRole: true}
	for _, a := range []struct{ account, name, role string }{
		{ssoAccount, "payments", "ReadOnly"},
		{"333333333333", "audit", "Audit"},
		{"444444444444", "billing", "Billing"},
		{"555555555555", "sandbox", "Billing"},
		{"666666666666", "platform", "Admin"},
	} {
		r.Stub.AssignSSO(a.account, a.role)
		r.Stub.NameSSOAccount(a.account, a.name)
		assigned[a.account+" "+a.role] = true
	}

	// Non-interactive.
	billing := filepath.Join(r.Home, "billing")
	if err := os.MkdirAll(billing, 0o755); err != nil {
		t.Fatal(err)
	}
	out, stderr, st := r.run(billing, nil, "init", "--sso-session", "corp", "--account", "444444444444", "--role", "Billing")
	if want := "awsrole: wrote and allowed " + filepath.Join(billing, ".awsrole.toml") + " (sso:444444444444/Billing)\n"; st != 0 || out != want || stderr != "" {
		t.Fatalf("awsrole init --account --role: exit %d, stdout %q, stderr %q; want stdout %q", st, out, stderr, want)
	}
	cmd := exec.Command("bash", "-c", `eval "$(awsrole export bash --pid 4194800)" && aws sts get-caller-identity --query Arn --output text`)
	cmd.Dir = billing
	cmd.Env = r.Environ(map[string]*string{"PWD": sp(billing)})
	got, err := cmd.CombinedOutput()
	if arn := strings.TrimSpace(string(got)); err != nil || !strings.HasPrefix(arn, "arn:aws:sts::444444444444:assumed-role/AWSReservedSSO_Billing_") || !strings.HasSuffix(arn, "/alice") {
		t.Errorf("entering the directory init wrote, then aws sts get-caller-identity: %q (%v)", arn, err)
	}

	// A pair the user cannot reach.
	nope := filepath.Join(r.Home, "nope")
	if err := os.MkdirAll(nope, 0o755); err != nil {
		t.Fatal(err)
	}
	out, stderr, st = r.run(nope, nil, "init", "--sso-session", "corp", "--account", "333333333333", "--role", "Deploy")
	if want := "awsrole: IAM Identity Center session corp gives you no permission set \"Deploy\" in account \"333333333333\"; run without --account and --role to pick from what you can reach\n"; st != 1 || out != "" || stderr != want {
		t.Errorf("awsrole init with an unreachable pair: exit %d, stdout %q, stderr %q; want exit 1 and %q", st, out, stderr, want)
	}
	if _, err := os.Stat(filepath.Join(nope, ".awsrole.toml")); err == nil {
		t.Errorf("awsrole init wrote a file for an unreachable pair")
	}

	// Interactive, on a terminal.
	picked := filepath.Join(r.Home, "picked")
	if err := os.MkdirAll(picked, 0o755); err != nil {
		t.Fatal(err)
	}
	listed := r.Stub.Count("ListAccounts")
	s := r.startShell("bash", picked, nil)
	p := s.Begin("awsrole init --sso-session corp")
	question := fmt.Sprintf("awsrole: which one (1-%d)? ", len(assigned))
	end := s.WaitFor(p.Start, question)
	choices := map[string]string{} // "account role" -> number
	for _, l := range strings.Split(ptyshell.Clean(s.Slice(p.Start, end)), "\n") {
		if f := strings.Fields(l); len(f) >= 4 && len(f[1]) == 12 {
			choices[f[1]+" "+f[len(f)-1]] = f[0]
		}
	}
	for pair := range assigned {
		if choices[pair] == "" {
			t.Errorf("the pick list lacks %s; it shows %v", pair, choices)
		}
	}
	if len(choices) != len(assigned) {
		t.Errorf("the pick list has %d entries, want %d: %v", len(choices), len(assigned), choices)
	}
	if n := r.Stub.Count("ListAccounts") - listed; n != 3 {
		t.Errorf("ListAccounts pages for 5 accounts, 2 a page: %d, want 3; stub log:\n%s", n, hermetic.DescribeCalls(r.Stub.Calls()))
	}
	s.Send(cmp.Or(choices["333333333333 Audit"], "1"))
	// The region is offered (the user's, else the session's); Enter takes it.
	s.WaitFor(end, "awsrole: region for this project (Enter for ")
	s.Send("")
	s.Finish(p)
	content, err := os.ReadFile(filepath.Join(picked, ".awsrole.toml"))
	if err != nil || !strings.Contains(string(content), "sso_account_id = \"333333333333\"") || !strings.Contains(string(content), "sso_role_name  = \"Audit\"") ||
		!strings.Contains(string(content), "\nregion = \"") {
		t.Fatalf("the file written after picking 333333333333 Audit and taking the region offered: %v\n%s", err, content)
	}
	for _, l := range strings.Split(string(content), "\n") {
		if k, _, _ := strings.Cut(strings.TrimSpace(l), "="); !strings.HasPrefix(k, "#") && strings.Contains(k, "command") {
			t.Errorf("awsrole init wrote a key that runs a command: %q", l)
		}
	}
	out, stderr, st = r.run(picked, nil, "export", "json", "--pid", "4194801")
	if st != 0 || !strings.Contains(out, `"AWSROLE_ARN":"sso:333333333333/Audit"`) {
		t.Errorf("entering the picked directory (approved by init): exit %d, stdout %q, stderr %q", st, out, stderr)
	}
}

// source_profile naming the SSO profile: the hop starts from the
// permission set's role, the portal is called once for two entries, and
// the profile's region is not carried when the user's own is set.
func TestSSOSourceProfile(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, nil)
	r.setupSSO(time.Hour)
	proj := r.project("proj", roleDeploy, "e2e-sso-sp", "", false)
	r.appendFile("proj/.awsrole.toml", "source_profile = \""+ssoProfile+"\"\n")
	r.awsrole(proj, "allow", proj)
	for i := range 2 {
		out, stderr, st := r.run(proj, nil, "export", "json", "--pid", strconv.Itoa(4194900+i))
		if st != 0 || !strings.Contains(out, `"AWSROLE_ARN":"`+roleDeploy+`"`) {
			t.Fatalf("entry %d with source_profile = %q: exit %d, stdout %q, stderr %q", i+1, ssoProfile, st, out, stderr)
		}
		var vars map[string]string
		if err := json.Unmarshal([]byte(out), &vars); err != nil {
			t.Fatal(err)
		}
		if _, ok := vars["AWS_REGION"]; ok {
			t.Errorf("entry %d: AWS_REGION exported (%q) though the user has one set", i+1, vars["AWS_REGION"])
		}
	}
	if g, a := r.Stub.Count("GetRoleCredentials"), r.Stub.Count("AssumeRole"); g != 1 || a != 1 {
		t.Errorf("two entries through source_profile: GetRoleCredentials %d, AssumeRole %d; want 1 and 1; stub log:\n%s", g, a, hermetic.DescribeCalls(r.Stub.Calls()))
	}
	wantSSOSourced(t, r)
}
