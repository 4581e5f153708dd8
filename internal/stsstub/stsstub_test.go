package stsstub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

const (
	testKey     = "AKIAALICEALICEALICE1"
	testSecret  = "alice/secret+key/0123456789abcdefghijklm"
	testUserArn = "arn:aws:iam::111111111111:user/alice"
	deployRole  = "arn:aws:iam::222222222222:role/deploy"
	deployArn   = "arn:aws:sts::222222222222:assumed-role/deploy/alice-session"
)

func newServer(t *testing.T) *Server {
	t.Helper()
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.AddUser(testKey, testSecret, testUserArn)
	return s
}

// isolateAWSEnv points the SDK at the stub and away from the machine's config.
func isolateAWSEnv(t *testing.T, s *Server) {
	t.Helper()
	dir := t.TempDir()
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CA_BUNDLE", "AWS_ENDPOINT_URL",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_STS_REGIONAL_ENDPOINTS", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("HOME", dir)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL_STS", s.URL)
	t.Setenv("AWS_REGION", "us-east-1")
}

func client(t *testing.T, akid, secret, token string, opts ...func(*config.LoadOptions) error) *sts.Client {
	t.Helper()
	opts = append([]func(*config.LoadOptions) error{
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(akid, secret, token)),
	}, opts...)
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return sts.NewFromConfig(cfg)
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func assumeDeploy(t *testing.T, c *sts.Client) *sts.AssumeRoleOutput {
	t.Helper()
	out, err := c.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn:         aws.String(deployRole),
		RoleSessionName: aws.String("alice-session"),
	})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	return out
}

func TestSDKAssumeRoleThenCallerIdentity(t *testing.T) {
	s := newServer(t)
	isolateAWSEnv(t, s)
	ctx := context.Background()
	c := client(t, testKey, testSecret, "")

	id, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Arn) != testUserArn || aws.ToString(id.Account) != "111111111111" || !strings.HasPrefix(aws.ToString(id.UserId), "AIDA") {
		t.Errorf("user identity: %s %s %s", aws.ToString(id.Arn), aws.ToString(id.Account), aws.ToString(id.UserId))
	}

	before := time.Now()
	out := assumeDeploy(t, c)
	cr := out.Credentials
	if k := aws.ToString(cr.AccessKeyId); len(k) != 20 || !strings.HasPrefix(k, "ASIA") {
		t.Errorf("access key id %q", k)
	}
	if len(aws.ToString(cr.SecretAccessKey)) != 40 || len(aws.ToString(cr.SessionToken)) < 100 {
		t.Errorf("secret/token too short")
	}
	if exp := aws.ToTime(cr.Expiration); exp.Before(before.Add(59*time.Minute)) || exp.After(before.Add(61*time.Minute)) {
		t.Errorf("expiration %v, want about an hour", exp)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != deployArn {
		t.Errorf("assumed role arn %q", got)
	}
	if got := aws.ToString(out.AssumedRoleUser.AssumedRoleId); !strings.HasPrefix(got, "AROA") || !strings.HasSuffix(got, ":alice-session") {
		t.Errorf("assumed role id %q", got)
	}

	rc := client(t, aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))
	id, err = rc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Arn) != deployArn || aws.ToString(id.Account) != "222222222222" || aws.ToString(id.UserId) != aws.ToString(out.AssumedRoleUser.AssumedRoleId) {
		t.Errorf("role identity: %s %s %s", aws.ToString(id.Arn), aws.ToString(id.Account), aws.ToString(id.UserId))
	}

	// Issued credentials without their session token are not valid.
	nc := client(t, aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), "")
	if _, err := nc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); apiCode(err) != "InvalidClientTokenId" {
		t.Errorf("no token: err %v", err)
	}
	// Nor with someone else's token.
	other := assumeDeploy(t, c)
	xc := client(t, aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(other.Credentials.SessionToken))
	if _, err := xc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); apiCode(err) != "InvalidClientTokenId" {
		t.Errorf("wrong token: err %v", err)
	}

	if got := s.Count("GetCallerIdentity"); got != 2 {
		t.Errorf("Count(GetCallerIdentity) = %d, want 2", got)
	}
	if got := s.Count("AssumeRole"); got != 2 {
		t.Errorf("Count(AssumeRole) = %d, want 2", got)
	}
	if got := s.Count(""); got != 4 {
		t.Errorf("Count(\"\") = %d, want 4", got)
	}
	calls := s.Calls()
	if len(calls) != 6 {
		t.Fatalf("%d calls, want 6: %+v", len(calls), calls)
	}
	c1 := calls[1]
	if c1.Action != "AssumeRole" || c1.AccessKeyID != testKey || c1.RoleArn != deployRole || c1.RoleSessionName != "alice-session" ||
		c1.Status != 200 || c1.Err != "" || c1.Region != "us-east-1" {
		t.Errorf("call[1] = %+v", c1)
	}
	if c := calls[3]; c.Status != 403 || c.Err != "InvalidClientTokenId" {
		t.Errorf("call[3] = %+v", c)
	}
}

func TestSDKWrongSecret(t *testing.T) {
	s := newServer(t)
	isolateAWSEnv(t, s)
	c := client(t, testKey, "wrong-secret", "")
	_, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if apiCode(err) != "SignatureDoesNotMatch" {
		t.Fatalf("err = %v, want SignatureDoesNotMatch", err)
	}
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
		t.Errorf("status not 403: %v", err)
	}
	calls := s.Calls()
	if len(calls) != 1 || calls[0].Status != 403 || calls[0].Err != "SignatureDoesNotMatch" || calls[0].AccessKeyID != testKey {
		t.Errorf("calls = %+v", calls)
	}
	if s.Count("GetCallerIdentity") != 0 {
		t.Errorf("rejected call counted as success")
	}

	u := client(t, "AKIANOBODYNOBODYNOBO", testSecret, "")
	if _, err := u.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); apiCode(err) != "InvalidClientTokenId" {
		t.Errorf("unknown key: err = %v", err)
	}
}

func TestSDKFailNext(t *testing.T) {
	s := newServer(t)
	isolateAWSEnv(t, s)
	ctx := context.Background()
	c := client(t, testKey, testSecret, "", config.WithRetryMaxAttempts(1))

	s.FailNext("AssumeRole", 2, Fault{Status: 403, Code: "AccessDenied", Message: "nope"})
	for i := 0; i < 2; i++ {
		// Other actions are not affected.
		if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
		_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("s1")})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" || ae.ErrorMessage() != "nope" {
			t.Fatalf("attempt %d: err = %v", i, err)
		}
	}
	assumeDeploy(t, c)
	if got := s.Count("AssumeRole"); got != 1 {
		t.Errorf("Count(AssumeRole) = %d, want 1", got)
	}

	// Throttling and 500 are retried by the SDK's standard retryer.
	s.FailNext("", 1, Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded"})
	s.FailNext("GetCallerIdentity", 1, Fault{Status: 500})
	rc := client(t, testKey, testSecret, "")
	if _, err := rc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("retried call failed: %v", err)
	}
	calls := s.Calls()
	last := calls[len(calls)-3:]
	if last[0].Err != "Throttling" || last[1].Err != "InternalFailure" || last[1].Status != 500 || last[2].Status != 200 {
		t.Errorf("last calls %+v", last)
	}

	// A dropped connection surfaces as a transport error.
	s.FailNext("GetCallerIdentity", 1, Fault{Close: true})
	if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil || apiCode(err) != "" {
		t.Errorf("dropped connection: err = %v", err)
	}
	// A hang longer than the client's deadline times out.
	s.FailNext("GetCallerIdentity", 1, Fault{Hang: 5 * time.Second})
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	start := time.Now()
	_, err := c.GetCallerIdentity(tctx, &sts.GetCallerIdentityInput{})
	cancel()
	if err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("hang: err = %v after %v", err, time.Since(start))
	}
	// A short hang alone just delays the answer.
	s.FailNext("GetCallerIdentity", 1, Fault{Hang: 300 * time.Millisecond})
	start = time.Now()
	if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil || time.Since(start) < 300*time.Millisecond {
		t.Errorf("delay: err = %v after %v", err, time.Since(start))
	}
	// FailAfter lets calls through first: here one, then two fail.
	s.FailAfter("AssumeRole", 1, 2, Fault{Status: 403, Code: "AccessDenied"})
	assumeDeploy(t, c)
	for i := 0; i < 2; i++ {
		if _, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("s1")}); apiCode(err) != "AccessDenied" {
			t.Errorf("FailAfter, call %d after the one let through: err = %v, want AccessDenied", i+1, err)
		}
	}
	assumeDeploy(t, c)
	// n <= 0 cancels.
	s.FailNext("GetCallerIdentity", 5, Fault{Status: 500})
	s.FailNext("GetCallerIdentity", 0, Fault{})
	if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("cancelled fault still active: %v", err)
	}
}

func TestSDKExpiredToken(t *testing.T) {
	s := newServer(t)
	isolateAWSEnv(t, s)
	ctx := context.Background()
	c := client(t, testKey, testSecret, "")

	s.SetSessionDuration(time.Second)
	out := assumeDeploy(t, c)
	exp := aws.ToTime(out.Credentials.Expiration)
	if d := time.Until(exp); d > 2*time.Second {
		t.Errorf("expiration %v is not about a second away", exp)
	}
	rc := client(t, aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	if _, err := rc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("fresh creds: %v", err)
	}
	time.Sleep(1100 * time.Millisecond)
	_, err := rc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if apiCode(err) != "ExpiredToken" {
		t.Fatalf("err = %v, want ExpiredToken", err)
	}

	// ExpireAll does the same without waiting.
	s.SetSessionDuration(0)
	out = assumeDeploy(t, c)
	if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d < 59*time.Minute {
		t.Errorf("SetSessionDuration(0) did not restore defaults: %v", d)
	}
	rc = client(t, aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	s.ExpireAll()
	if _, err := rc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); apiCode(err) != "ExpiredToken" {
		t.Fatalf("after ExpireAll: err = %v", err)
	}
	// Long-term keys never expire.
	if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
}

func TestSDKValidation(t *testing.T) {
	s := newServer(t)
	isolateAWSEnv(t, s)
	ctx := context.Background()
	c := client(t, testKey, testSecret, "")
	for _, in := range []*sts.AssumeRoleInput{
		{RoleArn: aws.String("arn:aws:iam::12345:role/deploy"), RoleSessionName: aws.String("s1")},
		{RoleArn: aws.String("arn:aws:iam::222222222222:user/deploy"), RoleSessionName: aws.String("s1")},
		{RoleArn: aws.String("deploy"), RoleSessionName: aws.String("s1")},
		{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("bad name")},
		{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(899)},
		{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(43201)},
	} {
		_, err := c.AssumeRole(ctx, in)
		if apiCode(err) != "ValidationError" {
			t.Errorf("%s %s %v: err = %v", aws.ToString(in.RoleArn), aws.ToString(in.RoleSessionName), aws.ToInt32(in.DurationSeconds), err)
		}
	}
	out, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::222222222222:role/team/admin"), RoleSessionName: aws.String("s1"),
		DurationSeconds: aws.Int32(43200), ExternalId: aws.String("ext-123"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::222222222222:assumed-role/admin/s1" {
		t.Errorf("path role arn %q", got)
	}
	if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d < 11*time.Hour {
		t.Errorf("12h duration gave %v", d)
	}
	if c := s.Calls(); c[len(c)-1].ExternalID != "ext-123" || c[len(c)-1].DurationSeconds != 43200 {
		t.Errorf("call record %+v", c[len(c)-1])
	}

	// Role chaining is limited to one hour.
	rc := client(t, aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	_, err = rc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("chain"), DurationSeconds: aws.Int32(3601)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" || !strings.Contains(ae.ErrorMessage(), "role chaining") {
		t.Errorf("chained 3601: err = %v", err)
	}
	chained, err := rc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("chain")})
	if err != nil {
		t.Fatalf("chained default duration: %v", err)
	}
	if got := aws.ToString(chained.AssumedRoleUser.Arn); got != "arn:aws:sts::222222222222:assumed-role/deploy/chain" {
		t.Errorf("chained arn %q", got)
	}
	// Session credentials cannot call GetSessionToken.
	if _, err := rc.GetSessionToken(ctx, &sts.GetSessionTokenInput{}); apiCode(err) != "AccessDenied" {
		t.Errorf("GetSessionToken with role creds: err = %v", err)
	}
}

func TestSDKExternalID(t *testing.T) {
	s := newServer(t)
	isolateAWSEnv(t, s)
	s.RequireExternalID(deployRole, "ext-123")
	c := client(t, testKey, testSecret, "")
	ctx := context.Background()
	if _, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("s1")}); apiCode(err) != "AccessDenied" {
		t.Errorf("missing external id: err = %v", err)
	}
	if _, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("s1"), ExternalId: aws.String("ext-123")}); err != nil {
		t.Errorf("with external id: %v", err)
	}
}

func TestSDKSessionTokenAndMFA(t *testing.T) {
	s := newServer(t)
	isolateAWSEnv(t, s)
	ctx := context.Background()
	const serial = "arn:aws:iam::111111111111:mfa/alice"
	s.RequireMFA(deployRole, serial, "123456")
	c := client(t, testKey, testSecret, "")

	// Without MFA the role is denied.
	if _, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("alice-session")}); apiCode(err) != "AccessDenied" {
		t.Fatalf("no MFA: err = %v", err)
	}
	// A wrong code is denied at GetSessionToken.
	if _, err := c.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String("654321")}); apiCode(err) != "AccessDenied" {
		t.Fatalf("wrong code: err = %v", err)
	}
	// A malformed code is a validation error.
	if _, err := c.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String("12ab56")}); apiCode(err) != "ValidationError" {
		t.Fatalf("malformed code: err = %v", err)
	}
	// Session token without MFA does not satisfy the role.
	plain, err := c.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(aws.ToTime(plain.Credentials.Expiration)); d > 15*time.Minute || d < 14*time.Minute {
		t.Errorf("900s session token expires in %v", d)
	}
	pc := client(t, aws.ToString(plain.Credentials.AccessKeyId), aws.ToString(plain.Credentials.SecretAccessKey), aws.ToString(plain.Credentials.SessionToken))
	if _, err := pc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("alice-session")}); apiCode(err) != "AccessDenied" {
		t.Fatalf("plain session token: err = %v", err)
	}
	// With MFA it works, and the session token reports the user.
	mfa, err := c.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String("123456")})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(aws.ToTime(mfa.Credentials.Expiration)); d < 11*time.Hour {
		t.Errorf("default session token lifetime %v, want 12h", d)
	}
	mc := client(t, aws.ToString(mfa.Credentials.AccessKeyId), aws.ToString(mfa.Credentials.SecretAccessKey), aws.ToString(mfa.Credentials.SessionToken))
	id, err := mc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != testUserArn {
		t.Fatalf("session token identity %v %v", id, err)
	}
	// Assuming a role with session-token creds is not role chaining: 12h is allowed.
	out, err := mc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("alice-session"), DurationSeconds: aws.Int32(43200)})
	if err != nil {
		t.Fatalf("MFA session AssumeRole: %v", err)
	}
	if aws.ToString(out.AssumedRoleUser.Arn) != deployArn {
		t.Errorf("arn %q", aws.ToString(out.AssumedRoleUser.Arn))
	}
	// MFA passed directly on AssumeRole works too, as with real STS.
	if _, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("alice-session"),
		SerialNumber: aws.String(serial), TokenCode: aws.String("123456")}); err != nil {
		t.Fatalf("direct MFA: %v", err)
	}
	calls := s.Calls()
	if c := calls[len(calls)-1]; c.SerialNumber != serial || c.TokenCode != "123456" {
		t.Errorf("call record %+v", c)
	}
}

func TestSDKSecretOverride(t *testing.T) {
	s := newServer(t)
	isolateAWSEnv(t, s)
	ctx := context.Background()
	c := client(t, testKey, testSecret, "")
	nasty := "a'b\"$(touch x)`\\\n<&>]]>"
	s.SetSecretOverride(nasty)
	out := assumeDeploy(t, c)
	if got := aws.ToString(out.Credentials.SecretAccessKey); got != nasty {
		t.Fatalf("secret %q, want %q", got, nasty)
	}
	rc := client(t, aws.ToString(out.Credentials.AccessKeyId), nasty, aws.ToString(out.Credentials.SessionToken))
	if _, err := rc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("signing with nasty secret: %v", err)
	}
	// The override is used once.
	if out2 := assumeDeploy(t, c); aws.ToString(out2.Credentials.SecretAccessKey) == nasty {
		t.Errorf("override reused")
	}
}

func TestSDKConcurrent(t *testing.T) {
	s := newServer(t)
	isolateAWSEnv(t, s)
	ctx := context.Background()
	c := client(t, testKey, testSecret, "")
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(deployRole), RoleSessionName: aws.String(fmt.Sprintf("s%d", i))})
			if err != nil {
				errs <- err
				return
			}
			rc := sts.NewFromConfig(cfg, func(o *sts.Options) {
				o.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId),
					aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
			})
			id, err := rc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				errs <- err
				return
			}
			if want := fmt.Sprintf("arn:aws:sts::222222222222:assumed-role/deploy/s%d", i); aws.ToString(id.Arn) != want {
				errs <- fmt.Errorf("arn %s, want %s", aws.ToString(id.Arn), want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s.Count("AssumeRole") != n || s.Count("GetCallerIdentity") != n {
		t.Errorf("counts %d %d", s.Count("AssumeRole"), s.Count("GetCallerIdentity"))
	}
}

func TestCallHookAndClose(t *testing.T) {
	s := newServer(t)
	isolateAWSEnv(t, s)
	var mu sync.Mutex
	var seen []Call
	s.SetCallHook(func(c Call) {
		mu.Lock()
		seen = append(seen, c)
		mu.Unlock()
	})
	c := client(t, testKey, testSecret, "")
	if _, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(seen) != 1 || seen[0].Action != "GetCallerIdentity" || seen[0].Status != 200 {
		t.Errorf("hook saw %+v", seen)
	}
	mu.Unlock()

	// Close returns promptly even with a request hanging.
	s.FailNext("", 1, Fault{Hang: time.Minute})
	go func() {
		_, _ = c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	}()
	for i := 0; i < 100 && len(s.Calls()) < 2; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	s.Close()
	if time.Since(start) > 5*time.Second {
		t.Errorf("Close took %v", time.Since(start))
	}
	s.Close() // idempotent
}

func TestResetCalls(t *testing.T) {
	s := newServer(t)
	isolateAWSEnv(t, s)
	c := client(t, testKey, testSecret, "", config.WithRetryMaxAttempts(1))
	ctx := context.Background()
	if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	// A call in flight across ResetCalls does not update later records.
	s.FailNext("", 1, Fault{Hang: 300 * time.Millisecond})
	done := make(chan error, 1)
	go func() {
		_, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		done <- err
	}()
	for i := 0; i < 200 && len(s.Calls()) < 2; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	s.ResetCalls()
	if n := len(s.Calls()); n != 0 {
		t.Fatalf("%d calls after reset", n)
	}
	s.FailNext("", 1, Fault{Status: 500})
	if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
		t.Fatal("expected injected 500")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	calls := s.Calls()
	if len(calls) != 1 || calls[0].Status != 500 {
		t.Errorf("calls %+v", calls)
	}
	if s.Count("") != 0 {
		t.Errorf("Count after reset = %d", s.Count(""))
	}
}
