package stsstub

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsrole/awsrole/internal/oidcissuer"
)

const ciRole = "arn:aws:iam::111111111111:role/ci-entry"

func startIssuer(t *testing.T, sub string) *oidcissuer.Issuer {
	t.Helper()
	is, err := oidcissuer.Start(sub)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(is.Close)
	return is
}

// anonymous is the SDK's STS client with no credentials: the SDK sends
// AssumeRoleWithWebIdentity unsigned.
func anonymous(t *testing.T, s *Server) *sts.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(aws.AnonymousCredentials{}), config.WithBaseEndpoint(s.URL))
	if err != nil {
		t.Fatal(err)
	}
	return sts.NewFromConfig(cfg)
}

// The real SDK assumes a role with a token the local issuer signed; the
// credentials sign the next calls (a chained AssumeRole, capped at an
// hour). Every way STS refuses a token is its error code.
func TestAssumeRoleWithWebIdentity(t *testing.T) {
	s := newServer(t)
	t.Setenv("AWS_ENDPOINT_URL_STS", s.URL)
	is := startIssuer(t, "repo:org/app:ref:refs/heads/main")
	other := startIssuer(t, "x")
	s.AddOIDCProvider(is.URL, "sts.amazonaws.com")
	s.TrustWebIdentity(ciRole, is.URL, "repo:org/app:*")
	api := anonymous(t, s)
	call := func(tok string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		return api.AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(ciRole), RoleSessionName: aws.String("ci"), WebIdentityToken: aws.String(tok)})
	}
	good, _ := is.Token(is.Subject, "sts.amazonaws.com", 5*time.Minute)
	out, err := call(good)
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::111111111111:assumed-role/ci-entry/ci" || aws.ToString(out.SubjectFromWebIdentityToken) != is.Subject {
		t.Fatalf("assumed %s for %s", got, aws.ToString(out.SubjectFromWebIdentityToken))
	}
	c := out.Credentials
	hop := client(t, *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	if _, err := hop.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("ci"), DurationSeconds: aws.Int32(7200)}); apiCode(err) != "ValidationError" {
		t.Errorf("a chained hop of 2h: %v, want the 1h chain cap", err)
	}
	if _, err := hop.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("ci")}); err != nil {
		t.Errorf("the chained hop: %v", err)
	}
	if calls := s.Calls(); calls[0].Action != "AssumeRoleWithWebIdentity" || calls[0].AccessKeyID != "" || calls[0].Issued != *c.AccessKeyId {
		t.Errorf("recorded %+v, want an unsigned AssumeRoleWithWebIdentity that issued %s", calls[0], *c.AccessKeyId)
	}

	expired, _ := is.Token(is.Subject, "sts.amazonaws.com", -time.Minute)
	wrongAud, _ := is.Token(is.Subject, "https://github.com/org", 5*time.Minute)
	otherSub, _ := is.Token("repo:evil/app:ref:refs/heads/main", "sts.amazonaws.com", 5*time.Minute)
	unknown, _ := other.Token("x", "sts.amazonaws.com", 5*time.Minute)
	// Signed by another key under this issuer's name.
	forged, _ := other.Sign(map[string]any{"iss": is.URL, "sub": is.Subject, "aud": "sts.amazonaws.com", "exp": time.Now().Add(time.Hour).Unix()})
	for name, tc := range map[string]struct{ tok, code string }{
		"expired":           {expired, "ExpiredTokenException"},
		"audience mismatch": {wrongAud, "InvalidIdentityToken"},
		"untrusted subject": {otherSub, "AccessDenied"},
		"unknown issuer":    {unknown, "InvalidIdentityToken"},
		"forged signature":  {forged, "InvalidIdentityToken"},
		"not a JWT":         {"abc.def", "InvalidIdentityToken"},
	} {
		if _, err := call(tc.tok); apiCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
	is.SetDown(true)
	if _, err := call(good); apiCode(err) != "IDPCommunicationError" {
		t.Errorf("issuer down: %v, want IDPCommunicationError", err)
	}
}

// The issuer's GitHub-style request endpoint gives a token to its bearer
// token only.
func TestIssuerRequestEndpoint(t *testing.T) {
	is := startIssuer(t, "repo:org/app:ref:refs/heads/main")
	get := func(bearer string) (int, string) {
		req, _ := http.NewRequest("GET", is.RequestURL()+"&audience=sts.amazonaws.com", nil)
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("wrong"); code != http.StatusUnauthorized {
		t.Errorf("a wrong bearer token: %d, want 401", code)
	}
	code, body := get(is.RequestToken)
	if code != http.StatusOK || !strings.Contains(body, `"value":"ey`) || is.Requests() != 1 {
		t.Errorf("the bearer token: %d %s", code, body)
	}
}
