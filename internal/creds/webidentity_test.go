package creds

import (
	"context"
	"strings"
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
	src, err := credreq.Resolve(credreq.Request{RoleARN: role, SessionName: "ci"}, env, nil)
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
