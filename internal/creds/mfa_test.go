package creds

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/stsstub"
	"github.com/awsrole/awsrole/internal/tty"
)

const serial = "arn:aws:iam::111111111111:mfa/alice"

// TestMFA: a role behind MFA gets its code from mfa_command, else from
// the prompt (a fake here); each failure is one line that says what to do,
// and the MFA session serves the next fetch without a second code.
func TestMFA(t *testing.T) {
	tests := []struct {
		name    string
		command string
		answer  string
		askErr  error
		wantErr string
	}{
		{name: "code typed", answer: " 123456\n"},
		{name: "code from mfa_command", command: "echo 123456"},
		{name: "wrong code", answer: "654321", wantErr: "MultiFactorAuthentication failed with invalid MFA one time pass code"},
		{name: "not 6 digits", answer: "12345", wantErr: "an MFA code is 6 digits; cd again to retry"},
		{name: "no terminal", askErr: tty.ErrNoTerminal, wantErr: "there is no terminal to ask on; set mfa_command in your user config"},
		{name: "Ctrl-C at the prompt", askErr: tty.ErrCancelled, wantErr: "MFA prompt cancelled"},
		{name: "mfa_command fails", command: "exit 3", wantErr: "mfa_command failed (exit status 3); check it in your user config"},
		{name: "mfa_command prints no code", command: "echo code: 123456", wantErr: "mfa_command did not print a 6-digit code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := setup(t)
			srv.RequireMFA(role, serial, "123456")
			asked := 0
			g := &Getter{Now: time.Now, Ask: func(prompt string) (string, error) {
				asked++
				if !strings.Contains(prompt, "MFA code for "+serial+" (role "+role+")") {
					t.Errorf("prompt %q", prompt)
				}
				return tt.answer, tt.askErr
			}}
			req := request()
			req.MFASerial, req.MFACommand, req.MFADuration = serial, tt.command, 2*time.Hour
			_, err := get(g, req, userEnv())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "assume "+role) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("err = %v, want one line naming the role with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkMFASession(t, srv, g, req, &asked)
		})
	}
}

// checkMFASession: one code made one MFA session, which serves the next
// role with the same device without asking again.
func checkMFASession(t *testing.T, srv *stsstub.Server, g *Getter, req Request, asked *int) {
	t.Helper()
	if (req.MFACommand == "") != (*asked == 1) {
		t.Errorf("asked %d times with mfa_command %q", *asked, req.MFACommand)
	}
	calls := srv.Calls()
	if len(calls) != 2 || calls[0].Action != "GetSessionToken" || calls[0].SerialNumber != serial || calls[0].TokenCode != "123456" || calls[1].Action != "AssumeRole" {
		t.Fatalf("calls = %+v", calls)
	}
	// Another role with the same device: the MFA session serves.
	other := req
	other.SessionName = "other"
	if _, err := get(g, other, userEnv()); err != nil {
		t.Fatal(err)
	}
	if srv.Count("GetSessionToken") != 1 || srv.Count("AssumeRole") != 2 || *asked > 1 {
		t.Errorf("second fetch: %d GetSessionToken, %d AssumeRole, asked %d", srv.Count("GetSessionToken"), srv.Count("AssumeRole"), *asked)
	}
}

// TestMFASessionRepliesChecked: an STS that answers GetSessionToken
// without usable credentials is refused, naming it.
func TestMFASessionRepliesChecked(t *testing.T) {
	for fault, want := range map[string]string{"SessionToken": "an empty session token", "AccessKeyId": "an empty access key id"} {
		srv := setup(t)
		srv.FailNext("GetSessionToken", 1, stsstub.Fault{Replace: map[string]string{fault: ""}})
		g := &Getter{Now: time.Now, Ask: func(string) (string, error) { return "123456", nil }}
		req := request()
		req.MFASerial = serial
		if _, err := get(g, req, userEnv()); err == nil || !strings.Contains(err.Error(), "STS at "+srv.URL) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v", fault, err)
		}
	}
}

// TestSigninToken: the federation endpoint's token for credentials the
// stand-in issued; a failure names the host, never the URL's credentials.
func TestSigninToken(t *testing.T) {
	srv := setup(t)
	c, err := get(&Getter{Now: time.Now}, request(), userEnv())
	if err != nil {
		t.Fatal(err)
	}
	session := `{"sessionId":"` + c.AccessKeyID + `","sessionKey":"` + c.SecretAccessKey + `","sessionToken":"` + c.SessionToken + `"}`
	good := srv.URL + "/federation?Action=getSigninToken&Session=" + url.QueryEscape(session)
	tok, err := SigninToken(context.Background(), good)
	if err != nil || tok == "" {
		t.Fatalf("token %q, %v", tok, err)
	}
	bad := srv.URL + "/federation?Action=getSigninToken&Session=" + url.QueryEscape(strings.Replace(session, c.SecretAccessKey, "wrong", 1))
	for addr, want := range map[string]string{
		bad:                          "console sign-in: " + srv.URL + "/federation answered",
		"http://127.0.0.1:1/f?s=SEC": "console sign-in: cannot reach http://127.0.0.1:1/f",
		"://nonsense":                "the federation URL does not parse",
		srv.URL + "/?Action=GetCallerIdentity&s=SEC": "answered",
	} {
		_, err := SigninToken(context.Background(), addr)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "SEC") || strings.Contains(err.Error(), c.SecretAccessKey) {
			t.Errorf("%s: err = %v, want %q and no credentials", addr, err, want)
		}
	}
}

// TestEnviron: what is read of the environment handed down, and how an
// endpoint is named from it.
func TestEnviron(t *testing.T) {
	e := NewEnviron(credreq.Env{"AWS_ENDPOINT_URL": s("http://all"), "AWS_ENDPOINT_URL_STS": s("http://sts"), "AWS_EC2_METADATA_DISABLED": s("false"),
		"BROWSER": s("firefox"), "AWS_ENDPOINT_URL_SSO": s("")})
	if !e.IMDS || e.Browser.Browser != "firefox" || len(e.Endpoints) != 2 {
		t.Errorf("Environ = %+v", e)
	}
	for _, tt := range []struct{ envVar, region, want string }{
		{"AWS_ENDPOINT_URL_STS", "eu-west-1", "STS at http://sts"},
		{"AWS_ENDPOINT_URL_SSO", "eu-west-1", "STS at http://all"},
	} {
		if got := e.where("STS", tt.envVar, tt.region); got != tt.want {
			t.Errorf("where(%s) = %q, want %q", tt.envVar, got, tt.want)
		}
	}
	none := NewEnviron(nil)
	if none.IMDS || none.where("STS", "AWS_ENDPOINT_URL_STS", "eu-west-1") != "STS in eu-west-1" || none.where("STS", "AWS_ENDPOINT_URL_STS", "") != "STS" {
		t.Errorf("empty Environ: %+v", none)
	}
	if NewEnviron(credreq.Env{"AWS_EC2_METADATA_DISABLED": s("true")}).IMDS {
		t.Error("IMDS with AWS_EC2_METADATA_DISABLED=true")
	}
	var re *roleError
	if err := error(&roleError{role: "r", err: context.Canceled}); !errors.As(err, &re) || !errors.Is(err, context.Canceled) {
		t.Error("roleError does not unwrap")
	}
}
