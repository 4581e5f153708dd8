package creds

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"

	"github.com/awsrole/awsrole/internal/browser"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/tty"
	"github.com/awsrole/awsrole/internal/wire"
)

// TestAutomaticSignIn: with sso_login = "auto" and a sign-in that is gone,
// the fetch signs in on the terminal (a file here) through the device
// flow, then gets the role's credentials; each way it cannot is one line
// that says to sign in by hand, marked as a sign-in failure.
func TestAutomaticSignIn(t *testing.T) {
	tests := []struct {
		name     string
		oidc     func() OIDCAPI // nil: the stand-in's
		noTerm   bool
		wantErr  string
		signInEr bool
		wantTerm string
	}{
		{name: "signed in on the terminal", wantTerm: "signed in to IAM Identity Center session corp until"},
		{name: "refused in the browser", oidc: func() OIDCAPI { return &fakeOIDC{tokenErr: []error{&oidctypes.AccessDeniedException{}}} },
			wantErr: "was refused in the browser; run: awsrole login --sso-session corp", signInEr: true},
		{name: "the portal refuses the new sign-in", oidc: func() OIDCAPI { return &fakeOIDC{} },
			wantErr: "refused the sign-in just made; check sso_start_url and sso_region", signInEr: true},
		{name: "no terminal", noTerm: true, wantErr: "has expired; run: awsrole login --sso-session corp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ssoWorld(t)
			writeToken(t, srv, -time.Minute, false)
			termPath := filepath.Join(t.TempDir(), "tty")
			g := &Getter{Now: time.Now, Sleep: func(context.Context, time.Duration) error { return nil },
				Terminal: func() (*os.File, error) {
					if tt.noTerm {
						return nil, tty.ErrNoTerminal
					}
					return os.OpenFile(termPath, os.O_RDWR|os.O_CREATE, 0o600)
				},
				Open: func(addr string, _ browser.Env) error {
					u, _ := url.Parse(addr)
					return srv.ApproveDevice(u.Query().Get("user_code"))
				}}
			if tt.oidc != nil {
				fake := tt.oidc()
				g.OIDC = func(aws.Config) OIDCAPI { return fake }
			}
			req := Request{SSO: credreq.SSORole{Session: "corp", AccountID: "222222222222", RoleName: "Deploy"}, SSOLogin: true, Duration: time.Hour, Window: 5 * time.Minute}
			c, err := get(g, req, nil)
			term, _ := os.ReadFile(termPath)
			if tt.wantErr == "" {
				if err != nil || c.AccessKeyID == "" {
					t.Fatalf("err = %v\nterminal: %s", err, term)
				}
				if !strings.Contains(string(term), tt.wantTerm) {
					t.Errorf("terminal lacks %q:\n%s", tt.wantTerm, term)
				}
				return
			}
			var signIn *wire.SignInError
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.As(err, &signIn) != tt.signInEr {
				t.Fatalf("err = %v, want %q (a sign-in error: %v)", err, tt.wantErr, tt.signInEr)
			}
		})
	}
}

// TestWhileParentLives: the sign-in's context ends with its parent's.
func TestWhileParentLives(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	ctx, stop := whileParentLives(parent)
	defer stop()
	cancel()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the context outlived its parent")
	}
}
