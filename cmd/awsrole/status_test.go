package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/engine"
)

func TestShortStatus(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct{ arn, exp, want string }{
		{"", "2026-01-01T13:00:00Z", ""},
		{"arn:aws:iam::222222222222:role/deploy", "2026-01-01T12:54:30Z", "deploy@222222222222 54m"},
		{"arn:aws:iam::222222222222:role/team/ci/deploy", "2026-01-01T14:30:00Z", "deploy@222222222222 2h30m"},
		{"arn:aws:iam::222222222222:role/deploy", "2026-01-01T11:00:00Z", "deploy@222222222222 expired"},
		{"arn:aws:iam::222222222222:role/deploy", "garbage", "deploy@222222222222"},
		{"not-an-arn", "", "not-an-arn"},
	}
	for _, tt := range tests {
		if got := shortStatus(tt.arn, tt.exp, "", now); got != tt.want {
			t.Errorf("shortStatus(%q, %q) = %q, want %q", tt.arn, tt.exp, got, tt.want)
		}
	}
}

func TestShortStatusEnvironment(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	if got, want := shortStatus("arn:aws:iam::222222222222:role/deploy", "2026-01-01T12:54:30Z", "prod", now), "deploy@222222222222 (prod) 54m"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	if got := colorize("x", "prod"); got != "\x1b[31mx\x1b[0m" {
		t.Errorf("prod by default: %q", got)
	}
	if got := colorize("x", "sandbox"); got != "x" {
		t.Errorf("an environment with no colour: %q", got)
	}
}

// The endpoint's part of status: mode, server, and each served role's
// expiry or error.
func TestPrintEndpoint(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	r := statusReport{Mode: "endpoint", Endpoint: &serverReport{Running: true, PID: 42, Port: 4242, Served: []servedReport{
		{RoleARN: "arn:aws:iam::222222222222:role/a", Dir: "/src/a", Expiration: now.Add(50 * time.Minute)},
		{RoleARN: "arn:aws:iam::222222222222:role/b", Dir: "/src/b", Expiration: now.Add(-time.Minute), Error: "needs an MFA code"},
	}}}
	var b strings.Builder
	printEndpoint(&b, r, now)
	for _, want := range []string{
		"mode:    endpoint\n",
		"server:  pid 42, http://127.0.0.1:4242\n",
		"served:  arn:aws:iam::222222222222:role/a (/src/a): expires ",
		"(in 50m0s)\n",
		"served:  arn:aws:iam::222222222222:role/b (/src/b): expired at ",
		"; error: needs an MFA code\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in:\n%s", want, b.String())
		}
	}
	b.Reset()
	printEndpoint(&b, statusReport{Mode: "endpoint", Endpoint: &serverReport{}}, now)
	if !strings.Contains(b.String(), "server:  not running") {
		t.Errorf("not running:\n%s", b.String())
	}
}

// A file whose role cannot be worked out still shows what is known before
// the error: its trust and its role.
func TestPrintStatusError(t *testing.T) {
	var b strings.Builder
	printStatus(&b, statusReport{File: "/p/.awsrole.toml", Trust: "denied", RoleARN: "arn:aws:iam::222222222222:role/a", FileError: "no source credentials"}, time.Now())
	want := "file:    /p/.awsrole.toml (denied)\nrole:    arn:aws:iam::222222222222:role/a\nerror:   no source credentials\n"
	if !strings.HasPrefix(b.String(), want) {
		t.Errorf("got:\n%s\nwant it to start with:\n%s", b.String(), want)
	}
	b.Reset()
	printStatus(&b, statusReport{File: "/p/.awsrole.toml", FileError: "/p/.awsrole.toml:1: role_arn: is required"}, time.Now())
	if want := "file:    /p/.awsrole.toml\nerror:   /p/.awsrole.toml:1: role_arn: is required\n"; !strings.HasPrefix(b.String(), want) {
		t.Errorf("got:\n%s\nwant it to start with:\n%s", b.String(), want)
	}
}

// The sign-in line says what mends an expired or missing sign-in: the
// login command, and with sso_login = "auto" the next cd as well.
func TestSSOStateAdvice(t *testing.T) {
	p := &engine.Project{Source: credcache.Source{Kind: credcache.SourceSSO, SSO: &credcache.SSOSource{
		SSORole: credcache.SSORole{Session: "corp", AccountID: "222222222222", RoleName: "Deploy"}, TokenPath: filepath.Join(t.TempDir(), "none.json")}}}
	if got, want := ssoState(p, time.Now()), "not signed in; run: awsrole login --sso-session corp"; got != want {
		t.Errorf("manual: %q, want %q", got, want)
	}
	p.Request.SSOLogin = true
	if got, want := ssoState(p, time.Now()), `not signed in; the next cd here signs you in on the terminal (sso_login = "auto"), or run: awsrole login --sso-session corp`; got != want {
		t.Errorf("auto: %q, want %q", got, want)
	}
}
