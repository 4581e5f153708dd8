package credcache_test

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credcache"
)

const testConfig = `[default]
region = us-west-2

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1

[profile work]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = Deploy
region = eu-central-1
ca_bundle = /etc/corp-ca.pem

[profile legacy]
sso_start_url = https://old.awsapps.com/start
sso_region = us-east-1
sso_account_id = 222222222222
sso_role_name = Old

[profile jump]
role_arn = arn:aws:iam::111111111111:role/jump
source_profile = keys

[profile keys]
region = ap-south-1

[profile fromenv]
role_arn = arn:aws:iam::111111111111:role/jump
credential_source = Environment

[profile regiononly]
region = eu-north-1

[profile loop]
role_arn = arn:aws:iam::111111111111:role/x
source_profile = loop2

[profile loop2]
role_arn = arn:aws:iam::111111111111:role/y
source_profile = loop
`

func configFiles(t *testing.T, config, credentials string) func() (*awsconfig.Files, error) {
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600)
	os.WriteFile(filepath.Join(dir, "credentials"), []byte(credentials), 0o600)
	return awsconfig.Load
}

func TestResolve(t *testing.T) {
	files := configFiles(t, testConfig, "[keys]\naws_access_key_id = AKIAKEYS\naws_secret_access_key = s\n")
	keys := credcache.Env{"AWS_ACCESS_KEY_ID": sp("AKIAUSER"), "AWS_SECRET_ACCESS_KEY": sp("secret")}
	role := credcache.Request{RoleARN: roleB}
	ssoFile := credcache.Request{SSO: credcache.SSORole{Session: "corp", AccountID: "333333333333", RoleName: "Admin"}}
	tests := []struct {
		name    string
		req     credcache.Request
		env     credcache.Env
		kind    credcache.SourceKind
		profile string
		chained bool
		region  string
		login   string
		wantErr string
	}{
		{name: "env keys, default profile's region", req: role, env: keys, kind: credcache.SourceEnv, region: "us-west-2"},
		{name: "env keys win over AWS_PROFILE", req: role, env: credcache.Env{"AWS_ACCESS_KEY_ID": sp("AKIAUSER"), "AWS_SECRET_ACCESS_KEY": sp("s"), "AWS_PROFILE": sp("work")},
			kind: credcache.SourceEnv, region: "us-west-2"},
		{name: "env session keys are chained", req: role, env: credcache.Env{"AWS_ACCESS_KEY_ID": sp("ASIA"), "AWS_SECRET_ACCESS_KEY": sp("s"), "AWS_SESSION_TOKEN": sp("t"), "AWS_REGION": sp("sa-east-1")},
			kind: credcache.SourceEnv, chained: true, region: "sa-east-1"},
		{name: "source_profile wins over env keys", req: credcache.Request{RoleARN: roleB, SourceProfile: "jump"}, env: keys,
			kind: credcache.SourceProfile, profile: "jump", chained: true, region: "us-east-1"},
		{name: "sso profile from AWS_PROFILE", req: role, env: credcache.Env{"AWS_PROFILE": sp("work")},
			kind: credcache.SourceSSO, profile: "work", chained: true, region: "eu-central-1", login: "awsrole login --sso-session corp"},
		{name: "AWS_DEFAULT_PROFILE", req: role, env: credcache.Env{"AWS_DEFAULT_PROFILE": sp("work")},
			kind: credcache.SourceSSO, profile: "work", chained: true, region: "eu-central-1"},
		{name: "legacy sso profile", req: role, env: credcache.Env{"AWS_PROFILE": sp("legacy")},
			kind: credcache.SourceSSO, profile: "legacy", chained: true, region: "us-east-1", login: "aws sso login --profile legacy"},
		{name: "sso in the file", req: ssoFile, env: credcache.Env{"AWS_REGION": sp("eu-west-3")},
			kind: credcache.SourceSSO, chained: true, region: "eu-west-3", login: "awsrole login --sso-session corp"},
		{name: "file region wins", req: credcache.Request{RoleARN: roleB, Region: "il-central-1"}, env: credcache.Env{"AWS_PROFILE": sp("work"), "AWS_REGION": sp("x")},
			kind: credcache.SourceSSO, profile: "work", chained: true, region: "il-central-1"},
		{name: "unknown profile names nearby ones", req: role, env: credcache.Env{"AWS_PROFILE": sp("wrok")}, wantErr: `profile "wrok" is not in`},
		{name: "profile without credentials", req: role, env: credcache.Env{"AWS_PROFILE": sp("regiononly")}, wantErr: `profile "regiononly"`},
		{name: "source_profile loop", req: role, env: credcache.Env{"AWS_PROFILE": sp("loop")}, wantErr: "takes its credentials from itself"},
		{name: "missing sso-session", req: credcache.Request{SSO: credcache.SSORole{Session: "nope", AccountID: "1", RoleName: "x"}}, wantErr: `"nope" has no [sso-session nope] section`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := credcache.Resolve(tt.req, tt.env, files)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if src.Kind != tt.kind || src.Profile != tt.profile || src.Chained != tt.chained || src.Region != tt.region {
				t.Fatalf("got kind %s profile %q chained %v region %s, want %s %q %v %s", src.Kind, src.Profile, src.Chained, src.Region, tt.kind, tt.profile, tt.chained, tt.region)
			}
			if tt.login != "" && src.LoginCommand() != tt.login {
				t.Errorf("login command %q, want %q", src.LoginCommand(), tt.login)
			}
		})
	}
	if _, err := credcache.Resolve(role, credcache.Env{"AWS_PROFILE": sp("wrok")}, files); !strings.Contains(err.Error(), `did you mean "work"`) {
		t.Errorf("no suggestion: %v", err)
	}
}

// TestKeysByIdentity: what changes the result changes the entry; a new
// temporary key at every resolution does not (the profile is the identity).
func TestKeysByIdentity(t *testing.T) {
	files := configFiles(t, testConfig, "")
	req := credcache.Request{RoleARN: roleB, SessionName: "s", Duration: time.Hour}
	final := func(req credcache.Request, env credcache.Env) string {
		src, err := credcache.Resolve(req, env, files)
		if err != nil {
			t.Fatal(err)
		}
		return credcache.Final(req, src).Path
	}
	work := credcache.Env{"AWS_PROFILE": sp("work")}
	base := final(req, work)
	if base != final(req, work) {
		t.Fatal("the same request and source gave two keys")
	}
	other := func(edit func(*credcache.Request)) credcache.Request { r := req; edit(&r); return r }
	for name, k := range map[string]string{
		"role":         final(other(func(r *credcache.Request) { r.RoleARN = "arn:aws:iam::222222222222:role/other" }), work),
		"session name": final(other(func(r *credcache.Request) { r.SessionName = "t" }), work),
		"external id":  final(other(func(r *credcache.Request) { r.ExternalID = "x" }), work),
		"duration":     final(other(func(r *credcache.Request) { r.Duration = 2 * time.Hour }), work),
		"mfa":          final(other(func(r *credcache.Request) { r.MFASerial = mfaSerial }), work),
		"profile":      final(req, credcache.Env{"AWS_PROFILE": sp("jump")}),
		"env key":      final(req, credcache.Env{"AWS_ACCESS_KEY_ID": sp("AKIA1"), "AWS_SECRET_ACCESS_KEY": sp("s")}),
	} {
		if k == base {
			t.Errorf("another %s gave the same key", name)
		}
	}
	// A profile whose chain starts from the keys in the environment is
	// keyed by those keys too (the hook may find no keys, the helper's
	// SDK finds them: the same identity either way).
	fromEnv := func(key string) string {
		env := credcache.Env{"AWS_PROFILE": sp("fromenv")}
		if key != "" {
			env["AWS_ACCESS_KEY_ID"] = sp(key)
		}
		return final(credcache.Request{RoleARN: roleB, SourceProfile: "fromenv", SessionName: "s"}, env)
	}
	if k1, k2 := fromEnv("AKIA1"), fromEnv("AKIA2"); k1 == k2 {
		t.Error("credential_source = Environment: other keys in the environment gave the same key")
	} else if again := fromEnv("AKIA1"); again != k1 {
		t.Error("credential_source = Environment: the same keys gave two keys")
	}
	// A profile's definition is part of its identity.
	configFiles(t, strings.Replace(testConfig, "sso_role_name = Deploy", "sso_role_name = Admin", 1), "")
	if final(req, work) == base {
		t.Error("editing the profile kept the key")
	}
	// The endpoint is part of every key.
	t.Setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1")
	if final(req, work) == base {
		t.Error("another STS endpoint kept the key")
	}
}

// TestKeysWithoutRegion: the region the calls go to is no part of a key
// (a session from STS in one region is the same in every other), and an
// endpoint counts as the SDK resolves it: AWS_ENDPOINT_URL_STS, else
// AWS_ENDPOINT_URL.
func TestKeysWithoutRegion(t *testing.T) {
	files := configFiles(t, testConfig, "")
	for _, name := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"} {
		t.Setenv(name, "")
	}
	req := credcache.Request{RoleARN: roleB, SessionName: "s", Duration: time.Hour}
	final := func(req credcache.Request, env credcache.Env) string {
		src, err := credcache.Resolve(req, env, files)
		if err != nil {
			t.Fatal(err)
		}
		return credcache.Final(req, src).Path
	}
	with := func(base credcache.Env, extra ...string) credcache.Env {
		env := maps.Clone(base)
		for i := 0; i < len(extra); i += 2 {
			env[extra[i]] = sp(extra[i+1])
		}
		return env
	}
	keys := func(extra ...string) credcache.Env {
		return with(credcache.Env{"AWS_ACCESS_KEY_ID": sp("AKIA1"), "AWS_SECRET_ACCESS_KEY": sp("s")}, extra...)
	}
	inRegion := req
	inRegion.Region = "sa-east-1"
	for name, env := range map[string]credcache.Env{"keys": keys(), "an SSO profile": {"AWS_PROFILE": sp("work")}} {
		base := final(req, env)
		for what, k := range map[string]string{
			"AWS_REGION":         final(req, with(env, "AWS_REGION", "ap-south-1")),
			"AWS_DEFAULT_REGION": final(req, with(env, "AWS_DEFAULT_REGION", "eu-west-1")),
			"the file's region":  final(inRegion, env),
		} {
			if k != base {
				t.Errorf("%s: %s changed the key", name, what)
			}
		}
	}
	base := final(req, keys())
	t.Setenv("AWS_ENDPOINT_URL_SSO_OIDC", "http://127.0.0.1:2")
	if final(req, keys()) != base {
		t.Error("the OIDC endpoint changed the key of a role assumed from keys")
	}
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	all := final(req, keys())
	if all == base {
		t.Error("AWS_ENDPOINT_URL (where STS calls go) kept the key")
	}
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1")
	if final(req, keys()) != all {
		t.Error("the same STS endpoint named by AWS_ENDPOINT_URL_STS and by AWS_ENDPOINT_URL gave two keys")
	}
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:3")
	if final(req, keys()) != all {
		t.Error("AWS_ENDPOINT_URL changed the key though AWS_ENDPOINT_URL_STS wins over it")
	}
}

func TestEffectiveDuration(t *testing.T) {
	for _, tt := range []struct {
		name   string
		req    credcache.Request
		src    credcache.Source
		want   time.Duration
		capped bool
	}{
		{"keys", credcache.Request{RoleARN: roleB, Duration: 2 * time.Hour}, credcache.Source{Kind: credcache.SourceEnv}, 2 * time.Hour, false},
		{"chained", credcache.Request{RoleARN: roleB, Duration: 2 * time.Hour}, credcache.Source{Kind: credcache.SourceSSO, Chained: true, SSO: &credcache.SSOSource{}}, time.Hour, true},
		{"mfa", credcache.Request{RoleARN: roleB, Duration: 3 * time.Hour, MFASerial: mfaSerial}, credcache.Source{Kind: credcache.SourceEnv}, time.Hour, true},
		{"chained within the cap", credcache.Request{RoleARN: roleB, Duration: 30 * time.Minute}, credcache.Source{Chained: true}, 30 * time.Minute, false},
	} {
		d, why := tt.req.Effective(tt.src)
		if d != tt.want || (why != "") != tt.capped {
			t.Errorf("%s: %s %q", tt.name, d, why)
		}
	}
}
