package wire_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/oidcissuer"
	"github.com/awsrole/awsrole/internal/stsstub"
	"github.com/awsrole/awsrole/internal/wire"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

const (
	userKey    = "AKIAAGREEUSEREXAMPLE"
	userSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYAGREEKEY"
	roleB      = "arn:aws:iam::222222222222:role/deploy"
	mfaSerial  = "arn:aws:iam::111111111111:mfa/alice"
)

// helperDir holds an awsrole-sts built for these tests.
var helperDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "credcache-helper")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := exec.Command("go", "build", "-o", dir+"/", "github.com/awsrole/awsrole/cmd/awsrole-sts").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build awsrole-sts: %v\n%s", err, out)
		os.Exit(1)
	}
	helperDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func sp(s string) *string { return &s }

// world is a user's machine: HOME with ~/.aws, XDG dirs, the stand-in.
type world struct {
	t    *testing.T
	home string
	stub *stsstub.Server
}

func newWorld(t *testing.T) *world {
	home := t.TempDir()
	stub, err := stsstub.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stub.Close)
	stub.AddUser(userKey, userSecret, "arn:aws:iam::111111111111:user/alice")
	stub.AssignSSO("222222222222", "Deploy")
	stub.RequireMFA("arn:aws:iam::222222222222:role/mfa", mfaSerial, "123456")
	for k, v := range map[string]string{
		"HOME": home, "XDG_CACHE_HOME": filepath.Join(home, ".cache"),
		"AWS_CONFIG_FILE": filepath.Join(home, ".aws", "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, ".aws", "credentials"),
		"AWS_ENDPOINT_URL_STS": stub.URL, "AWS_ENDPOINT_URL_SSO": stub.URL, "AWS_ENDPOINT_URL_SSO_OIDC": stub.URL,
		"AWS_EC2_METADATA_DISABLED": "true", "PATH": helperDir + string(os.PathListSeparator) + os.Getenv("PATH"),
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	w := &world{t: t, home: home, stub: stub}
	w.write(".aws/credentials", fmt.Sprintf("[static]\naws_access_key_id = %s\naws_secret_access_key = %s\n", userKey, userSecret))
	proc := filepath.Join(home, "proc.sh")
	w.write("proc.sh", fmt.Sprintf("#!/bin/sh\nprintf '{\"Version\":1,\"AccessKeyId\":\"%s\",\"SecretAccessKey\":\"%s\"}'\n", userKey, userSecret))
	os.Chmod(proc, 0o755)
	w.write(".aws/config", `[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1

[profile static]
region = eu-central-1

[profile jump]
role_arn = arn:aws:iam::111111111111:role/jump
source_profile = static

[profile proc]
credential_process = `+proc+`

[profile ssoprof]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = Deploy
`)
	access, refresh := stub.IssueSSOToken("https://corp.awsapps.com/start", time.Hour)
	id, secret, regExp := stub.SSOClient()
	tok, _ := json.Marshal(awsconfig.Token{StartURL: "https://corp.awsapps.com/start", Region: "eu-west-1", AccessToken: access,
		ExpiresAt: time.Now().Add(time.Hour), ClientID: id, ClientSecret: secret, RegistrationExpiresAt: regExp, RefreshToken: refresh})
	w.write(strings.TrimPrefix(awsconfig.PathsFromEnv(os.Getenv).TokenPath("corp"), home+"/"), string(tok))
	return w
}

func (w *world) write(rel, content string) {
	p := filepath.Join(w.home, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// TestHookReadsWhatTheHelperWrote proves, for every kind of source, that
// the cache entry awsrole looks up without the SDK is the one awsrole-sts
// wrote: the first Get runs the helper (a separate process, with the SDK),
// the second must be answered from the cache with no helper to be found.
func TestHookReadsWhatTheHelperWrote(t *testing.T) {
	user := credreq.Env{"AWS_ACCESS_KEY_ID": sp(userKey), "AWS_SECRET_ACCESS_KEY": sp(userSecret)}
	base := credreq.Request{SessionName: "agree", Duration: time.Hour, Window: 5 * time.Minute, MFACommand: "echo 123456"}
	cases := []struct {
		name  string
		env   credreq.Env
		edit  func(*credreq.Request)
		calls map[string]int // at the stand-in, for the first Get
	}{
		{"env keys", user, func(r *credreq.Request) { r.RoleARN = roleB }, map[string]int{"AssumeRole": 1}},
		{"env keys, region", credreq.Env{"AWS_ACCESS_KEY_ID": sp(userKey), "AWS_SECRET_ACCESS_KEY": sp(userSecret), "AWS_REGION": sp("ap-south-1")},
			func(r *credreq.Request) { r.RoleARN = roleB }, map[string]int{"AssumeRole": 1}},
		{"static profile", credreq.Env{"AWS_PROFILE": sp("static")}, func(r *credreq.Request) { r.RoleARN = roleB }, map[string]int{"AssumeRole": 1}},
		{"source_profile", nil, func(r *credreq.Request) { r.RoleARN = roleB; r.SourceProfile = "static" }, map[string]int{"AssumeRole": 1}},
		{"role profile", credreq.Env{"AWS_PROFILE": sp("jump")}, func(r *credreq.Request) { r.RoleARN = roleB }, map[string]int{"AssumeRole": 2}},
		{"credential_process profile", credreq.Env{"AWS_PROFILE": sp("proc")}, func(r *credreq.Request) { r.RoleARN = roleB }, map[string]int{"AssumeRole": 1}},
		{"sso profile", credreq.Env{"AWS_PROFILE": sp("ssoprof")}, func(r *credreq.Request) { r.RoleARN = roleB }, map[string]int{"GetRoleCredentials": 1, "AssumeRole": 1}},
		{"sso in the file", nil, func(r *credreq.Request) {
			r.SSO = credreq.SSORole{Session: "corp", AccountID: "222222222222", RoleName: "Deploy"}
		}, map[string]int{"GetRoleCredentials": 1, "AssumeRole": 0}},
		{"sso in the file, one more hop", nil, func(r *credreq.Request) {
			r.RoleARN = roleB
			r.SSO = credreq.SSORole{Session: "corp", AccountID: "222222222222", RoleName: "Deploy"}
		}, map[string]int{"GetRoleCredentials": 1, "AssumeRole": 1}},
		{"mfa", user, func(r *credreq.Request) { r.RoleARN = "arn:aws:iam::222222222222:role/mfa"; r.MFASerial = mfaSerial },
			map[string]int{"GetSessionToken": 1, "AssumeRole": 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			req := base
			tc.edit(&req)
			h := wire.Helper{Now: time.Now}
			first, err := getAsHook(h, req, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			for action, n := range tc.calls {
				if got := w.stub.Count(action); got != n {
					t.Errorf("%s calls = %d, want %d", action, got, n)
				}
			}
			t.Setenv("PATH", "/nonexistent") // no helper any more: only the cache can answer
			second, err := getAsHook(h, req, tc.env)
			if err != nil {
				t.Fatalf("second entry did not come from the cache the helper wrote: %v", err)
			}
			if first != second {
				t.Fatalf("second entry differs: %+v vs %+v", first, second)
			}
		})
	}
}

// getAsHook is what the hook's awsrole does: resolve (no SDK), then ask
// the Helper.
func getAsHook(h wire.Helper, req credreq.Request, env credreq.Env) (credcache.Credentials, error) {
	// A new awsrole process: its main reads the environment as it is now.
	h.Cache = credcache.New(filepath.Join(xdgdir.FromEnv(os.Getenv).Cache, credcache.DirName), credreq.EnvOf(os.Environ()))
	h.Environ = os.Environ()
	src, err := credreq.Resolve(req, env, awsconfig.PathsFromEnv(os.Getenv).Load, nil)
	if err != nil {
		return credcache.Credentials{}, err
	}
	all := credreq.Env{}
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		all[name] = env[name]
	}
	return h.Get(context.Background(), req, src, all)
}

// TestOneSessionInEveryRegion: the same role from the same keys is
// assumed once, whatever region the shell names (none, AWS_DEFAULT_REGION,
// AWS_REGION), and an STS endpoint named by AWS_ENDPOINT_URL instead of
// AWS_ENDPOINT_URL_STS is the same endpoint: the hook finds what the
// helper wrote under each.
func TestOneSessionInEveryRegion(t *testing.T) {
	w := newWorld(t)
	req := credreq.Request{RoleARN: roleB, SessionName: "regions", Duration: time.Hour, Window: 5 * time.Minute}
	h := wire.Helper{Now: time.Now}
	user := func(extra ...string) credreq.Env {
		env := credreq.Env{"AWS_ACCESS_KEY_ID": sp(userKey), "AWS_SECRET_ACCESS_KEY": sp(userSecret)}
		for i := 0; i < len(extra); i += 2 {
			env[extra[i]] = sp(extra[i+1])
		}
		return env
	}
	first, err := getAsHook(h, req, user())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", "/nonexistent") // only the cache can answer now
	for _, region := range [][]string{{"AWS_DEFAULT_REGION", "eu-west-1"}, {"AWS_REGION", "ap-south-1"},
		{"AWS_REGION", "us-west-2", "AWS_DEFAULT_REGION", "eu-central-1"}} {
		c, err := getAsHook(h, req, user(region...))
		if err != nil {
			t.Fatalf("%v: assumed again instead of the cached session: %v", region, err)
		}
		if c != first {
			t.Fatalf("%v: another session", region)
		}
	}
	t.Setenv("AWS_ENDPOINT_URL", w.stub.URL)
	os.Unsetenv("AWS_ENDPOINT_URL_STS")
	if c, err := getAsHook(h, req, user()); err != nil || c != first {
		t.Fatalf("the same STS endpoint through AWS_ENDPOINT_URL: %v", err)
	}
	if n := w.stub.Count("AssumeRole"); n != 1 {
		t.Fatalf("%d AssumeRole calls, want 1", n)
	}
}

// TestHookReadsWhatTheHelperWroteWebIdentity: the same for a web identity
// source (a token file; GitHub's request endpoint, which only awsrole-sts
// asks): the entry role and the hop are named alike on both sides, so the
// second entry comes from the cache, and a fresh token of the same holder
// changes nothing.
func TestHookReadsWhatTheHelperWroteWebIdentity(t *testing.T) {
	for _, via := range []string{"token file", "GitHub request"} {
		t.Run(via, func(t *testing.T) {
			w := newWorld(t)
			is, err := oidcissuer.Start("repo:org/app:ref:refs/heads/main")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(is.Close)
			w.stub.AddOIDCProvider(is.URL, credreq.STSAudience)
			env := credreq.Env{"AWS_ROLE_ARN": sp("arn:aws:iam::111111111111:role/entry")}
			file := filepath.Join(w.home, "token")
			writeToken := func() {
				tok, err := is.Token(is.Subject, credreq.STSAudience, 5*time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				w.write("token", tok)
			}
			if via == "token file" {
				writeToken()
				env["AWS_WEB_IDENTITY_TOKEN_FILE"] = sp(file)
			} else {
				env["ACTIONS_ID_TOKEN_REQUEST_URL"], env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = sp(is.RequestURL()), sp(is.RequestToken)
			}
			for k, v := range env {
				t.Setenv(k, *v) // the helper's environment, as awsrole's
			}
			req := credreq.Request{RoleARN: roleB, SessionName: "agree", Duration: time.Hour, Window: 5 * time.Minute}
			h := wire.Helper{Now: time.Now}
			first, err := getAsHook(h, req, env)
			if err != nil {
				t.Fatal(err)
			}
			if w.stub.Count("AssumeRoleWithWebIdentity") != 1 || w.stub.Count("AssumeRole") != 1 {
				t.Fatalf("calls: %d AssumeRoleWithWebIdentity, %d AssumeRole; want 1 each", w.stub.Count("AssumeRoleWithWebIdentity"), w.stub.Count("AssumeRole"))
			}
			if via == "token file" {
				writeToken() // rotated, as EKS does
			}
			t.Setenv("PATH", "/nonexistent") // only the cache can answer now
			second, err := getAsHook(h, req, env)
			if err != nil || second != first {
				t.Fatalf("the second entry did not come from the cache the helper wrote: %v", err)
			}
		})
	}
}
