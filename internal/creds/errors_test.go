package creds

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/stsstub"
)

// ssoWorld signs the user in to [sso-session corp] at the stand-in.
func ssoWorld(t *testing.T) *stsstub.Server {
	srv := setup(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("AWS_ENDPOINT_URL_SSO", srv.URL)
	t.Setenv("AWS_ENDPOINT_URL_SSO_OIDC", srv.URL)
	srv.AssignSSO("222222222222", "Deploy")
	banner := filepath.Join(home, "banner.sh")
	os.WriteFile(banner, []byte("#!/bin/sh\necho 'Welcome to corp-vault'\necho '{\"Version\":1,\"AccessKeyId\":\"AKIALEAKLEAKLEAK\",\"SecretAccessKey\":\"LEAKEDSECRETVALUE\"}'\n"), 0o755)
	proc := filepath.Join(home, "fail.sh")
	os.WriteFile(proc, []byte("#!/bin/sh\necho 'token for corp-vault expired: run vault login' >&2\necho 'more detail' >&2\nexit 3\n"), 0o755)
	os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), []byte(`[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1

[profile vault]
credential_process = `+proc+`

[profile banner]
credential_process = `+banner+`

[profile keys]
aws_access_key_id = `+userKey+`
aws_secret_access_key = `+userSecret+`

[profile jump]
role_arn = arn:aws:iam::111111111111:role/jump
source_profile = keys
`), 0o600)
	return srv
}

func writeToken(t *testing.T, srv *stsstub.Server, ttl time.Duration, refreshable bool) {
	access, refresh := srv.IssueSSOToken("https://corp.awsapps.com/start", ttl)
	id, secret, regExp := srv.SSOClient()
	tok := awsconfig.Token{StartURL: "https://corp.awsapps.com/start", Region: "eu-west-1", AccessToken: access,
		ExpiresAt: time.Now().Add(ttl), ClientID: id, ClientSecret: secret, RegistrationExpiresAt: regExp, RefreshToken: refresh}
	if !refreshable {
		tok.RefreshToken = ""
	}
	data, _ := json.Marshal(tok)
	p := awsconfig.PathsFromEnv(os.Getenv).TokenPath("corp")
	os.MkdirAll(filepath.Dir(p), 0o700)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestErrorsSayWhatToDo: each common failure is one line whose advice
// comes before any quoted cause, and holds no secret.
func TestErrorsSayWhatToDo(t *testing.T) {
	sso := func(account, role string) Request {
		return Request{SSO: credreq.SSORole{Session: "corp", AccountID: account, RoleName: role}, Duration: time.Hour, Window: 5 * time.Minute}
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, srv *stsstub.Server)
		req   Request
		env   credreq.Env
		want  []string
	}{
		{"not signed in", func(*testing.T, *stsstub.Server) {}, sso("222222222222", "Deploy"), nil,
			[]string{"not signed in to IAM Identity Center session corp", "run: awsrole login --sso-session corp"}},
		{"expired, no refresh token", func(t *testing.T, s *stsstub.Server) { writeToken(t, s, -time.Minute, false) }, sso("222222222222", "Deploy"), nil,
			[]string{"sign-in to IAM Identity Center session corp has expired; run: awsrole login --sso-session corp"}},
		{"expired, refresh revoked", func(t *testing.T, s *stsstub.Server) { writeToken(t, s, -time.Minute, true); s.RevokeRefreshTokens() }, sso("222222222222", "Deploy"), nil,
			[]string{"has expired; run: awsrole login --sso-session corp"}},
		{"token revoked at the portal", func(t *testing.T, s *stsstub.Server) { writeToken(t, s, time.Hour, true); s.ExpireSSOTokens() }, sso("222222222222", "Deploy"), nil,
			[]string{"has expired; run: awsrole login --sso-session corp"}},
		{"no access", func(t *testing.T, s *stsstub.Server) { writeToken(t, s, time.Hour, true) }, sso("999999999999", "Admin"), nil,
			[]string{`no access to account 999999999999 with permission set "Admin"`, "awsrole init --sso-session corp"}},
		{"portal unreachable", func(t *testing.T, s *stsstub.Server) {
			writeToken(t, s, time.Hour, true)
			t.Setenv("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:1")
		}, sso("222222222222", "Deploy"), nil, []string{"cannot reach the IAM Identity Center portal at http://127.0.0.1:1; check the network or AWS_ENDPOINT_URL_SSO"}},
		{"credential_process fails", func(*testing.T, *stsstub.Server) {}, Request{RoleARN: role, Duration: time.Hour, Window: time.Minute},
			credreq.Env{"AWS_PROFILE": s("vault")}, []string{`credential_process of profile "vault" failed`, "token for corp-vault expired: run vault login"}},
		{"credential_process prints a banner before its JSON", func(*testing.T, *stsstub.Server) {}, Request{RoleARN: role, Duration: time.Hour, Window: time.Minute},
			credreq.Env{"AWS_PROFILE": s("banner")}, []string{`credential_process of profile "banner" failed`, "not credential_process JSON (output withheld"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ssoWorld(t)
			tt.setup(t, srv)
			_, err := get(&Getter{Now: time.Now}, tt.req, tt.env)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "more detail") || strings.Contains(msg, userSecret) || strings.Contains(msg, "LEAKEDSECRETVALUE") {
				t.Errorf("error is not one clean line: %q", msg)
			}
		})
	}
}

// TestShortLivedSourceWithALongWindow: a role profile's source session
// lasts 15 minutes (the SDK's default); credential-process asks for
// credentials with 16 minutes left. Only what is handed out must outlast
// the window, not the source it came from.
func TestShortLivedSourceWithALongWindow(t *testing.T) {
	srv := ssoWorld(t)
	req := Request{RoleARN: role, SessionName: "window", Duration: time.Hour, Window: 16 * time.Minute}
	c, err := get(&Getter{Now: time.Now}, req, credreq.Env{"AWS_PROFILE": s("jump")})
	if err != nil {
		t.Fatal(err)
	}
	if time.Until(c.Expiration) < 16*time.Minute {
		t.Fatalf("handed out credentials expiring at %s", c.Expiration)
	}
	if n := srv.Count("AssumeRole"); n != 2 {
		t.Fatalf("%d AssumeRole calls, want 2 (the profile's role, then the project's)", n)
	}
}
