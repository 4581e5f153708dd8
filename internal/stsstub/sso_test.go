package stsstub

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

const startURL = "https://corp.awsapps.com/start"

// ssoClients points the SDK at the stub only through AWS_ENDPOINT_URL_SSO
// and AWS_ENDPOINT_URL_SSO_OIDC, the route awsrole relies on: no client
// option names the stub, so a client that ignored the variables would go
// to the real service (and fail, offline) instead.
func ssoClients(t *testing.T, s *Server) (*sso.Client, *ssooidc.Client) {
	t.Helper()
	isolateAWSEnv(t, s)
	t.Setenv("AWS_ENDPOINT_URL_SSO", s.URL)
	t.Setenv("AWS_ENDPOINT_URL_SSO_OIDC", s.URL)
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRetryMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	return sso.NewFromConfig(cfg), ssooidc.NewFromConfig(cfg)
}

func register(t *testing.T, oc *ssooidc.Client) *ssooidc.RegisterClientOutput {
	t.Helper()
	reg, err := oc.RegisterClient(context.Background(), &ssooidc.RegisterClientInput{ClientName: aws.String("awsrole-test"), ClientType: aws.String("public")})
	if err != nil {
		t.Fatalf("RegisterClient: %v", err)
	}
	return reg
}

func TestSSODeviceFlow(t *testing.T) {
	s := newServer(t)
	s.AssignSSO("222222222222", "Deploy")
	pc, oc := ssoClients(t, s)
	ctx := context.Background()

	reg := register(t, oc)
	if aws.ToString(reg.ClientId) == "" || aws.ToString(reg.ClientSecret) == "" || reg.ClientSecretExpiresAt <= time.Now().Unix() {
		t.Fatalf("RegisterClient = %+v", reg)
	}
	dev, err := oc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, StartUrl: aws.String(startURL)})
	if err != nil {
		t.Fatalf("StartDeviceAuthorization: %v", err)
	}
	if dev.Interval != 1 || dev.ExpiresIn <= 0 || !strings.HasPrefix(aws.ToString(dev.VerificationUriComplete), s.URL+"/device?user_code=") {
		t.Fatalf("StartDeviceAuthorization = %+v", dev)
	}
	tokenIn := &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
		GrantType: aws.String(grantDeviceCode), DeviceCode: dev.DeviceCode}
	var pending *oidctypes.AuthorizationPendingException
	if _, err := oc.CreateToken(ctx, tokenIn); !errors.As(err, &pending) {
		t.Fatalf("CreateToken before approval: %v, want AuthorizationPendingException", err)
	}
	if got := aws.ToString(pending.Error_); got != "authorization_pending" {
		t.Errorf("pending error field = %q", got)
	}

	// The user's browser opens verificationUriComplete.
	resp, err := http.Get(aws.ToString(dev.VerificationUriComplete))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET device page: %d %s", resp.StatusCode, page)
	}

	tok, err := oc.CreateToken(ctx, tokenIn)
	if err != nil {
		t.Fatalf("CreateToken after approval: %v", err)
	}
	if aws.ToString(tok.AccessToken) == "" || aws.ToString(tok.RefreshToken) == "" || tok.ExpiresIn <= 0 {
		t.Fatalf("CreateToken = %+v", tok)
	}
	var invalid *oidctypes.InvalidGrantException
	if _, err := oc.CreateToken(ctx, tokenIn); !errors.As(err, &invalid) {
		t.Errorf("CreateToken with a used device code: %v, want InvalidGrantException", err)
	}
	accts, err := pc.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken})
	if err != nil || len(accts.AccountList) != 1 || aws.ToString(accts.AccountList[0].AccountId) != "222222222222" {
		t.Fatalf("ListAccounts with the new token = %+v, %v", accts, err)
	}

	// ApproveDevice does what the browser does.
	dev2, err := oc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, StartUrl: aws.String(startURL)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ApproveDevice("nope-nope"); err == nil {
		t.Error("ApproveDevice of an unknown code succeeded")
	}
	if err := s.ApproveDevice(aws.ToString(dev2.UserCode)); err != nil {
		t.Fatal(err)
	}
	tokenIn.DeviceCode = dev2.DeviceCode
	if _, err := oc.CreateToken(ctx, tokenIn); err != nil {
		t.Fatalf("CreateToken after ApproveDevice: %v", err)
	}

	var bad *oidctypes.InvalidClientException
	if _, err := oc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: reg.ClientId, ClientSecret: aws.String("wrong"), StartUrl: aws.String(startURL)}); !errors.As(err, &bad) {
		t.Errorf("StartDeviceAuthorization with a wrong secret: %v, want InvalidClientException", err)
	}
	for action, want := range map[string]int{"RegisterClient": 1, "StartDeviceAuthorization": 2, "CreateToken": 2, "ApproveDevice": 1, "ListAccounts": 1} {
		if got := s.Count(action); got != want {
			t.Errorf("Count(%s) = %d, want %d", action, got, want)
		}
	}
	var sawPending bool
	for _, c := range s.Calls() {
		if c.Action == "CreateToken" && c.Err == "AuthorizationPendingException" && c.GrantType == grantDeviceCode && c.Status == 400 {
			sawPending = true
		}
	}
	if !sawPending {
		t.Errorf("no pending CreateToken recorded: %+v", s.Calls())
	}
}

func TestSSORefreshGrant(t *testing.T) {
	s := newServer(t)
	s.AssignSSO("222222222222", "Deploy")
	pc, oc := ssoClients(t, s)
	ctx := context.Background()
	access, refresh := s.IssueSSOToken(startURL, time.Hour)
	clientID, secret, _ := s.SSOClient()

	if _, err := pc.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: aws.String(access)}); err != nil {
		t.Fatalf("ListAccounts with an issued token: %v", err)
	}
	s.ExpireSSOTokens()
	var unauth *ssotypes.UnauthorizedException
	if _, err := pc.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: aws.String(access)}); !errors.As(err, &unauth) {
		t.Fatalf("ListAccounts with an expired token: %v, want UnauthorizedException", err)
	}
	in := &ssooidc.CreateTokenInput{ClientId: aws.String(clientID), ClientSecret: aws.String(secret),
		GrantType: aws.String("refresh_token"), RefreshToken: aws.String(refresh)}
	tok, err := oc.CreateToken(ctx, in)
	if err != nil {
		t.Fatalf("CreateToken refresh_token: %v", err)
	}
	if _, err := pc.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken}); err != nil {
		t.Fatalf("ListAccounts with the refreshed token: %v", err)
	}

	other := register(t, oc)
	var invalid *oidctypes.InvalidGrantException
	if _, err := oc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: other.ClientId, ClientSecret: other.ClientSecret,
		GrantType: aws.String("refresh_token"), RefreshToken: aws.String(refresh)}); !errors.As(err, &invalid) {
		t.Errorf("refresh with another client's refresh token: %v, want InvalidGrantException", err)
	}
	s.RevokeRefreshTokens()
	if _, err := oc.CreateToken(ctx, in); !errors.As(err, &invalid) {
		t.Fatalf("CreateToken with a revoked refresh token: %v, want InvalidGrantException", err)
	}
	in.RefreshToken = aws.String("aorUnknown")
	if _, err := oc.CreateToken(ctx, in); !errors.As(err, &invalid) {
		t.Fatalf("CreateToken with an unknown refresh token: %v, want InvalidGrantException", err)
	}
}

func TestSSOPaging(t *testing.T) {
	s := newServer(t)
	accounts := []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555"}
	for _, a := range accounts {
		s.AssignSSO(a, "ReadOnly")
	}
	s.AssignSSO("222222222222", "Deploy")
	s.AssignSSO("222222222222", "Admin")
	s.NameSSOAccount("222222222222", "payments")
	pc, _ := ssoClients(t, s)
	ctx := context.Background()
	access, _ := s.IssueSSOToken(startURL, time.Hour)

	var got []string
	pages := 0
	in := &sso.ListAccountsInput{AccessToken: aws.String(access)}
	for {
		out, err := pc.ListAccounts(ctx, in)
		if err != nil {
			t.Fatalf("ListAccounts page %d: %v", pages, err)
		}
		pages++
		for _, a := range out.AccountList {
			got = append(got, aws.ToString(a.AccountId))
			if aws.ToString(a.AccountId) == "222222222222" && aws.ToString(a.AccountName) != "payments" {
				t.Errorf("account name = %q", aws.ToString(a.AccountName))
			}
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if strings.Join(got, ",") != strings.Join(accounts, ",") || pages != 3 {
		t.Errorf("ListAccounts over %d pages = %v, want %v over 3", pages, got, accounts)
	}

	var roles []string
	p := sso.NewListAccountRolesPaginator(pc, &sso.ListAccountRolesInput{AccessToken: aws.String(access), AccountId: aws.String("222222222222")})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.RoleList {
			roles = append(roles, aws.ToString(r.RoleName))
		}
	}
	if strings.Join(roles, ",") != "Admin,Deploy,ReadOnly" || s.Count("ListAccountRoles") != 2 {
		t.Errorf("roles = %v in %d calls", roles, s.Count("ListAccountRoles"))
	}
	one, err := pc.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: aws.String(access), MaxResults: aws.Int32(5)})
	if err != nil || len(one.AccountList) != 5 || one.NextToken != nil {
		t.Errorf("ListAccounts max_result=5 = %+v, %v", one, err)
	}
	var bad *ssotypes.InvalidRequestException
	if _, err := pc.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: aws.String(access), NextToken: aws.String("!!")}); !errors.As(err, &bad) {
		t.Errorf("ListAccounts with a bad next token: %v, want InvalidRequestException", err)
	}
}

func TestSSORoleCredentialsThenAssumeRole(t *testing.T) {
	s := newServer(t)
	s.AddSSOUser("bob")
	s.AssignSSO("222222222222", "Deploy")
	pc, _ := ssoClients(t, s)
	ctx := context.Background()
	access, _ := s.IssueSSOToken(startURL, time.Hour)

	before := time.Now()
	out, err := pc.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: aws.String(access),
		AccountId: aws.String("222222222222"), RoleName: aws.String("Deploy")})
	if err != nil {
		t.Fatalf("GetRoleCredentials: %v", err)
	}
	rc := out.RoleCredentials
	exp := time.UnixMilli(rc.Expiration)
	if exp.Before(before.Add(59*time.Minute)) || exp.After(time.Now().Add(61*time.Minute)) {
		t.Errorf("expiration %v (%d ms) is not about an hour away", exp, rc.Expiration)
	}
	c := client(t, aws.ToString(rc.AccessKeyId), aws.ToString(rc.SecretAccessKey), aws.ToString(rc.SessionToken))
	id, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with SSO credentials: %v", err)
	}
	arn := aws.ToString(id.Arn)
	if !strings.HasPrefix(arn, "arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_Deploy_") || !strings.HasSuffix(arn, "/bob") ||
		aws.ToString(id.Account) != "222222222222" {
		t.Errorf("GetCallerIdentity = %s (account %s)", arn, aws.ToString(id.Account))
	}
	// A wrong secret with the same key id fails: the SSO credentials are SigV4-checked.
	wrong := client(t, aws.ToString(rc.AccessKeyId), "not-the-secret", aws.ToString(rc.SessionToken))
	if _, err := wrong.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); apiCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %v", err)
	}

	if _, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("bob"),
		DurationSeconds: aws.Int32(3600)}); err != nil {
		t.Fatalf("AssumeRole 1h from SSO credentials: %v", err)
	}
	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(deployRole), RoleSessionName: aws.String("bob"),
		DurationSeconds: aws.Int32(7200)})
	if apiCode(err) != "ValidationError" || !strings.Contains(err.Error(), "exceeds the 1 hour session limit for roles assumed by role chaining") {
		t.Fatalf("AssumeRole 2h from SSO credentials: %v, want the role chaining ValidationError", err)
	}

	var rec *Call
	for _, c := range s.Calls() {
		if c.Action == "GetRoleCredentials" {
			rec = &c
		}
	}
	if rec == nil || rec.AccountID != "222222222222" || rec.RoleName != "Deploy" || rec.Status != 200 {
		t.Errorf("recorded GetRoleCredentials = %+v", rec)
	}

	s.SetSSOCredentialDuration(15 * time.Minute)
	out, err = pc.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: aws.String(access),
		AccountId: aws.String("222222222222"), RoleName: aws.String("Deploy")})
	if err != nil || time.Until(time.UnixMilli(out.RoleCredentials.Expiration)) > 16*time.Minute {
		t.Errorf("GetRoleCredentials after SetSSOCredentialDuration(15m) = %+v, %v", out, err)
	}
}

func TestSSOBearerChecks(t *testing.T) {
	s := newServer(t)
	s.AssignSSO("222222222222", "Deploy")
	s.AddSSOUser("mallory") // owns no assignment; tokens from here on are hers
	malloryToken, _ := s.IssueSSOToken(startURL, time.Hour)
	pc, _ := ssoClients(t, s)
	ctx := context.Background()
	get := func(token, account, role string) error {
		_, err := pc.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: aws.String(token),
			AccountId: aws.String(account), RoleName: aws.String(role)})
		return err
	}
	var unauth *ssotypes.UnauthorizedException
	if err := get("aoaBogus", "222222222222", "Deploy"); !errors.As(err, &unauth) {
		t.Errorf("unknown token: %v, want UnauthorizedException", err)
	}
	expired, _ := s.IssueSSOToken(startURL, -time.Second)
	if err := get(expired, "222222222222", "Deploy"); !errors.As(err, &unauth) {
		t.Errorf("expired token: %v, want UnauthorizedException", err)
	}
	if err := get(malloryToken, "222222222222", "Deploy"); apiCode(err) != "ForbiddenException" {
		t.Errorf("unassigned user: %v, want ForbiddenException", err)
	}
	s.AddSSOUser("alice")
	alice, _ := s.IssueSSOToken(startURL, time.Hour)
	if err := get(alice, "222222222222", "Admin"); apiCode(err) != "ForbiddenException" {
		t.Errorf("unassigned role: %v, want ForbiddenException", err)
	}
	if _, err := pc.ListAccountRoles(ctx, &sso.ListAccountRolesInput{AccessToken: aws.String(alice), AccountId: aws.String("999999999999")}); apiCode(err) != "ForbiddenException" {
		t.Errorf("ListAccountRoles of an unassigned account: %v, want ForbiddenException", err)
	}
	if err := get(alice, "222222222222", "Deploy"); err != nil {
		t.Errorf("assigned role: %v", err)
	}
	if _, err := pc.Logout(ctx, &sso.LogoutInput{AccessToken: aws.String(alice)}); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if err := get(alice, "222222222222", "Deploy"); !errors.As(err, &unauth) {
		t.Errorf("token after Logout: %v, want UnauthorizedException", err)
	}
	for _, c := range s.Calls() {
		if c.Action == "GetRoleCredentials" && c.Err == "" && c.Status != 200 {
			t.Errorf("rejected call recorded without error code: %+v", c)
		}
	}
}

func TestSSOFaults(t *testing.T) {
	s := newServer(t)
	s.AssignSSO("222222222222", "Deploy")
	pc, oc := ssoClients(t, s)
	ctx := context.Background()
	access, _ := s.IssueSSOToken(startURL, time.Hour)
	in := &sso.GetRoleCredentialsInput{AccessToken: aws.String(access), AccountId: aws.String("222222222222"), RoleName: aws.String("Deploy")}

	s.FailNext("GetRoleCredentials", 1, Fault{Status: http.StatusTooManyRequests})
	var throttled *ssotypes.TooManyRequestsException
	if _, err := pc.GetRoleCredentials(ctx, in); !errors.As(err, &throttled) {
		t.Errorf("injected 429: %v, want TooManyRequestsException", err)
	}
	if _, err := pc.GetRoleCredentials(ctx, in); err != nil {
		t.Errorf("after the fault: %v", err)
	}
	s.FailNext("ListAccounts", 1, Fault{Status: http.StatusUnauthorized})
	var unauth *ssotypes.UnauthorizedException
	if _, err := pc.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: aws.String(access)}); !errors.As(err, &unauth) {
		t.Errorf("injected 401: %v, want UnauthorizedException", err)
	}
	s.FailNext("CreateToken", 1, Fault{Code: "SlowDownException", Message: "slow down"})
	var slow *oidctypes.SlowDownException
	_, err := oc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: aws.String("x"), ClientSecret: aws.String("y"), GrantType: aws.String("refresh_token")})
	if !errors.As(err, &slow) || aws.ToString(slow.Error_description) != "slow down" {
		t.Errorf("injected SlowDown: %v", err)
	}
	s.FailNext("RegisterClient", 1, Fault{Close: true})
	if _, err := oc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("x"), ClientType: aws.String("public")}); err == nil {
		t.Error("RegisterClient with a dropped connection succeeded")
	}
	if got := s.Count("GetRoleCredentials"); got != 1 {
		t.Errorf("Count(GetRoleCredentials) = %d, want 1", got)
	}
	var codes []string
	for _, c := range s.Calls() {
		codes = append(codes, c.Action+":"+c.Err)
	}
	want := "GetRoleCredentials:TooManyRequestsException GetRoleCredentials: ListAccounts:UnauthorizedException CreateToken:SlowDownException RegisterClient:ConnectionClosed"
	if strings.Join(codes, " ") != want {
		t.Errorf("calls = %v\nwant    %s", codes, want)
	}
}

func TestAssumeRoleRecordsSessionParameters(t *testing.T) {
	s := newServer(t)
	isolateAWSEnv(t, s)
	c := client(t, testKey, testSecret, "", config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(testKey, testSecret, "")))
	_, err := c.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(deployRole), RoleSessionName: aws.String("alice-session"),
		SourceIdentity:    aws.String("alice"),
		Tags:              []ststypes.Tag{{Key: aws.String("project"), Value: aws.String("payments")}, {Key: aws.String("team"), Value: aws.String("core")}},
		TransitiveTagKeys: []string{"project"},
		Policy:            aws.String(`{"Version":"2012-10-17","Statement":[]}`),
		PolicyArns:        []ststypes.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Calls()[0]
	if got.SourceIdentity != "alice" || got.Tags["project"] != "payments" || got.Tags["team"] != "core" || len(got.Tags) != 2 ||
		strings.Join(got.TransitiveTags, ",") != "project" || got.Policy != `{"Version":"2012-10-17","Statement":[]}` ||
		strings.Join(got.PolicyArns, ",") != "arn:aws:iam::aws:policy/ReadOnlyAccess" {
		t.Errorf("recorded %+v", got)
	}
}
