// Package creds is the AWS side of the credential seam: the providers
// that need the SDK (a profile, an IAM Identity Center role, an MFA
// session, AssumeRole), each wrapped in credcache.Cached, and Serve, the
// awsrole-sts helper's request loop. Source credentials are only ever the
// user's own: the helper runs in the user's original environment, and the
// source is what credreq.Resolve names.
package creds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"

	"github.com/awsrole/awsrole/internal/browser"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/tty"
)

// Timeout bounds each call to AWS; see credcache.
const Timeout = credcache.Timeout

// Request is everything that decides which credentials come back.
type Request = credreq.Request

// Getter fetches credentials through the shared cache. Its nil seams are
// the real ones; tests give fakes.
type Getter struct {
	Now    func() time.Time
	Notice io.Writer // says why a cache file was not used; may be nil
	Cache  credcache.Cache

	// OIDC is the IAM Identity Center OIDC service of the device flow.
	OIDC func(aws.Config) OIDCAPI
	// Sleep waits d, or until ctx ends (then its error).
	Sleep func(ctx context.Context, d time.Duration) error
	// Open hands an address to the browser.
	Open func(addr string, env browser.Env) error
	// Ask prompts for one line on the terminal (tty.Ask).
	Ask func(prompt string) (string, error)
	// Terminal is the terminal an automatic sign-in talks on (tty.Open).
	Terminal func() (*os.File, error)
	// ReadKeyring reads the keys stored under a name (awsrole-keyring get).
	ReadKeyring func(ctx context.Context, name string) (StoredKeys, error)
}

func (g *Getter) now() time.Time {
	if g.Now == nil {
		return time.Now()
	}
	return g.Now()
}

func (g *Getter) sleep(ctx context.Context, d time.Duration) error {
	if g.Sleep != nil {
		return g.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (g *Getter) open(addr string, env browser.Env) error {
	if g.Open != nil {
		return g.Open(addr, env)
	}
	return browser.Open(addr, env)
}

func (g *Getter) oidc(cfg aws.Config) OIDCAPI {
	if g.OIDC != nil {
		return g.OIDC(cfg)
	}
	return ssooidc.NewFromConfig(cfg)
}

func (g *Getter) ask(prompt string) (string, error) {
	if g.Ask != nil {
		return g.Ask(prompt)
	}
	return tty.Ask(prompt)
}

func (g *Getter) terminal() (*os.File, error) {
	if g.Terminal != nil {
		return g.Terminal()
	}
	return tty.Open()
}

// Get returns credentials for req from src (see credreq.Resolve), in the
// user's own environment env.
func (g *Getter) Get(ctx context.Context, req Request, src credreq.Source, env credreq.Env) (credcache.Credentials, error) {
	e := NewEnviron(env)
	// An IAM Identity Center sign-in the user may be asked to make, on a
	// terminal this process is in the foreground of.
	signIn := g.signIn(req, src, e)
	if signIn != nil {
		defer signIn.term.Close()
	}
	if !interactive(req, src, signIn) && !strings.Contains(src.Identity, "\ncredential_process=") {
		// One bound for the whole fetch, waiting for another shell's
		// included. Behind MFA, a sign-in, or a credential_process (which
		// may ask for a code or open a browser), the user takes their
		// time; each call and wait then has its own bound (the SDK gives
		// a credential_process a minute).
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, Timeout)
		defer cancel()
	}
	p, err := g.provider(ctx, req, src, env, e, signIn)
	if err != nil {
		return credcache.Credentials{}, fmt.Errorf("%s: %w", req.Label(), err)
	}
	c, err := p.Retrieve(ctx)
	var named *roleError
	if err != nil && !errors.As(err, &named) {
		err = &roleError{role: req.Label(), err: err}
	}
	return c, err
}

// signIn is the sign-in req may make on the terminal, nil if none: only
// with sso_login = "auto", an sso-session, and a terminal.
func (g *Getter) signIn(req Request, src credreq.Source, e Environ) *terminalSignIn {
	if !req.SSOLogin || src.SSO == nil || src.SSO.Session == "" {
		return nil
	}
	term, err := g.terminal()
	if err != nil {
		return nil
	}
	return &terminalSignIn{term: term, env: e, g: g}
}

// provider is the chain of cached steps from src to req's role.
func (g *Getter) provider(ctx context.Context, req Request, src credreq.Source, env credreq.Env, e Environ, signIn *terminalSignIn) (credcache.Provider, error) {
	if err := checkNotSelf(src, e); err != nil {
		return nil, err
	}
	cfg, err := loadConfig(ctx, src, e)
	if err != nil {
		return nil, err
	}
	steps := g.Cache.Plan(req, src)
	final := steps[len(steps)-1].Path
	waits := interactive(req, src, signIn)
	cached := func(step credcache.Step, p credcache.Provider, expiring func(credcache.Credentials) bool) *credcache.Cached {
		window := req.Window
		if step.Path != final {
			// A source, MFA session or hop only has to outlast the next
			// call: the refresh window is for what the shell holds.
			window = min(window, time.Minute)
		}
		c := &credcache.Cached{Step: step, Provider: p, Window: window, Now: g.Now, Notice: g.Notice, Expiring: expiring}
		if waits {
			// Another shell's fetch may be waiting for the user (a code,
			// a sign-in, the keyring): wait for it longer than for AWS, and say so.
			c.LockWait, c.Waiting = max(signInWait, KeyringWait), waitingFor(req, src, signIn != nil)
		}
		return c
	}
	var p credcache.Provider
	switch src.Kind {
	case credreq.SourceEnv:
		p = staticSource(env)
	case credreq.SourceKeys:
		p = g.keyringSource(src, env)
	case credreq.SourceSSO:
		p = cached(steps[0], ssoProvider(cfg, src, e, signIn), nil)
		steps = steps[1:]
	case credreq.SourceWebIdentity:
		p = cached(steps[0], &webIdentity{cfg: cfg, src: src, env: env, e: e, now: g.now}, nil)
		steps = steps[1:]
	default:
		p = cached(steps[0], profileProvider(cfg, src, e), func(c credcache.Credentials) bool { return !c.Expiration.IsZero() })
		steps = steps[1:]
	}
	for _, step := range steps {
		switch step.Kind {
		case "mfa":
			p = cached(step, &mfaSession{cfg: cfg, req: req, source: p, env: e, ask: g.ask}, nil)
		case "role":
			p = cached(step, &assumeRole{cfg: cfg, req: req, hop: *step.Hop, src: src, source: p, env: e}, nil)
		}
	}
	return p, nil
}

// staticSource serves the user's own keys from the environment.
func staticSource(env credreq.Env) credcache.Provider {
	return credcache.ProviderFunc(func(context.Context) (credcache.Credentials, error) {
		return credcache.Credentials{AccessKeyID: env.Get("AWS_ACCESS_KEY_ID"), SecretAccessKey: env.Get("AWS_SECRET_ACCESS_KEY"),
			SessionToken: env.Get("AWS_SESSION_TOKEN")}, nil
	})
}

// loadConfig is the SDK config for src's calls: its region, the endpoints
// of the standard AWS environment and, for a profile, that profile's
// credential chain. Nothing else in the environment may pick a source.
func loadConfig(ctx context.Context, src credreq.Source, env Environ) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(src.Region)}
	if src.Kind == credreq.SourceProfile {
		opts = append(opts, config.WithSharedConfigProfile(src.Profile))
	} else {
		none, done, err := WithoutProfile(ctx)
		if err != nil {
			return aws.Config{}, fmt.Errorf("load AWS config: %s", credcache.OneLine(err.Error()))
		}
		defer done()
		opts = append(opts, none...)
	}
	if !env.IMDS {
		// A laptop has no instance metadata service; asking it costs
		// seconds at every failed entry. Opt in with AWS_EC2_METADATA_DISABLED=false.
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %s", credcache.OneLine(err.Error()))
	}
	// Every client made from cfg (STS, the portal, OIDC) reads bounded
	// replies.
	next := cfg.HTTPClient
	if next == nil {
		// What each client would make for itself.
		next = awshttp.NewBuildableClient()
	}
	cfg.HTTPClient = boundedClient{next: next}
	return cfg, nil
}

// WithoutProfile are the options that load the SDK's config as if neither
// AWS_PROFILE nor AWS_DEFAULT_PROFILE were set, whatever the environment
// says (perhaps a profile that does not exist): the source is decided
// already, and the process's environment is not changed (the endpoint
// server shares it between requests). The credentials come from the
// source, never the SDK's chain. The shared settings (ca_bundle, endpoint
// and retry settings) are those of [default], as the SDK reads them when no
// profile is named; when there is no [default], there are none, and since
// the SDK refuses a named profile it cannot find, an empty one stands in:
// a private temporary file of one empty section, removed by done once the
// config is loaded.
func WithoutProfile(ctx context.Context) (opts []func(*config.LoadOptions) error, done func(), err error) {
	opts = []func(*config.LoadOptions) error{
		config.WithCredentialsProvider(aws.AnonymousCredentials{}),
		config.WithSharedConfigProfile(config.DefaultSharedConfigProfile),
	}
	var missing config.SharedConfigProfileNotExistError
	if _, err := config.LoadSharedConfigProfile(ctx, config.DefaultSharedConfigProfile); !errors.As(err, &missing) {
		// Any other failure, LoadDefaultConfig reports as it would have.
		return opts, func() {}, nil
	}
	f, err := os.CreateTemp("", "awsrole-no-profile-*.ini")
	if err != nil {
		return nil, nil, err
	}
	done = func() { os.Remove(f.Name()) }
	_, err = f.WriteString("[" + config.DefaultSharedConfigProfile + "]\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		done()
		return nil, nil, err
	}
	opts = append(opts, config.WithSharedConfigFiles([]string{f.Name()}), config.WithSharedCredentialsFiles([]string{}))
	return opts, done, nil
}

// checkNotSelf refuses a source profile whose credential_process runs
// awsrole: fetching the source credentials would call awsrole again, and
// again.
func checkNotSelf(src credreq.Source, e Environ) error {
	if src.Kind != credreq.SourceProfile {
		return nil
	}
	files, err := e.AWS.Load()
	if err != nil {
		return err
	}
	if err := files.CheckCommands(); err != nil {
		return err
	}
	p, _ := files.Profile(src.Profile)
	if cp := p.Get("credential_process"); strings.Contains(cp, "awsrole") {
		return fmt.Errorf("the source profile %q gets its credentials from awsrole itself (credential_process = %s), which would call awsrole again; name a source_profile with your own credentials, or unset AWS_PROFILE", src.Profile, credcache.OneLine(cp))
	}
	return nil
}

// waitingFor is what a fetch of req says when another shell's holds it up:
// what that one may be waiting for, and how to stop waiting.
func waitingFor(req Request, src credreq.Source, signIn bool) string {
	what := "perhaps asking for the MFA code of " + req.MFASerial + "; type it there"
	switch {
	case signIn:
		what = "perhaps signing in to IAM Identity Center session " + src.SSO.Session + "; finish that sign-in"
	case req.MFASerial == "" && src.Kind == credreq.SourceKeys:
		what = "perhaps asking to unlock the keyring that holds the keys " + src.Keys.Name + "; unlock it there"
	}
	return fmt.Sprintf("another shell is fetching credentials for %s, %s, or press Ctrl-C to stop waiting (awsrole waits up to %s)", req.Label(), what, max(signInWait, KeyringWait))
}

// interactive tells whether a fetch for req from src may wait for the
// user: for an MFA code, a sign-in, or the keyring (its passphrase, or
// its unlocking).
func interactive(req Request, src credreq.Source, signIn *terminalSignIn) bool {
	return req.MFASerial != "" || signIn != nil || src.Kind == credreq.SourceKeys
}
