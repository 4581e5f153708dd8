package creds

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/oidcissuer"
)

// fakeWebIdentity answers AssumeRoleWithWebIdentity with err, and records
// the token it was given.
type fakeWebIdentity struct {
	err   error
	token string
}

func (f *fakeWebIdentity) AssumeRoleWithWebIdentity(_ context.Context, in *sts.AssumeRoleWithWebIdentityInput, _ ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	f.token = aws.ToString(in.WebIdentityToken)
	return nil, f.err
}

// The token comes from GitHub's request endpoint with the audience STS
// takes; each STS refusal becomes one line that says what to fix and
// never quotes the token or the request token.
func TestWebIdentityErrors(t *testing.T) {
	is, err := oidcissuer.Start("repo:org/app:ref:refs/heads/main")
	if err != nil {
		t.Fatal(err)
	}
	defer is.Close()
	env := credreq.Env{"AWS_ROLE_ARN": s("arn:aws:iam::111111111111:role/entry"),
		"ACTIONS_ID_TOKEN_REQUEST_URL": s(is.RequestURL()), "ACTIONS_ID_TOKEN_REQUEST_TOKEN": s(is.RequestToken)}
	src, err := credreq.Resolve(credreq.Request{RoleARN: role, SessionName: "ci"}, env, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[string]string{
		"InvalidIdentityToken/Incorrect token audience":  `the token's audience "sts.amazonaws.com" is not a client id of the IAM OIDC provider for ` + is.URL,
		"InvalidIdentityToken/No OpenIDConnect provider": "check that the role's account has an IAM OIDC provider for that issuer",
		"ExpiredTokenException/Token expired":            "the GitHub Actions OIDC token expired (STS says: Token expired); try again",
		"IDPCommunicationError/Couldn't retrieve":        "STS could not reach the token's issuer " + is.URL,
		"AccessDenied/Not authorized":                    `the entry role arn:aws:iam::111111111111:role/entry (AWS_ROLE_ARN) does not trust this token; allow sub "repo:org/app:ref:refs/heads/main"`,
	} {
		c, msg, _ := strings.Cut(code, "/")
		api := &fakeWebIdentity{err: &smithy.GenericAPIError{Code: c, Message: msg}}
		w := &webIdentity{src: src, env: env, e: NewEnviron(env), now: time.Now, api: api}
		_, err := w.Retrieve(context.Background())
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "assume arn:aws:iam::111111111111:role/entry: ") {
			t.Errorf("%s: %v, want %q", code, err, want)
			continue
		}
		claims, cerr := credreq.ParseClaims(api.token)
		if cerr != nil || claims.Audience[0] != credreq.STSAudience {
			t.Errorf("the token asked for: %+v %v, want audience %s", claims, cerr, credreq.STSAudience)
		}
		for _, secret := range is.Secrets() {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the error quotes a secret", code)
			}
		}
	}
	// A token that has expired is refused before any call.
	is.SetTTL(-time.Minute)
	api := &fakeWebIdentity{}
	w := &webIdentity{src: src, env: env, e: NewEnviron(env), now: time.Now, api: api}
	if _, err := w.Retrieve(context.Background()); err == nil || !strings.Contains(err.Error(), "the GitHub Actions OIDC token expired at ") || api.token != "" {
		t.Errorf("an expired token: %v (called STS: %v)", err, api.token != "")
	}
}

// TestGitHubRequestGoesOnlyWhereTheRunnerSaid: the request token is sent
// over https, or plain http to this machine only, and never follows a
// redirect (Go keeps Authorization on a same-host redirect).
func TestGitHubRequestGoesOnlyWhereTheRunnerSaid(t *testing.T) {
	w := &webIdentity{now: time.Now}
	for _, u := range []string{"http://169.254.169.254/token", "ftp://example.com/x", "file:///etc/passwd", "https://"} {
		if _, err := w.fetchGitHub(context.Background(), u, "request-token"); err == nil || !strings.Contains(err.Error(), "not an https URL") {
			t.Errorf("%s: err = %v, want refused", u, err)
		}
	}
	var leaked atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Store(true)
		}
		io.WriteString(w, `{"value":"x.y.z"}`)
	}))
	defer elsewhere.Close()
	redirect := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/steal", http.StatusFound))
	defer redirect.Close()
	if _, err := w.fetchGitHub(context.Background(), redirect.URL+"/token", "request-token"); err == nil {
		t.Error("a redirect was followed to a token")
	}
	if leaked.Load() {
		t.Error("the request token followed a redirect")
	}
}
