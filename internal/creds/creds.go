// Package creds is the AWS side of the credential seam: the providers
// that need the SDK (a profile, an IAM Identity Center role, an MFA
// session, AssumeRole), each wrapped in credcache.Cached, and Handler,
// what awsrole-sts does with each call wire.Serve reads. Source credentials are only ever the
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

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/tty"
)

// Timeout bounds each call to AWS; see credcache.
const Timeout = credcache.Timeout

// Request is everything that decides which credentials come back.
type Request = credreq.Request

// Getter fetches credentials through the shared cache.
type Getter struct {
	Now    func() time.Time
	Notice io.Writer // says why a cache file was not used; may be nil
	Cache  credcache.Cache
}

// Get returns credentials for req from src (see credreq.Resolve), in the
// user's own environment env.
func (g *Getter) Get(ctx context.Context, req Request, src credreq.Source, env credreq.Env) (credcache.Credentials, error) {
	label := req.Label()
	// An IAM Identity Center sign-in the user may be asked to make, on a
	// terminal this process is in the foreground of.
	var signIn *terminalSignIn
	if req.SSOLogin && src.SSO != nil && src.SSO.Session != "" {
		if term, err := tty.Open(); err == nil {
			defer term.Close()
			signIn = &terminalSignIn{term: term, dir: g.Cache.Dir}
		}
	}
	interactive := req.MFASerial != "" || signIn != nil
	if !interactive && !strings.Contains(src.Identity, "\ncredential_process=") {
		// One bound for the whole fetch, waiting for another shell's
		// included. Behind MFA, a sign-in, or a credential_process (which
		// may ask for a code or open a browser), the user takes their
		// time; each call and wait then has its own bound (the SDK gives
		// a credential_process a minute).
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, Timeout)
		defer cancel()
	}
	if err := checkNotSelf(src); err != nil {
		return credcache.Credentials{}, fmt.Errorf("%s: %w", label, err)
	}
	cfg, err := loadConfig(ctx, src)
	if err != nil {
		return credcache.Credentials{}, fmt.Errorf("%s: %w", label, err)
	}
	steps := g.Cache.Plan(req, src)
	final := steps[len(steps)-1].Path
	cached := func(step credcache.Step, p credcache.Provider, expiring func(credcache.Credentials) bool) *credcache.Cached {
		window := req.Window
		if step.Path != final {
			// A source, MFA session or hop only has to outlast the next
			// call: the refresh window is for what the shell holds.
			window = min(window, time.Minute)
		}
		c := &credcache.Cached{Step: step, Provider: p, Window: window, Now: g.Now, Notice: g.Notice, Expiring: expiring}
		if interactive {
			// Another shell's fetch may be waiting for the user (a code,
			// a sign-in): wait for it longer than for AWS, and say so.
			c.LockWait, c.Waiting = signInWait, waitingFor(req, src, signIn != nil)
		}
		return c
	}
	var p credcache.Provider
	switch src.Kind {
	case credreq.SourceEnv:
		p = staticSource(env)
	case credreq.SourceSSO:
		p = cached(steps[0], ssoProvider(cfg, src, signIn), nil)
		steps = steps[1:]
	default:
		p = cached(steps[0], profileProvider(cfg, src), func(c credcache.Credentials) bool { return !c.Expiration.IsZero() })
		steps = steps[1:]
	}
	for _, step := range steps {
		switch step.Kind {
		case "mfa":
			p = cached(step, &mfaSession{cfg: cfg, req: req, source: p}, nil)
		case "role":
			p = cached(step, &assumeRole{cfg: cfg, req: req, hop: *step.Hop, src: src, source: p}, nil)
		}
	}
	c, err := p.Retrieve(ctx)
	var named *roleError
	if err != nil && !errors.As(err, &named) {
		err = &roleError{role: label, err: err}
	}
	return c, err
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
func loadConfig(ctx context.Context, src credreq.Source) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(src.Region)}
	if src.Kind == credreq.SourceProfile {
		opts = append(opts, config.WithSharedConfigProfile(src.Profile))
	} else {
		// The source is already decided; a profile named in the
		// environment (perhaps one that does not exist) plays no part.
		os.Unsetenv("AWS_PROFILE")
		os.Unsetenv("AWS_DEFAULT_PROFILE")
	}
	if os.Getenv("AWS_EC2_METADATA_DISABLED") != "false" {
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

// checkNotSelf refuses a source profile whose credential_process runs
// awsrole: fetching the source credentials would call awsrole again, and
// again.
func checkNotSelf(src credreq.Source) error {
	if src.Kind != credreq.SourceProfile {
		return nil
	}
	files, err := awsconfig.Load()
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
	if signIn {
		what = "perhaps signing in to IAM Identity Center session " + src.SSO.Session + "; finish that sign-in"
	}
	return fmt.Sprintf("another shell is fetching credentials for %s, %s, or press Ctrl-C to stop waiting (awsrole waits up to %s)", req.Label(), what, signInWait)
}
