package stsstub

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/internal/testrig"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// runAWS runs the real aws CLI against s with only the given credentials in
// a clean environment, so nothing from the machine's AWS setup leaks in.
func runAWS(t *testing.T, s *Server, akid, secret, token string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	testrig.Slow(t)
	awsPath := testrig.Tool(t, "aws", "pip install awscli")
	home := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_ACCESS_KEY_ID=" + akid,
		"AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_ENDPOINT_URL_STS=" + s.URL,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	}
	if token != "" {
		env = append(env, "AWS_SESSION_TOKEN="+token)
	}
	// pyenv shims need to find their root; pass it through if set.
	if v, ok := os.LookupEnv("PYENV_ROOT"); ok {
		env = append(env, "PYENV_ROOT="+v)
	}
	cmd := exec.Command(awsPath, args...)
	cmd.Env = env
	cmd.Dir = home
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func TestCLICallerIdentityWithIssuedCreds(t *testing.T) {
	s := newServer(t)
	isolateAWSEnv(t, s)
	out := assumeDeploy(t, client(t, testKey, testSecret, ""))
	cr := out.Credentials

	stdout, stderr, err := runAWS(t, s, aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken),
		"sts", "get-caller-identity", "--output", "json")
	if err != nil {
		t.Fatalf("aws sts get-caller-identity: %v\nstderr: %s", err, stderr)
	}
	var id struct{ UserId, Account, Arn string }
	if err := json.Unmarshal([]byte(stdout), &id); err != nil {
		t.Fatalf("bad json %q: %v", stdout, err)
	}
	if id.Arn != deployArn || id.Account != "222222222222" || id.UserId != aws.ToString(out.AssumedRoleUser.AssumedRoleId) {
		t.Errorf("identity %+v", id)
	}
	calls := s.Calls()
	last := calls[len(calls)-1]
	if last.Action != "GetCallerIdentity" || last.AccessKeyID != aws.ToString(cr.AccessKeyId) || last.Status != 200 {
		t.Errorf("last call %+v", last)
	}

	// A wrong secret fails with the error code visible to the CLI.
	_, stderr, err = runAWS(t, s, aws.ToString(cr.AccessKeyId), otherSecret(aws.ToString(cr.SecretAccessKey)), aws.ToString(cr.SessionToken),
		"sts", "get-caller-identity", "--output", "json")
	if err == nil || !strings.Contains(stderr, "SignatureDoesNotMatch") {
		t.Errorf("wrong secret: err %v, stderr %s", err, stderr)
	}
	// So does a missing session token.
	_, stderr, err = runAWS(t, s, aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), "",
		"sts", "get-caller-identity", "--output", "json")
	if err == nil || !strings.Contains(stderr, "InvalidClientTokenId") {
		t.Errorf("no token: err %v, stderr %s", err, stderr)
	}
	// And expired credentials.
	s.ExpireAll()
	_, stderr, err = runAWS(t, s, aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken),
		"sts", "get-caller-identity", "--output", "json")
	if err == nil || !strings.Contains(stderr, "ExpiredToken") {
		t.Errorf("expired: err %v, stderr %s", err, stderr)
	}
}

func TestCLIAssumeRoleWithLongTermKeys(t *testing.T) {
	s := newServer(t)
	isolateAWSEnv(t, s)
	stdout, stderr, err := runAWS(t, s, testKey, testSecret, "",
		"sts", "assume-role", "--role-arn", deployRole, "--role-session-name", "alice-session",
		"--duration-seconds", "900", "--external-id", "ext-1", "--output", "json")
	if err != nil {
		t.Fatalf("aws sts assume-role: %v\nstderr: %s", err, stderr)
	}
	var res struct {
		Credentials     struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
		AssumedRoleUser struct{ AssumedRoleId, Arn string }
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("bad json %q: %v", stdout, err)
	}
	if res.AssumedRoleUser.Arn != deployArn || !strings.HasPrefix(res.Credentials.AccessKeyId, "ASIA") || res.Credentials.Expiration == "" {
		t.Errorf("result %+v", res.AssumedRoleUser)
	}
	c := s.Calls()[0]
	if c.Action != "AssumeRole" || c.AccessKeyID != testKey || c.RoleArn != deployRole || c.DurationSeconds != 900 || c.ExternalID != "ext-1" || c.Status != 200 {
		t.Errorf("call %+v", c)
	}

	// The CLI-issued credentials work with the SDK.
	rc := client(t, res.Credentials.AccessKeyId, res.Credentials.SecretAccessKey, res.Credentials.SessionToken)
	id, err := rc.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != deployArn {
		t.Errorf("SDK with CLI creds: %v %v", id, err)
	}

	// Injected faults reach the CLI as error codes.
	s.FailNext("AssumeRole", 1, Fault{Status: 403, Code: "AccessDenied", Message: "not today"})
	_, stderr, err = runAWS(t, s, testKey, testSecret, "",
		"sts", "assume-role", "--role-arn", deployRole, "--role-session-name", "alice-session")
	if err == nil || !strings.Contains(stderr, "AccessDenied") || !strings.Contains(stderr, "not today") {
		t.Errorf("fault: err %v, stderr %s", err, stderr)
	}
	// Bad role ARNs are validation errors.
	_, stderr, err = runAWS(t, s, testKey, testSecret, "",
		"sts", "assume-role", "--role-arn", "arn:aws:iam::2222:role/deploy", "--role-session-name", "alice-session")
	if err == nil || !strings.Contains(stderr, "ValidationError") {
		t.Errorf("bad arn: err %v, stderr %s", err, stderr)
	}
}

// Secrets full of shell metacharacters survive the XML round trip to the CLI
// and still sign correctly.
func TestCLINastySecret(t *testing.T) {
	s := newServer(t)
	isolateAWSEnv(t, s)
	nasty := "a'b\"$(touch x)`\\;&|<>*?~#!{}[] %\n"
	s.SetSecretOverride(nasty)
	out := assumeDeploy(t, client(t, testKey, testSecret, ""))
	if aws.ToString(out.Credentials.SecretAccessKey) != nasty {
		t.Fatalf("secret %q", aws.ToString(out.Credentials.SecretAccessKey))
	}
	stdout, stderr, err := runAWS(t, s, aws.ToString(out.Credentials.AccessKeyId), nasty, aws.ToString(out.Credentials.SessionToken),
		"sts", "get-caller-identity", "--query", "Arn", "--output", "text")
	if err != nil || strings.TrimSpace(stdout) != deployArn {
		t.Errorf("stdout %q err %v stderr %s", stdout, err, stderr)
	}
}

// otherSecret is secret with its first character changed: never the same
// secret (putting "x" there was the same one when it started with "x").
func otherSecret(secret string) string {
	first := "x"
	if strings.HasPrefix(secret, first) {
		first = "y"
	}
	return first + secret[1:]
}

func TestOtherSecret(t *testing.T) {
	for _, s := range []string{"xabc", "yabc", "abc"} {
		if o := otherSecret(s); o == s || len(o) != len(s) || o[1:] != s[1:] {
			t.Errorf("otherSecret(%q) = %q", s, o)
		}
	}
}
