package stsstub

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/testrig"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// These tests sign in the way users do: a profile in ~/.aws/config names
// an [sso-session], whose token sits in ~/.aws/sso/cache/<sha1(session)>.json
// (the aws CLI v2 format, shared by aws-sdk-go-v2 and botocore), and the
// client's own SSO credential provider takes it from there.

const ssoProfileConfig = `[profile x]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = Deploy
region = us-east-1

[sso-session corp]
sso_start_url = ` + startURL + `
sso_region = us-east-1
sso_registration_scopes = sso:account:access
`

// cachedToken is the aws CLI v2 SSO token cache file.
type cachedToken struct {
	StartURL              string `json:"startUrl"`
	Region                string `json:"region"`
	AccessToken           string `json:"accessToken"`
	ExpiresAt             string `json:"expiresAt"`
	RefreshToken          string `json:"refreshToken,omitempty"`
	ClientID              string `json:"clientId,omitempty"`
	ClientSecret          string `json:"clientSecret,omitempty"`
	RegistrationExpiresAt string `json:"registrationExpiresAt,omitempty"`
}

// writeSSOHome writes ~/.aws/config and the token cache for session "corp"
// under a new home directory, with an access token valid for ttl (which may
// be negative), and returns the home and the token file's path.
func writeSSOHome(t *testing.T, s *Server, ttl time.Duration) (home, tokenFile string) {
	t.Helper()
	home = t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".aws", "sso", "cache"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".aws", "config"), []byte(ssoProfileConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	access, refresh := s.IssueSSOToken(startURL, ttl)
	clientID, secret, regExpires := s.SSOClient()
	sum := sha1.Sum([]byte("corp"))
	tokenFile = filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json")
	b, err := json.Marshal(cachedToken{
		StartURL: startURL, Region: "us-east-1", AccessToken: access,
		ExpiresAt:    time.Now().Add(ttl).UTC().Format("2006-01-02T15:04:05Z"),
		RefreshToken: refresh, ClientID: clientID, ClientSecret: secret,
		RegistrationExpiresAt: regExpires.UTC().Format("2006-01-02T15:04:05Z"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return home, tokenFile
}

func readCachedToken(t *testing.T, path string) cachedToken {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tok cachedToken
	if err := json.Unmarshal(b, &tok); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tok
}

// sdkCallerViaProfile resolves profile x with the SDK's own SSO provider
// and returns the caller identity ARN.
func sdkCallerViaProfile(t *testing.T, s *Server, home string) (string, error) {
	t.Helper()
	isolateAWSEnv(t, s)
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, ".aws", "config"))
	t.Setenv("AWS_ENDPOINT_URL_SSO", s.URL)
	t.Setenv("AWS_ENDPOINT_URL_SSO_OIDC", s.URL)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithSharedConfigProfile("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return "", err
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	return aws.ToString(id.Arn), nil
}

func isDeployViaSSO(arn string) bool {
	return strings.HasPrefix(arn, "arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_Deploy_") && strings.HasSuffix(arn, "/alice")
}

func TestSDKSSOProfile(t *testing.T) {
	s := newServer(t)
	s.AssignSSO("222222222222", "Deploy")
	home, _ := writeSSOHome(t, s, time.Hour)
	arn, err := sdkCallerViaProfile(t, s, home)
	if err != nil || !isDeployViaSSO(arn) {
		t.Fatalf("caller via profile x = %q, %v", arn, err)
	}
	if s.Count("GetRoleCredentials") != 1 || s.Count("CreateToken") != 0 {
		t.Errorf("calls: %+v", s.Calls())
	}
}

func TestSDKSSOProfileRefreshesExpiredToken(t *testing.T) {
	s := newServer(t)
	s.AssignSSO("222222222222", "Deploy")
	home, tokenFile := writeSSOHome(t, s, -time.Minute)
	before := readCachedToken(t, tokenFile)

	arn, err := sdkCallerViaProfile(t, s, home)
	if err != nil || !isDeployViaSSO(arn) {
		t.Fatalf("caller via profile x with an expired token = %q, %v", arn, err)
	}
	if s.Count("CreateToken") != 1 {
		t.Errorf("Count(CreateToken) = %d, want 1 refresh", s.Count("CreateToken"))
	}
	after := readCachedToken(t, tokenFile)
	exp, err := time.Parse(time.RFC3339, after.ExpiresAt)
	if after.AccessToken == before.AccessToken || err != nil || !exp.After(time.Now()) || after.RefreshToken == "" ||
		after.ClientID != before.ClientID || after.StartURL != startURL {
		t.Errorf("token file after refresh = %+v (expiresAt: %v)", after, err)
	}
}

func TestSDKSSOProfileRevokedRefreshToken(t *testing.T) {
	s := newServer(t)
	s.AssignSSO("222222222222", "Deploy")
	home, _ := writeSSOHome(t, s, -time.Minute)
	s.RevokeRefreshTokens()
	if arn, err := sdkCallerViaProfile(t, s, home); err == nil || !strings.Contains(err.Error(), "InvalidGrantException") {
		t.Fatalf("caller with an expired token and a revoked refresh token = %q, %v; want an InvalidGrantException", arn, err)
	}
	if s.Count("GetRoleCredentials") != 0 {
		t.Errorf("GetRoleCredentials was called: %+v", s.Calls())
	}
}

// runAWSProfile runs the real aws CLI (botocore) with home's config and no
// keys in a clean environment. botocore honours the service-specific
// endpoint variables AWS_ENDPOINT_URL_SSO and AWS_ENDPOINT_URL_SSO_OIDC
// (service ids "SSO" and "SSO OIDC", spaces become underscores) for the
// clients its SSO credential and token providers create.
func runAWSProfile(t *testing.T, s *Server, home string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	testrig.Slow(t)
	awsPath := testrig.Tool(t, "aws", "pip install awscli, or the AWS CLI v2 bundle")
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, ".aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, ".aws", "credentials"),
		"AWS_ENDPOINT_URL_STS=" + s.URL,
		"AWS_ENDPOINT_URL_SSO=" + s.URL,
		"AWS_ENDPOINT_URL_SSO_OIDC=" + s.URL,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	}
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

func cliCallerArn(t *testing.T, s *Server, home string) string {
	t.Helper()
	out, errOut, err := runAWSProfile(t, s, home, "sts", "get-caller-identity", "--profile", "x", "--output", "json")
	if err != nil {
		t.Fatalf("aws sts get-caller-identity --profile x: %v\n%s\ncalls: %+v", err, errOut, s.Calls())
	}
	var id struct{ Arn string }
	if err := json.Unmarshal([]byte(out), &id); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	return id.Arn
}

func TestCLISSOProfile(t *testing.T) {
	s := newServer(t)
	s.AssignSSO("222222222222", "Deploy")
	home, _ := writeSSOHome(t, s, time.Hour)
	if arn := cliCallerArn(t, s, home); !isDeployViaSSO(arn) {
		t.Fatalf("aws CLI caller = %q", arn)
	}
	if s.Count("GetRoleCredentials") != 1 || s.Count("GetCallerIdentity") != 1 {
		t.Errorf("calls: %+v", s.Calls())
	}
}

func TestCLISSOProfileRefreshesExpiredToken(t *testing.T) {
	s := newServer(t)
	s.AssignSSO("222222222222", "Deploy")
	home, tokenFile := writeSSOHome(t, s, -time.Minute)
	before := readCachedToken(t, tokenFile)
	if arn := cliCallerArn(t, s, home); !isDeployViaSSO(arn) {
		t.Fatalf("aws CLI caller = %q", arn)
	}
	if s.Count("CreateToken") != 1 {
		t.Errorf("Count(CreateToken) = %d, want 1 refresh; calls %+v", s.Count("CreateToken"), s.Calls())
	}
	if after := readCachedToken(t, tokenFile); after.AccessToken == before.AccessToken {
		t.Errorf("botocore did not write the refreshed token back: %+v", after)
	}
}
