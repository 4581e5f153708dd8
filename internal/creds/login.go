package creds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/browser"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/human"
	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/wire"
)

// ssoSession is an [sso-session] of the user's config, ready for calls.
type ssoSession struct {
	name, startURL, region string
	scopes                 []string
	tokenPath              string
	cfg                    aws.Config
}

func loadSSOSession(ctx context.Context, name string) (*ssoSession, error) {
	files, err := awsconfig.Load()
	if err != nil {
		return nil, err
	}
	sec, ok := files.SSOSession(name)
	if !ok {
		return nil, fmt.Errorf("no [sso-session %s] in %s; add one with sso_start_url and sso_region (known sessions: %s)", name, files.ConfigPath, human.List(files.SSOSessionNames()))
	}
	s := &ssoSession{name: name, startURL: sec["sso_start_url"], region: sec["sso_region"], tokenPath: awsconfig.TokenPath(name),
		scopes: []string{"sso:account:access"}}
	if s.startURL == "" || s.region == "" {
		return nil, fmt.Errorf("[sso-session %s] in %s needs sso_start_url and sso_region", name, files.ConfigPath)
	}
	if v := sec["sso_registration_scopes"]; v != "" {
		s.scopes = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	}
	os.Unsetenv("AWS_PROFILE")
	os.Unsetenv("AWS_DEFAULT_PROFILE")
	s.cfg, err = loadConfig(ctx, credreq.Source{Kind: credreq.SourceSSO, Region: s.region})
	return s, err
}

// Login signs the user in to an sso-session with the OIDC device flow and
// writes the token where the aws CLI keeps it. Messages go to tty.
func Login(ctx context.Context, l wire.Login, tty io.Writer) error {
	s, err := loadSSOSession(ctx, l.Session)
	if err != nil {
		return err
	}
	oidc := ssooidc.NewFromConfig(s.cfg)
	tok := awsconfig.Token{StartURL: s.startURL, Region: s.region}
	old, err := awsconfig.ReadTokenFile(s.tokenPath)
	if err == nil && old.StartURL == s.startURL && old.Region == s.region {
		// The same portal and region: its client registration may serve.
		tok.ClientID, tok.ClientSecret, tok.RegistrationExpiresAt = old.ClientID, old.ClientSecret, old.RegistrationExpiresAt
	}
	// signedInElsewhere is a new, valid token for this portal that another
	// sign-in (aws sso login, awsrole login in another terminal) wrote
	// while this one waited: it serves, and this wait ends. Only when the
	// token on file had expired: a valid one may just be refreshed by
	// an SDK meanwhile, which is no sign-in.
	expired := old.ExpiresAt.Before(time.Now())
	signedInElsewhere := func() (awsconfig.Token, bool) {
		t, err := awsconfig.ReadTokenFile(s.tokenPath)
		return t, expired && err == nil && t.StartURL == s.startURL && t.Region == s.region && t.AccessToken != "" &&
			t.AccessToken != old.AccessToken && t.ExpiresAt.After(time.Now().Add(time.Minute))
	}
	fail := func(step string, err error) error {
		return fmt.Errorf("sign-in to IAM Identity Center session %s: %s: %w", s.name, step, describe(ctx, "IAM Identity Center", "AWS_ENDPOINT_URL_SSO_OIDC", err))
	}
	// The client registration lasts months: register again only when the
	// one the token file carries is gone or about to lapse.
	register := func() error {
		rctx, cancel := context.WithTimeout(ctx, Timeout)
		reg, err := oidc.RegisterClient(rctx, &ssooidc.RegisterClientInput{
			ClientName: aws.String("awsrole"), ClientType: aws.String("public"), Scopes: s.scopes})
		cancel()
		if err != nil {
			return fail("register", err)
		}
		tok.ClientID, tok.ClientSecret = aws.ToString(reg.ClientId), aws.ToString(reg.ClientSecret)
		tok.RegistrationExpiresAt = time.Unix(reg.ClientSecretExpiresAt, 0).UTC()
		return nil
	}
	if tok.ClientID == "" || time.Until(tok.RegistrationExpiresAt) < time.Hour {
		if err := register(); err != nil {
			return err
		}
	}
	start := func() (*ssooidc.StartDeviceAuthorizationOutput, error) {
		dctx, cancel := context.WithTimeout(ctx, Timeout)
		defer cancel()
		return oidc.StartDeviceAuthorization(dctx, &ssooidc.StartDeviceAuthorizationInput{
			ClientId: &tok.ClientID, ClientSecret: &tok.ClientSecret, StartUrl: &s.startURL})
	}
	dev, err := start()
	var invalidClient *oidctypes.InvalidClientException
	var unauthorizedClient *oidctypes.UnauthorizedClientException
	if errors.As(err, &invalidClient) || errors.As(err, &unauthorizedClient) {
		// A registration made by another tool (for another grant) or
		// revoked: register anew, once.
		if err := register(); err != nil {
			return err
		}
		dev, err = start()
	}
	if err != nil {
		return fail("start", err)
	}
	url := aws.ToString(dev.VerificationUriComplete)
	if url == "" {
		url = aws.ToString(dev.VerificationUri)
	}
	fmt.Fprintf(tty, "awsrole: to sign in to IAM Identity Center session %s, open %s and check that it shows the code %s\n",
		s.name, credcache.OneLine(url), credcache.OneLine(aws.ToString(dev.UserCode)))
	if !l.NoBrowser {
		var refused *browser.RefusedError
		switch err := browser.Open(url); {
		case errors.As(err, &refused):
			// The address came from the OIDC service's reply.
			fmt.Fprintf(tty, "awsrole: %s; check where it leads before you open it yourself\n", err)
		case err != nil:
			fmt.Fprintf(tty, "awsrole: %s; open the address above yourself\n", err)
		}
	}
	cancelled := func() error {
		fmt.Fprintln(tty) // past the ^C the terminal echoed
		return fmt.Errorf("sign-in to IAM Identity Center session %s cancelled", s.name)
	}
	interval := time.Duration(max(dev.Interval, 1)) * time.Second
	deadline := time.Now().Add(time.Duration(max(dev.ExpiresIn, 60)) * time.Second)
	for {
		select {
		case <-ctx.Done():
			return cancelled()
		case <-time.After(interval):
		}
		if t, ok := signedInElsewhere(); ok {
			fmt.Fprintf(tty, "awsrole: signed in to IAM Identity Center session %s elsewhere, until %s\n", s.name, human.Time(t.ExpiresAt))
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sign-in to IAM Identity Center session %s: the code expired before it was confirmed", s.name)
		}
		tctx, cancel := context.WithTimeout(ctx, Timeout)
		out, err := oidc.CreateToken(tctx, &ssooidc.CreateTokenInput{ClientId: &tok.ClientID, ClientSecret: &tok.ClientSecret,
			DeviceCode: dev.DeviceCode, GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code")})
		cancel()
		if err != nil && ctx.Err() != nil {
			return cancelled()
		}
		var pending *oidctypes.AuthorizationPendingException
		var slow *oidctypes.SlowDownException
		var denied *oidctypes.AccessDeniedException
		var expired *oidctypes.ExpiredTokenException
		switch {
		case errors.As(err, &pending):
			continue
		case errors.As(err, &slow):
			interval += 5 * time.Second
			continue
		case errors.As(err, &denied):
			return fmt.Errorf("sign-in to IAM Identity Center session %s was refused in the browser", s.name)
		case errors.As(err, &expired):
			return fmt.Errorf("sign-in to IAM Identity Center session %s: the code expired before it was confirmed", s.name)
		case err != nil:
			return fail("token", err)
		}
		tok.AccessToken, tok.RefreshToken = aws.ToString(out.AccessToken), aws.ToString(out.RefreshToken)
		tok.ExpiresAt = time.Now().Add(time.Duration(out.ExpiresIn) * time.Second).UTC().Truncate(time.Second)
		data, err := json.Marshal(tok)
		if err != nil {
			return err
		}
		if err := privfile.Write(s.tokenPath, data); err != nil {
			return fmt.Errorf("save the IAM Identity Center token: %w", err)
		}
		fmt.Fprintf(tty, "awsrole: signed in to IAM Identity Center session %s until %s\n", s.name, human.Time(tok.ExpiresAt))
		return nil
	}
}

// Assignments lists every account and permission set the user signed in
// to session can reach, following every page.
func Assignments(ctx context.Context, session string) ([]wire.Assignment, error) {
	s, err := loadSSOSession(ctx, session)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*Timeout)
	defer cancel()
	src := credreq.Source{Kind: credreq.SourceSSO, SSO: &credreq.SSOSource{SSORole: credreq.SSORole{Session: session}, TokenPath: s.tokenPath}}
	if err := checkToken(src); err != nil {
		return nil, err
	}
	tok, err := ssocreds.NewSSOTokenProvider(ssooidc.NewFromConfig(s.cfg), s.tokenPath).RetrieveBearerToken(ctx)
	if err != nil {
		return nil, describeSSO(ctx, src, err)
	}
	client := sso.NewFromConfig(s.cfg)
	var out []wire.Assignment
	accounts := sso.NewListAccountsPaginator(client, &sso.ListAccountsInput{AccessToken: &tok.Value})
	for accounts.HasMorePages() {
		page, err := accounts.NextPage(ctx)
		if err != nil {
			return nil, describeSSO(ctx, src, err)
		}
		for _, a := range page.AccountList {
			roles := sso.NewListAccountRolesPaginator(client, &sso.ListAccountRolesInput{AccessToken: &tok.Value, AccountId: a.AccountId})
			for roles.HasMorePages() {
				rp, err := roles.NextPage(ctx)
				if err != nil {
					return nil, describeSSO(ctx, src, err)
				}
				for _, r := range rp.RoleList {
					out = append(out, wire.Assignment{AccountID: aws.ToString(a.AccountId), AccountName: aws.ToString(a.AccountName), RoleName: aws.ToString(r.RoleName)})
				}
			}
		}
	}
	return out, nil
}
