package creds

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"github.com/aws/smithy-go"

	"github.com/awsrole/awsrole/internal/credcache"
)

// profileProvider resolves a profile through the SDK's own chain (role
// profiles, credential_process, static keys): what the aws CLI would use.
func profileProvider(cfg aws.Config, src credcache.Source) credcache.Provider {
	return credcache.ProviderFunc(func(ctx context.Context) (Credentials, error) {
		ctx, cancel := context.WithTimeout(ctx, Timeout)
		defer cancel()
		var c aws.Credentials
		stderr, err := teeStderr(func() (err error) {
			c, err = cfg.Credentials.Retrieve(ctx)
			return err
		})
		if err != nil {
			return Credentials{}, describeProfile(ctx, src, err, stderr)
		}
		return fromSDK(c), nil
	})
}

// ssoProvider gets an IAM Identity Center role's credentials with the
// token the user signed in with, refreshing the token (and writing it back
// for the aws CLI) when it has expired and can be refreshed.
func ssoProvider(cfg aws.Config, src credcache.Source) credcache.Provider {
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
	return credcache.ProviderFunc(func(ctx context.Context) (Credentials, error) {
		ctx, cancel := context.WithTimeout(ctx, Timeout)
		defer cancel()
		c, err := p.Retrieve(ctx)
		if err != nil {
			return Credentials{}, describeSSO(ctx, src, err)
		}
		return fromSDK(c), nil
	})
}

func fromSDK(c aws.Credentials) Credentials {
	return Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		Expiration: c.Expires.UTC()}
}

// describeSSO makes one line of a failure to get SSO credentials that says
// what to do; the advice comes before any quoted cause, so cutting the
// line never cuts it.
func describeSSO(ctx context.Context, src credcache.Source, err error) error {
	s := src.SSO
	where := "IAM Identity Center"
	if s.Session != "" {
		where += " session " + s.Session
	}
	var (
		unauthorized *ssotypes.UnauthorizedException
		notFound     *ssotypes.ResourceNotFoundException
		invalidGrant *oidctypes.InvalidGrantException
		expiredToken *oidctypes.ExpiredTokenException
		invalidToken *ssocreds.InvalidTokenError
		api          smithy.APIError
	)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("not signed in to %s (no token at %s); run: %s", where, s.TokenPath, src.LoginCommand())
	case errors.As(err, &unauthorized), errors.As(err, &invalidGrant), errors.As(err, &expiredToken),
		errors.As(err, &invalidToken), strings.Contains(err.Error(), "cannot be refreshed"):
		return fmt.Errorf("the sign-in to %s has expired; run: %s", where, src.LoginCommand())
	case errors.As(err, &notFound), errors.As(err, &api) && api.ErrorCode() == "ForbiddenException":
		return fmt.Errorf("%s gives you no access to account %s with permission set %q; check sso_account_id and sso_role_name (awsrole init --sso-session %s lists what you can reach)",
			where, s.AccountID, s.RoleName, cmp.Or(s.Session, "NAME"))
	}
	return describe(ctx, "the IAM Identity Center portal", "AWS_ENDPOINT_URL_SSO", err)
}

// describeProfile makes one line of a failure to resolve a profile;
// stderr is the first line a credential_process wrote there.
func describeProfile(ctx context.Context, src credcache.Source, err error, stderr string) error {
	var proc *processcreds.ProviderError
	if errors.As(err, &proc) {
		cause := stderr
		if cause == "" {
			cause = credcache.OneLine(proc.Err.Error())
		}
		return fmt.Errorf("the credential_process of profile %q failed; fix it or sign in with it first: %s", src.Profile, cause)
	}
	return fmt.Errorf("no credentials from profile %q: %w", src.Profile, describe(ctx, "STS", "AWS_ENDPOINT_URL_STS", err))
}

// teeStderr runs f while what child processes write to stderr (the SDK
// hands a credential_process os.Stderr) passes through a pipe, and returns
// the first non-empty line written: a failing credential_process's reason.
func teeStderr(f func() error) (string, error) {
	r, w, perr := os.Pipe()
	if perr != nil {
		return "", f()
	}
	real := os.Stderr
	os.Stderr = w
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		line := ""
		for sc.Scan() {
			fmt.Fprintln(real, sc.Text())
			if line == "" && strings.TrimSpace(sc.Text()) != "" {
				line = credcache.OneLine(sc.Text())
			}
		}
		first <- line
	}()
	err := f()
	os.Stderr = real
	w.Close()
	line := <-first
	r.Close()
	return line, err
}

func endpointOf(envVar string) string {
	if v := os.Getenv(envVar); v != "" {
		return v
	}
	return os.Getenv("AWS_ENDPOINT_URL")
}
