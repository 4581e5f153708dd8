package creds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

func loadSSOSession(ctx context.Context, name string, env Environ) (*ssoSession, error) {
	files, err := env.AWS.Load()
	if err != nil {
		return nil, err
	}
	sec, ok := files.SSOSession(name)
	if !ok {
		return nil, fmt.Errorf("no [sso-session %s] in %s; add one with sso_start_url and sso_region (known sessions: %s)", name, files.ConfigPath, human.List(files.SSOSessionNames()))
	}
	s := &ssoSession{name: name, startURL: sec["sso_start_url"], region: sec["sso_region"], tokenPath: files.TokenPath(name),
		scopes: []string{"sso:account:access"}}
	if s.startURL == "" || s.region == "" {
		return nil, fmt.Errorf("[sso-session %s] in %s needs sso_start_url and sso_region", name, files.ConfigPath)
	}
	if v := sec["sso_registration_scopes"]; v != "" {
		s.scopes = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	}
	s.cfg, err = loadConfig(ctx, credreq.Source{Kind: credreq.SourceSSO, Region: s.region}, env)
	return s, err
}

// OIDCAPI is the three calls of the device flow to the IAM Identity Center
// OIDC service (ssooidc.Client has them).
type OIDCAPI interface {
	RegisterClient(ctx context.Context, in *ssooidc.RegisterClientInput, opts ...func(*ssooidc.Options)) (*ssooidc.RegisterClientOutput, error)
	StartDeviceAuthorization(ctx context.Context, in *ssooidc.StartDeviceAuthorizationInput, opts ...func(*ssooidc.Options)) (*ssooidc.StartDeviceAuthorizationOutput, error)
	CreateToken(ctx context.Context, in *ssooidc.CreateTokenInput, opts ...func(*ssooidc.Options)) (*ssooidc.CreateTokenOutput, error)
}

// Login signs the user in to an sso-session with the OIDC device flow and
// writes the token where the aws CLI keeps it. Messages go to tty; env is
// the user's own environment.
func (g *Getter) Login(ctx context.Context, l wire.Login, tty io.Writer, env credreq.Env) error {
	return g.login(ctx, l, tty, NewEnviron(env))
}

func (g *Getter) login(ctx context.Context, l wire.Login, tty io.Writer, e Environ) error {
	s, err := loadSSOSession(ctx, l.Session, e)
	if err != nil {
		return err
	}
	f := &deviceFlow{g: g, oidc: g.oidc(s.cfg), s: s, env: e, out: tty}
	f.readToken()
	if err := f.registered(ctx); err != nil {
		return err
	}
	dev, err := f.start(ctx)
	if err != nil {
		return err
	}
	f.show(dev, l.NoBrowser)
	return f.poll(ctx, dev)
}

// deviceFlow is one sign-in to an sso-session by the OIDC device flow.
type deviceFlow struct {
	g    *Getter // its clock, sleep and browser
	oidc OIDCAPI
	s    *ssoSession
	env  Environ
	out  io.Writer // the user's terminal
	// tok is the token being made; old the one on file before, and
	// expired whether it had.
	tok, old awsconfig.Token
	expired  bool
}

// readToken starts the new token from the one on file: for the same portal
// and region, its client registration may serve.
func (f *deviceFlow) readToken() {
	f.tok = awsconfig.Token{StartURL: f.s.startURL, Region: f.s.region}
	old, err := awsconfig.ReadTokenFile(f.s.tokenPath)
	if err == nil && old.StartURL == f.s.startURL && old.Region == f.s.region {
		f.tok.ClientID, f.tok.ClientSecret, f.tok.RegistrationExpiresAt = old.ClientID, old.ClientSecret, old.RegistrationExpiresAt
	}
	f.old, f.expired = old, old.ExpiresAt.Before(f.g.now())
}

// signedInElsewhere is a new, valid token for this portal that another
// sign-in (aws sso login, awsrole login in another terminal) wrote while
// this one waited: it serves, and this wait ends. Only when the token on
// file had expired: a valid one may just be refreshed by an SDK
// meanwhile, which is no sign-in.
func (f *deviceFlow) signedInElsewhere() (awsconfig.Token, bool) {
	t, err := awsconfig.ReadTokenFile(f.s.tokenPath)
	return t, f.expired && err == nil && t.StartURL == f.s.startURL && t.Region == f.s.region && t.AccessToken != "" &&
		t.AccessToken != f.old.AccessToken && t.ExpiresAt.After(f.g.now().Add(time.Minute))
}

func (f *deviceFlow) fail(ctx context.Context, step string, err error) error {
	return fmt.Errorf("sign-in to IAM Identity Center session %s: %s: %w", f.s.name, step, f.env.describe(ctx, "IAM Identity Center", "AWS_ENDPOINT_URL_SSO_OIDC", err))
}

// registered registers the client when the registration the token file
// carries is gone or about to lapse: one lasts months.
func (f *deviceFlow) registered(ctx context.Context) error {
	if f.tok.ClientID == "" || f.tok.RegistrationExpiresAt.Sub(f.g.now()) < time.Hour {
		return f.register(ctx)
	}
	return nil
}

func (f *deviceFlow) register(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	reg, err := f.oidc.RegisterClient(rctx, &ssooidc.RegisterClientInput{
		ClientName: aws.String("awsrole"), ClientType: aws.String("public"), Scopes: f.s.scopes})
	if err != nil {
		return f.fail(ctx, "register", err)
	}
	f.tok.ClientID, f.tok.ClientSecret = aws.ToString(reg.ClientId), aws.ToString(reg.ClientSecret)
	f.tok.RegistrationExpiresAt = time.Unix(reg.ClientSecretExpiresAt, 0).UTC()
	return nil
}

// start asks for a device code; a registration made by another tool (for
// another grant) or revoked is made anew, once.
func (f *deviceFlow) start(ctx context.Context) (*ssooidc.StartDeviceAuthorizationOutput, error) {
	call := func() (*ssooidc.StartDeviceAuthorizationOutput, error) {
		dctx, cancel := context.WithTimeout(ctx, Timeout)
		defer cancel()
		return f.oidc.StartDeviceAuthorization(dctx, &ssooidc.StartDeviceAuthorizationInput{
			ClientId: &f.tok.ClientID, ClientSecret: &f.tok.ClientSecret, StartUrl: &f.s.startURL})
	}
	dev, err := call()
	var invalidClient *oidctypes.InvalidClientException
	var unauthorizedClient *oidctypes.UnauthorizedClientException
	if errors.As(err, &invalidClient) || errors.As(err, &unauthorizedClient) {
		if err := f.register(ctx); err != nil {
			return nil, err
		}
		dev, err = call()
	}
	if err != nil {
		return nil, f.fail(ctx, "start", err)
	}
	return dev, nil
}

// show tells the user where to confirm the code, and opens it in the
// browser unless noBrowser.
func (f *deviceFlow) show(dev *ssooidc.StartDeviceAuthorizationOutput, noBrowser bool) {
	url := aws.ToString(dev.VerificationUriComplete)
	if url == "" {
		url = aws.ToString(dev.VerificationUri)
	}
	fmt.Fprintf(f.out, "awsrole: to sign in to IAM Identity Center session %s, open %s and check that it shows the code %s\n",
		f.s.name, credcache.OneLine(url), credcache.OneLine(aws.ToString(dev.UserCode)))
	if noBrowser {
		return
	}
	var refused *browser.RefusedError
	switch err := f.g.open(url, f.env.Browser); {
	case errors.As(err, &refused):
		// The address came from the OIDC service's reply.
		fmt.Fprintf(f.out, "awsrole: %s; check where it leads before you open it yourself\n", err)
	case err != nil:
		fmt.Fprintf(f.out, "awsrole: %s; open the address above yourself\n", err)
	}
}

func (f *deviceFlow) cancelled() error {
	fmt.Fprintln(f.out) // past the ^C the terminal echoed
	return fmt.Errorf("sign-in to IAM Identity Center session %s cancelled", f.s.name)
}

func (f *deviceFlow) codeExpired() error {
	return fmt.Errorf("sign-in to IAM Identity Center session %s: the code expired before it was confirmed", f.s.name)
}

// poll asks for the token every interval the service set until the user
// confirms the code, refuses it, or it expires, or another sign-in
// serves.
func (f *deviceFlow) poll(ctx context.Context, dev *ssooidc.StartDeviceAuthorizationOutput) error {
	interval := time.Duration(max(dev.Interval, 1)) * time.Second
	deadline := f.g.now().Add(time.Duration(max(dev.ExpiresIn, 60)) * time.Second)
	for {
		if err := f.g.sleep(ctx, interval); err != nil || ctx.Err() != nil {
			return f.cancelled()
		}
		if t, ok := f.signedInElsewhere(); ok {
			fmt.Fprintf(f.out, "awsrole: signed in to IAM Identity Center session %s elsewhere, until %s\n", f.s.name, human.Time(t.ExpiresAt))
			return nil
		}
		if f.g.now().After(deadline) {
			return f.codeExpired()
		}
		out, err := f.createToken(ctx, dev)
		if err != nil && ctx.Err() != nil {
			return f.cancelled()
		}
		if err != nil {
			slower, again, err := f.pending(ctx, err)
			if !again {
				return err
			}
			interval += slower
			continue
		}
		return f.save(out)
	}
}

func (f *deviceFlow) createToken(ctx context.Context, dev *ssooidc.StartDeviceAuthorizationOutput) (*ssooidc.CreateTokenOutput, error) {
	tctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	return f.oidc.CreateToken(tctx, &ssooidc.CreateTokenInput{ClientId: &f.tok.ClientID, ClientSecret: &f.tok.ClientSecret,
		DeviceCode: dev.DeviceCode, GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code")})
}

// pending reads a failed CreateToken: ask again (slower by how much), or
// end with the error.
func (f *deviceFlow) pending(ctx context.Context, err error) (slower time.Duration, again bool, _ error) {
	var pending *oidctypes.AuthorizationPendingException
	var slow *oidctypes.SlowDownException
	var denied *oidctypes.AccessDeniedException
	var expired *oidctypes.ExpiredTokenException
	switch {
	case errors.As(err, &pending):
		return 0, true, nil
	case errors.As(err, &slow):
		return 5 * time.Second, true, nil
	case errors.As(err, &denied):
		return 0, false, fmt.Errorf("sign-in to IAM Identity Center session %s was refused in the browser", f.s.name)
	case errors.As(err, &expired):
		return 0, false, f.codeExpired()
	}
	return 0, false, f.fail(ctx, "token", err)
}

// save writes the token where the aws CLI keeps it.
func (f *deviceFlow) save(out *ssooidc.CreateTokenOutput) error {
	f.tok.AccessToken, f.tok.RefreshToken = aws.ToString(out.AccessToken), aws.ToString(out.RefreshToken)
	f.tok.ExpiresAt = f.g.now().Add(time.Duration(out.ExpiresIn) * time.Second).UTC().Truncate(time.Second)
	data, err := json.Marshal(f.tok)
	if err != nil {
		return err
	}
	if err := privfile.Write(f.s.tokenPath, data); err != nil {
		return fmt.Errorf("save the IAM Identity Center token: %w", err)
	}
	fmt.Fprintf(f.out, "awsrole: signed in to IAM Identity Center session %s until %s\n", f.s.name, human.Time(f.tok.ExpiresAt))
	return nil
}

// Assignments lists every account and permission set the user signed in
// to session can reach, following every page; env is the user's own
// environment.
func (g *Getter) Assignments(ctx context.Context, session string, env credreq.Env) ([]wire.Assignment, error) {
	e := NewEnviron(env)
	s, err := loadSSOSession(ctx, session, e)
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
		return nil, e.describeSSO(ctx, src, err)
	}
	client := sso.NewFromConfig(s.cfg)
	var out []wire.Assignment
	accounts := sso.NewListAccountsPaginator(client, &sso.ListAccountsInput{AccessToken: &tok.Value})
	for accounts.HasMorePages() {
		page, err := accounts.NextPage(ctx)
		if err != nil {
			return nil, e.describeSSO(ctx, src, err)
		}
		for _, a := range page.AccountList {
			roles := sso.NewListAccountRolesPaginator(client, &sso.ListAccountRolesInput{AccessToken: &tok.Value, AccountId: a.AccountId})
			for roles.HasMorePages() {
				rp, err := roles.NextPage(ctx)
				if err != nil {
					return nil, e.describeSSO(ctx, src, err)
				}
				for _, r := range rp.RoleList {
					out = append(out, wire.Assignment{AccountID: aws.ToString(a.AccountId), AccountName: aws.ToString(a.AccountName), RoleName: aws.ToString(r.RoleName)})
				}
			}
		}
	}
	return out, nil
}
