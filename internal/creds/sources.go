package creds

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"github.com/aws/smithy-go"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/termsafe"
)

// profileProvider resolves a profile through the SDK's own chain (role
// profiles, credential_process, static keys): what the aws CLI would use.
func profileProvider(cfg aws.Config, src credreq.Source, env Environ) credcache.Provider {
	return credcache.ProviderFunc(func(ctx context.Context) (credcache.Credentials, error) {
		if !strings.Contains(src.Identity, "\ncredential_process=") {
			// A credential_process may ask for a code: the SDK's own
			// bound (a minute) applies to it, not the network's.
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, Timeout)
			defer cancel()
		}
		var c aws.Credentials
		stderr, err := teeStderr(func() (err error) {
			c, err = cfg.Credentials.Retrieve(ctx)
			return err
		})
		if err != nil {
			return credcache.Credentials{}, env.describeProfile(ctx, src, err, stderr)
		}
		// Keys from a credential_process or a file may be long-term: no
		// session token needed.
		return checkReply(fromSDK(c), fmt.Sprintf("profile %q", src.Profile), "its definition (and its credential_process, if any)", false)
	})
}

// ssoProvider gets an IAM Identity Center role's credentials with the
// token the user signed in with, refreshing the token (and writing it back
// for the aws CLI) when it has expired and can be refreshed. With signIn
// (not nil), a sign-in that is gone is made anew on the terminal.
func ssoProvider(cfg aws.Config, src credreq.Source, env Environ, signIn *terminalSignIn) credcache.Provider {
	s := src.SSO
	regional := cfg.Copy()
	regional.Region = s.Region
	client := sso.NewFromConfig(regional)
	p := ssocreds.New(client, s.AccountID, s.RoleName, s.StartURL, func(o *ssocreds.Options) {
		o.CachedTokenFilepath = s.TokenPath
		if !s.Legacy {
			o.SSOTokenProvider = ssocreds.NewSSOTokenProvider(ssooidc.NewFromConfig(regional), s.TokenPath)
		}
	})
	return credcache.ProviderFunc(func(ctx context.Context) (credcache.Credentials, error) {
		if err := checkToken(src); err != nil {
			return credcache.Credentials{}, err
		}
		retrieve := func() (aws.Credentials, error) {
			ctx, cancel := context.WithTimeout(ctx, Timeout)
			defer cancel()
			return p.Retrieve(ctx)
		}
		c, err := retrieve()
		switch {
		case err != nil && signIn != nil && s.Session != "" && signInGone(err):
			if c, err = signIn.run(ctx, src, retrieve); err != nil {
				return credcache.Credentials{}, err
			}
		case err != nil:
			return credcache.Credentials{}, env.describeSSO(ctx, src, err)
		}
		return checkReply(fromSDK(c), env.where("the IAM Identity Center portal", "AWS_ENDPOINT_URL_SSO", s.Region), checkEndpoint("AWS_ENDPOINT_URL_SSO"), true)
	})
}

// checkToken reads the token file the SDK is about to read, with the
// checks of every file awsrole reads (awsconfig.ReadTokenFile), so that a
// token someone else could have written is refused and a FIFO in its
// place fails at once instead of holding the SDK's read. A missing token
// passes: the SDK says the user is not signed in. The advice is never to
// take a foreign token over (chown): remove it and sign in again.
func checkToken(src credreq.Source) error {
	path := src.SSO.TokenPath
	_, err := awsconfig.ReadTokenFile(path)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	again := "sign in again: " + src.LoginCommand()
	if derr := privfile.CheckDir(filepath.Dir(path)); derr != nil {
		// Whoever can write the directory may have replaced the token.
		return fmt.Errorf("IAM Identity Center token: %w, then remove %s and %s", derr, termsafe.String(path), again)
	}
	why := credcache.OneLine(err.Error())
	if fi, lerr := os.Lstat(path); lerr == nil {
		st, _ := fi.Sys().(*syscall.Stat_t)
		switch {
		case !fi.Mode().IsRegular():
			why = "is not a regular file"
		case st != nil && int(st.Uid) != os.Geteuid():
			why = fmt.Sprintf("is owned by uid %d, not by you", st.Uid)
		case fi.Mode().Perm()&0o022 != 0:
			why = fmt.Sprintf("is writable by group or others (mode %04o)", fi.Mode().Perm())
		default:
			return fmt.Errorf("IAM Identity Center token: %s; remove it and %s", why, again)
		}
	}
	return fmt.Errorf("IAM Identity Center token %s %s; not using it: remove it and %s", termsafe.String(path), why, again)
}

func fromSDK(c aws.Credentials) credcache.Credentials {
	cr := credcache.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	if c.CanExpire {
		cr.Expiration = c.Expires.UTC()
	}
	return cr
}

// describeSSO makes one line of a failure to get SSO credentials that says
// what to do; the advice comes before any quoted cause, so cutting the
// line never cuts it.
func (e Environ) describeSSO(ctx context.Context, src credreq.Source, err error) error {
	s := src.SSO
	where := "IAM Identity Center"
	if s.Session != "" {
		where += " session " + s.Session
	}
	var (
		notFound *ssotypes.ResourceNotFoundException
		api      smithy.APIError
	)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("not signed in to %s (no token at %s); run: %s", where, s.TokenPath, src.LoginCommand())
	case signInGone(err):
		return fmt.Errorf("the sign-in to %s has expired; run: %s", where, src.LoginCommand())
	case errors.As(err, &notFound), errors.As(err, &api) && api.ErrorCode() == "ForbiddenException":
		return fmt.Errorf("%s gives you no access to account %s with permission set %q; check sso_account_id and sso_role_name (awsrole init --sso-session %s lists what you can reach)",
			where, s.AccountID, s.RoleName, cmp.Or(s.Session, "NAME"))
	}
	return e.describe(ctx, "the IAM Identity Center portal", "AWS_ENDPOINT_URL_SSO", err)
}

// signInGone reports whether err says the user must sign in again: no
// token, or one that expired and cannot be refreshed.
func signInGone(err error) bool {
	var (
		unauthorized *ssotypes.UnauthorizedException
		invalidGrant *oidctypes.InvalidGrantException
		expiredToken *oidctypes.ExpiredTokenException
		invalidToken *ssocreds.InvalidTokenError
		// The client registration the refresh needs has lapsed or
		// been revoked: a sign-in registers anew.
		invalidClient      *oidctypes.InvalidClientException
		unauthorizedClient *oidctypes.UnauthorizedClientException
	)
	return errors.Is(err, fs.ErrNotExist) || errors.As(err, &unauthorized) || errors.As(err, &invalidGrant) ||
		errors.As(err, &expiredToken) || errors.As(err, &invalidToken) || errors.As(err, &invalidClient) ||
		errors.As(err, &unauthorizedClient) || strings.Contains(err.Error(), "cannot be refreshed")
}

// describeProfile makes one line of a failure to resolve a profile;
// stderr is the first line a credential_process wrote there.
func (e Environ) describeProfile(ctx context.Context, src credreq.Source, err error, stderr string) error {
	var proc *processcreds.ProviderError
	if errors.As(err, &proc) {
		// Never the SDK's own text: for output that is not JSON it quotes
		// the process's whole stdout, keys included.
		cause := stderr
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		var exit *exec.ExitError
		switch {
		case cause != "":
		case errors.Is(err, context.DeadlineExceeded):
			cause = "it did not finish in time"
		case errors.As(err, &exit):
			cause = fmt.Sprintf("it exited with status %d", exit.ExitCode())
		case errors.As(err, &syntax), errors.As(err, &typ):
			cause = "it printed something that is not credential_process JSON (output withheld: it may hold keys)"
		default:
			cause = "it gave no usable credentials (output withheld: it may hold keys)"
		}
		return fmt.Errorf("the credential_process of profile %q failed; fix it or sign in with it first: %s", src.Profile, cause)
	}
	return fmt.Errorf("no credentials from profile %q: %w", src.Profile, e.describe(ctx, "STS", "AWS_ENDPOINT_URL_STS", err))
}

// teeStderr runs f while what child processes write to stderr (the SDK
// hands a credential_process os.Stderr) passes through a pipe to the real
// stderr, byte for byte (a prompt without a newline shows at once), and
// returns the first non-empty line written: a failing process's reason.
// A process that outlives f (the SDK gave up on it) cannot hold f's caller:
// its output is waited for a moment, then dropped.
func teeStderr(f func() error) (string, error) {
	r, w, perr := os.Pipe()
	if perr != nil {
		return "", f()
	}
	real := os.Stderr
	os.Stderr = w
	rec := &firstLine{}
	done := make(chan struct{})
	go func() {
		io.Copy(io.MultiWriter(real, rec), r)
		close(done)
	}()
	err := f()
	os.Stderr = real
	w.Close()
	select {
	case <-done:
	case <-time.After(200 * time.Millisecond):
	}
	r.Close()
	return rec.line(), err
}

// firstLine records the first non-empty line written to it.
type firstLine struct {
	mu  sync.Mutex
	buf []byte
}

func (f *firstLine) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.buf) < 4096 {
		f.buf = append(f.buf, p[:min(len(p), 4096-len(f.buf))]...)
	}
	return len(p), nil
}

func (f *firstLine) line() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range strings.Split(string(f.buf), "\n") {
		if strings.TrimSpace(l) != "" {
			return credcache.OneLine(l)
		}
	}
	return ""
}
