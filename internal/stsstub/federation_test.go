package stsstub

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// signin asks the federation endpoint for a sign-in token; duration ""
// leaves SessionDuration out. It returns the HTTP status and the token.
func signin(t *testing.T, s *Server, akid, secret, token, duration string) (int, string) {
	t.Helper()
	sess, _ := json.Marshal(signinSession{SessionID: akid, SessionKey: secret, SessionToken: token})
	q := url.Values{"Action": {"getSigninToken"}, "Session": {string(sess)}}
	if duration != "" {
		q.Set("SessionDuration", duration)
	}
	resp, err := http.Get(s.URL + "/federation?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct{ SigninToken string }
	_ = json.Unmarshal(body, &out)
	return resp.StatusCode, out.SigninToken
}

func assume(t *testing.T, c *sts.Client, in *sts.AssumeRoleInput) *types.Credentials {
	t.Helper()
	out, err := c.AssumeRole(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out.Credentials
}

// TestFederation: getSigninToken takes only temporary credentials the
// stub issued, refuses SessionDuration for a chained session, and the
// token it gives opens the login address once.
func TestFederation(t *testing.T) {
	s := newServer(t)
	isolateAWSEnv(t, s)
	user := client(t, testKey, testSecret, "")
	direct := assume(t, user, &sts.AssumeRoleInput{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("s1")})
	hop := client(t, *direct.AccessKeyId, *direct.SecretAccessKey, *direct.SessionToken)
	chained := assume(t, hop, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::333333333333:role/next"), RoleSessionName: aws.String("s1")})

	if code, tok := signin(t, s, *direct.AccessKeyId, *direct.SecretAccessKey, *direct.SessionToken, "3600"); code != 200 || tok == "" {
		t.Errorf("direct role with SessionDuration: %d %q", code, tok)
	}
	if code, _ := signin(t, s, *chained.AccessKeyId, *chained.SecretAccessKey, *chained.SessionToken, "3600"); code != 400 {
		t.Errorf("chained role with SessionDuration: %d, want 400", code)
	}
	code, tok := signin(t, s, *chained.AccessKeyId, *chained.SecretAccessKey, *chained.SessionToken, "")
	if code != 200 || tok == "" {
		t.Errorf("chained role without SessionDuration: %d", code)
	}
	for name, c := range map[string][3]string{
		"long-term keys": {testKey, testSecret, ""},
		"wrong secret":   {*direct.AccessKeyId, "x" + *direct.SecretAccessKey, *direct.SessionToken},
		"wrong token":    {*direct.AccessKeyId, *direct.SecretAccessKey, "x"},
		"unknown key":    {"ASIANOTISSUEDBYSTUB", "s", "t"},
	} {
		if code, _ := signin(t, s, c[0], c[1], c[2], ""); code != 403 {
			t.Errorf("%s: %d, want 403", name, code)
		}
	}
	login := func(token string) int {
		resp, err := http.Get(s.URL + "/federation?" + url.Values{"Action": {"login"}, "SigninToken": {token}, "Destination": {"https://console.aws.amazon.com/"}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if login(tok) != 200 || login("forged") == 200 {
		t.Error("login must take the issued token and only it")
	}
	if n := s.Count("getSigninToken"); n != 2 {
		t.Errorf("%d successful getSigninToken, want 2", n)
	}
}

// TestChainCarries: a hop's source identity and transitive tags are the
// next hop's, which may neither change them nor pass the tags again.
func TestChainCarries(t *testing.T) {
	s := newServer(t)
	isolateAWSEnv(t, s)
	user := client(t, testKey, testSecret, "")
	first := assume(t, user, &sts.AssumeRoleInput{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("s1"),
		SourceIdentity: aws.String("alice"), Tags: []types.Tag{{Key: aws.String("project"), Value: aws.String("p")}},
		TransitiveTagKeys: []string{"project"}})
	hop := client(t, *first.AccessKeyId, *first.SecretAccessKey, *first.SessionToken)
	assume(t, hop, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::333333333333:role/next"), RoleSessionName: aws.String("s1"), SourceIdentity: aws.String("alice")})
	calls := s.Calls()
	last := calls[len(calls)-1]
	if last.InheritedTags["project"] != "p" || last.AccessKeyID != *first.AccessKeyId {
		t.Errorf("second hop: %+v", last)
	}
	if _, err := hop.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::333333333333:role/next"), RoleSessionName: aws.String("s1"), SourceIdentity: aws.String("mallory")}); apiCode(err) != "AccessDenied" {
		t.Errorf("changing the source identity: %v", err)
	}
	if _, err := hop.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::333333333333:role/next"), RoleSessionName: aws.String("s1"), Tags: []types.Tag{{Key: aws.String("Project"), Value: aws.String("q")}}}); apiCode(err) != "ValidationError" {
		t.Errorf("overriding a transitive tag: %v", err)
	}
}
