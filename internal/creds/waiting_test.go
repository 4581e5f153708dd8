package creds

import (
	"strings"
	"testing"

	"github.com/awsrole/awsrole/internal/credreq"
)

// TestWaitingFor: a shell held up by another's fetch hears what that one
// may be waiting for, and that Ctrl-C stops the wait.
func TestWaitingFor(t *testing.T) {
	sso := credreq.Source{Kind: credreq.SourceSSO, SSO: &credreq.SSOSource{SSORole: credreq.SSORole{Session: "corp", AccountID: "222222222222", RoleName: "Deploy"}}}
	req := Request{SSO: sso.SSO.SSORole, SSOLogin: true}
	got := waitingFor(req, sso, true)
	for _, want := range []string{"sso:222222222222/Deploy", "signing in to IAM Identity Center session corp", "Ctrl-C to stop waiting", "up to 2m0s"} {
		if !strings.Contains(got, want) {
			t.Errorf("sign-in: %q has no %q", got, want)
		}
	}
	mfa := Request{RoleARN: "arn:aws:iam::222222222222:role/deploy", MFASerial: "arn:aws:iam::111111111111:mfa/alice"}
	if got := waitingFor(mfa, credreq.Source{Kind: credreq.SourceEnv}, false); !strings.Contains(got, "MFA code of arn:aws:iam::111111111111:mfa/alice") || !strings.Contains(got, "Ctrl-C") {
		t.Errorf("MFA: %q", got)
	}
}
