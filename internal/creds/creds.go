// Package creds turns a role request into temporary credentials: source
// credentials from the user's own environment (never from what awsrole
// injected) or a source_profile, AssumeRole through STS, and a cache shared
// by every shell, guarded by a file lock so N shells entering at once cost
// one STS call.
package creds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/gofrs/flock"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/transition"
)

// Timeout bounds one whole fetch; see credcache.
const Timeout = credcache.Timeout

// Request is everything that decides which credentials come back.
type Request = credcache.Request

// Credentials are temporary credentials for a role.
type Credentials = credcache.Credentials

// AssumeRoleAPI is the one STS call awsrole needs for a role.
type AssumeRoleAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, opts ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

// Getter fetches credentials, from the cache when they have more than the
// request's window left.
type Getter struct {
	Now    func() time.Time
	Notice io.Writer // says why a cache file was not used; may be nil
}

// CacheDir is where assumed credentials are cached.
func CacheDir() string { return credcache.Dir() }

// Get returns credentials for req.
func (g *Getter) Get(ctx context.Context, req Request) (Credentials, error) {
	sctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	cfg, err := sourceConfig(sctx, req)
	if err != nil {
		return Credentials{}, err
	}
	src, err := cfg.Credentials.Retrieve(sctx)
	if err != nil {
		return Credentials{}, fmt.Errorf("assume %s: no source credentials (%s); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE before entering, or name a source_profile", req.RoleARN, oneLine(err.Error()))
	}
	req = req.Effective()
	path := credcache.Path(req, src.AccessKeyID, cfg.Region)
	notice := &oneNotice{w: g.Notice}
	if c, ok := g.cached(path, req.RoleARN, req.Window, notice); ok {
		return c, nil
	}
	if err := privfile.Dir(CacheDir()); err != nil {
		return Credentials{}, err
	}
	lock := flock.New(path + ".lock")
	// Waiting for another shell's fetch counts against the same bound as
	// fetching: a prompt never waits for two STS timeouts in a row.
	if ok, err := lock.TryLockContext(sctx, 20*time.Millisecond); err != nil || !ok {
		return Credentials{}, fmt.Errorf("assume %s: another awsrole is still fetching these credentials (lock %s)", req.RoleARN, path+".lock")
	}
	defer lock.Unlock()
	if c, ok := g.cached(path, req.RoleARN, req.Window, nil); ok {
		return c, nil
	}
	api := sts.NewFromConfig(cfg)
	actx := sctx
	if req.MFASerial != "" {
		// One code serves every role with this device until the MFA
		// session lapses: assume from that session.
		sess, err := g.sessionFor(ctx, cfg, req, src)
		if err != nil {
			return Credentials{}, err
		}
		api = sts.NewFromConfig(cfg, func(o *sts.Options) { o.Credentials = staticProvider(sess) })
		// The code was typed at leisure: STS gets its own bound.
		var acancel context.CancelFunc
		actx, acancel = context.WithTimeout(ctx, Timeout)
		defer acancel()
	}
	c, err := assume(actx, api, req)
	if err != nil {
		return Credentials{}, err
	}
	if !c.Expiration.After(g.Now().Add(req.Window)) {
		return Credentials{}, fmt.Errorf("assume %s: STS returned credentials that expire at %s, within the refresh window; check the machine's clock", req.RoleARN, c.Expiration.Format(time.RFC3339))
	}
	data, _ := json.Marshal(c)
	if err := privfile.Write(path, data); err != nil {
		// The cache only saves STS calls; the credentials are good
		// without it.
		fmt.Fprintf(notice, "awsrole: could not cache credentials: %s\n", oneLine(err.Error()))
		return c, nil
	}
	privfile.CleanTemp(CacheDir(), time.Minute)
	return c, nil
}

// oneNotice passes on the first notice and drops the rest, so that one
// damaged cache entry costs one line, however many steps stumble on it.
type oneNotice struct {
	w    io.Writer
	done bool
}

func (o *oneNotice) Write(p []byte) (int, error) {
	if o.w == nil || o.done {
		return len(p), nil
	}
	o.done = true
	return o.w.Write(p)
}

// cached returns role's credentials cached at path if they have more than
// window left; a file it cannot use is reported to notice (if not nil).
func (g *Getter) cached(path, role string, window time.Duration, notice io.Writer) (Credentials, bool) {
	return credcache.Lookup(path, role, window, g.Now(), notice)
}

// sourceConfig loads the SDK config from the user's own environment: the
// managed variables are set to their originals first, so credentials
// awsrole exported can never be the source.
func sourceConfig(ctx context.Context, req Request) (aws.Config, error) {
	for _, name := range transition.Managed() {
		if v := req.Source[name]; v != nil {
			os.Setenv(name, *v)
		} else {
			os.Unsetenv(name)
		}
	}
	opts := []func(*config.LoadOptions) error{}
	if req.SourceProfile != "" {
		opts = append(opts, config.WithSharedConfigProfile(req.SourceProfile))
	}
	if os.Getenv("AWS_EC2_METADATA_DISABLED") != "false" {
		// A laptop has no instance metadata service; asking it costs
		// seconds at every failed entry. Opt in with AWS_EC2_METADATA_DISABLED=false.
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	if err := checkNotSelf(ctx, req); err != nil {
		return aws.Config{}, err
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("assume %s: load AWS config: %s", req.RoleARN, oneLine(err.Error()))
	}
	switch {
	case req.Region != "":
		cfg.Region = req.Region
	case cfg.Region == "":
		cfg.Region = "us-east-1"
	}
	return cfg, nil
}

// checkNotSelf refuses a source profile whose credential_process runs
// awsrole: fetching the source credentials would call awsrole again, and
// again.
func checkNotSelf(ctx context.Context, req Request) error {
	profile := req.SourceProfile
	if profile == "" {
		if nonEmpty(req.Source["AWS_ACCESS_KEY_ID"]) && nonEmpty(req.Source["AWS_SECRET_ACCESS_KEY"]) {
			return nil // keys in the environment win over any profile
		}
		for _, name := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
			if v := req.Source[name]; nonEmpty(v) && profile == "" {
				profile = *v
			}
		}
	}
	if profile == "" {
		return nil
	}
	sc, err := config.LoadSharedConfigProfile(ctx, profile, func(o *config.LoadSharedConfigOptions) {
		if f := os.Getenv("AWS_CONFIG_FILE"); f != "" {
			o.ConfigFiles = []string{f}
		}
		if f := os.Getenv("AWS_SHARED_CREDENTIALS_FILE"); f != "" {
			o.CredentialsFiles = []string{f}
		}
	})
	if err != nil || !strings.Contains(sc.CredentialProcess, "awsrole") {
		return nil
	}
	return fmt.Errorf("assume %s: the source profile %q gets its credentials from awsrole itself (credential_process = %s), which would call awsrole again; name a source_profile with your own credentials, or unset AWS_PROFILE", req.RoleARN, profile, oneLine(sc.CredentialProcess))
}

func assume(ctx context.Context, api AssumeRoleAPI, req Request) (Credentials, error) {
	in := &sts.AssumeRoleInput{
		RoleArn:         aws.String(req.RoleARN),
		RoleSessionName: aws.String(req.SessionName),
	}
	if req.Duration > 0 {
		in.DurationSeconds = aws.Int32(int32(req.Duration / time.Second))
	}
	if req.ExternalID != "" {
		in.ExternalId = aws.String(req.ExternalID)
	}
	out, err := api.AssumeRole(ctx, in)
	if err != nil {
		return Credentials{}, describe(ctx, req.RoleARN, err)
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil || c.Expiration == nil {
		return Credentials{}, fmt.Errorf("assume %s: STS answered without complete credentials", req.RoleARN)
	}
	return Credentials{
		AccessKeyID:     *c.AccessKeyId,
		SecretAccessKey: *c.SecretAccessKey,
		SessionToken:    *c.SessionToken,
		Expiration:      c.Expiration.UTC(),
		RoleARN:         req.RoleARN,
	}, nil
}

// describe makes one line of an STS failure: the role and the cause.
func describe(ctx context.Context, role string, err error) error {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_STS")
	if endpoint == "" {
		endpoint = "STS"
	}
	var api smithy.APIError
	var netErr *net.OpError
	var garbled *smithy.DeserializationError
	switch {
	case errors.As(err, &api):
		return fmt.Errorf("assume %s: %s: %s", role, api.ErrorCode(), oneLine(api.ErrorMessage()))
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return fmt.Errorf("assume %s: %s did not answer within %s; check the network or AWS_ENDPOINT_URL_STS", role, endpoint, Timeout)
	case errors.As(err, &netErr):
		return fmt.Errorf("assume %s: cannot reach %s: %s", role, endpoint, oneLine(netErr.Err.Error()))
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("assume %s: %s closed the connection without answering; check the network or AWS_ENDPOINT_URL_STS", role, endpoint)
	case errors.As(err, &garbled):
		return fmt.Errorf("assume %s: %s did not answer like STS (%s); check AWS_ENDPOINT_URL_STS or a proxy in between", role, endpoint, oneLine(garbled.Err.Error()))
	}
	return fmt.Errorf("assume %s: %s", role, oneLine(err.Error()))
}

func nonEmpty(v *string) bool { return v != nil && *v != "" }

func oneLine(s string) string { return credcache.OneLine(s) }
