package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/engine"
	"github.com/awsrole/awsrole/internal/human"
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
		"served:  arn:aws:iam::222222222222:role/a (/src/a): credentials served expire ",
		"(in 50m0s)\n",
		"served:  arn:aws:iam::222222222222:role/b (/src/b): credentials served expire ",
		" (expired); the last renewal failed: needs an MFA code\n",
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
	p := &engine.Project{Source: credreq.Source{Kind: credreq.SourceSSO, SSO: &credreq.SSOSource{
		SSORole: credreq.SSORole{Session: "corp", AccountID: "222222222222", RoleName: "Deploy"}, TokenPath: filepath.Join(t.TempDir(), "none.json")}}}
	if got, want := ssoState(p, nil, time.Now()), "not signed in; run: awsrole login --sso-session corp"; got != want {
		t.Errorf("manual: %q, want %q", got, want)
	}
	p.Request.SSOLogin = true
	if got, want := ssoState(p, nil, time.Now()), `not signed in; the next cd here signs you in on the terminal (sso_login = "auto"), or run: awsrole login --sso-session corp`; got != want {
		t.Errorf("auto: %q, want %q", got, want)
	}
}

// In endpoint mode, the renew line says on its own what the endpoint did
// for this shell's programs: no server, nothing served yet, or when what
// it served expires, and a failed renewal; never "see below".
func TestEndpointRenewLine(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	uri := "http://127.0.0.1:4242/v1/abc"
	active := &activeReport{RoleARN: "arn:aws:iam::222222222222:role/a", Dir: "/src/a", Via: "hook", URI: uri}
	served := func(s ...servedReport) *serverReport {
		return &serverReport{Running: true, PID: 42, Port: 4242, Served: s}
	}
	for _, tt := range []struct {
		name string
		e    *serverReport
		want string
	}{
		{"server down", &serverReport{}, "renew:   by the SDKs from " + uri + ", where no server answers now: programs cannot renew until the hook starts one"},
		{"before the first request", served(servedReport{ID: "other", Expiration: now.Add(time.Hour)}),
			"renew:   by the SDKs from " + uri + "; nothing served since the server started (programs fetch at their first AWS call)\n"},
		{"served", served(servedReport{ID: "abc", Expiration: now.Add(50 * time.Minute)}),
			"renew:   by the SDKs from " + uri + "; the credentials served last expire " + human.Time(now.Add(50*time.Minute)) + " (in 50m0s)\n"},
		{"renewal failed", served(servedReport{ID: "abc", Expiration: now.Add(-time.Minute), Error: "needs an MFA code"}),
			"(expired); the last renewal failed: needs an MFA code\n"},
	} {
		var b strings.Builder
		printStatus(&b, statusReport{Mode: "endpoint", Active: active, Endpoint: tt.e}, now)
		if !strings.Contains(b.String(), tt.want) || strings.Contains(b.String(), "below") {
			t.Errorf("%s: got\n%s\nwant a line with %q", tt.name, b.String(), tt.want)
		}
	}
}

// A served role whose renewal failed after it was served says when what it
// served expires, not "never served".
func TestPrintEndpointServedThenFailed(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var b strings.Builder
	printEndpoint(&b, statusReport{Endpoint: &serverReport{Running: true, PID: 42, Port: 4242, Served: []servedReport{
		{RoleARN: "arn:aws:iam::222222222222:role/a", Dir: "/src/a", Expiration: now.Add(-time.Minute), Error: "the sign-in has expired"},
		{RoleARN: "arn:aws:iam::222222222222:role/b", Dir: "/src/b", Error: "no access"},
	}}}, now)
	for _, want := range []string{
		"served:  arn:aws:iam::222222222222:role/a (/src/a): credentials served expire " + human.Time(now.Add(-time.Minute)) + " (expired); the last renewal failed: the sign-in has expired\n",
		"served:  arn:aws:iam::222222222222:role/b (/src/b): nothing served since the server started: no access\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "never served") {
		t.Errorf("says never served:\n%s", b.String())
	}
}

// An IAM Identity Center permission set is shown as what it is, with
// where its real IAM role name is seen; a role ARN as it is.
func TestRoleLine(t *testing.T) {
	if got, want := roleLine("sso:333333333333/Platform"), "sso:333333333333/Platform: IAM Identity Center permission set Platform in account 333333333333 (its IAM role is AWSReservedSSO_Platform_<id>, as aws sts get-caller-identity shows)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := roleLine("arn:aws:iam::222222222222:role/deploy"); got != "arn:aws:iam::222222222222:role/deploy" {
		t.Errorf("a role ARN: %q", got)
	}
	if got := shortRole("sso:333333333333/Platform"); got != "Platform@333333333333" {
		t.Errorf("shortRole of a permission set: %q", got)
	}
}
