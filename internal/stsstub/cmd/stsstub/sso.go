package main

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/stsstub"
)

// ssoFlags set up IAM Identity Center for shell-driven use: who is
// assigned what, and a token in the aws CLI v2 cache so no device flow is
// needed.
type ssoFlags struct {
	assign      listFlag
	user        string
	tokenFile   string
	startURL    string
	region      string
	session     string
	tokenTTL    time.Duration
	credentials time.Duration
}

// listFlag collects a repeated string flag.
type listFlag []string

func (f *listFlag) String() string     { return strings.Join(*f, ",") }
func (f *listFlag) Set(v string) error { *f = append(*f, v); return nil }

func (f *ssoFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.assign, "sso-assign", "let the SSO user use a role (permission set): ACCOUNT:ROLE; repeatable")
	fs.StringVar(&f.user, "sso-user", "alice", "IAM Identity Center user who signs in")
	fs.StringVar(&f.tokenFile, "sso-token-file", "", "write a signed-in token to this file in the aws CLI v2 cache format (a directory: the file in it is named as the CLI names it)")
	fs.StringVar(&f.startURL, "sso-start-url", "https://stub.awsapps.com/start", "start URL recorded in the token file")
	fs.StringVar(&f.region, "sso-region", "us-east-1", "region recorded in the token file")
	fs.StringVar(&f.session, "sso-session", "", "sso-session name; names the token file; without -sso-token-file it goes to ~/.aws/sso/cache")
	fs.DurationVar(&f.tokenTTL, "sso-token-ttl", 8*time.Hour, "lifetime of the written access token; negative writes an expired one (the refresh token still works)")
	fs.DurationVar(&f.credentials, "sso-credential-duration", 0, "if >0, lifetime of GetRoleCredentials' credentials (default 1h)")
}

// apply configures s and writes the token file, if one was asked for.
func (f *ssoFlags) apply(s *stsstub.Server) error {
	s.AddSSOUser(f.user)
	for _, a := range f.assign {
		account, role, ok := strings.Cut(a, ":")
		if !ok || len(account) != 12 || role == "" {
			return fmt.Errorf("bad -sso-assign %q: want ACCOUNT:ROLE, like 222222222222:Deploy", a)
		}
		s.AssignSSO(account, role)
	}
	s.SetSSOCredentialDuration(f.credentials)
	path, err := f.tokenPath()
	if err != nil || path == "" {
		return err
	}
	access, refresh := s.IssueSSOToken(f.startURL, f.tokenTTL)
	clientID, secret, regExpires := s.SSOClient()
	const layout = "2006-01-02T15:04:05Z"
	return writeTokenCache(path, map[string]string{
		"startUrl":              f.startURL,
		"region":                f.region,
		"accessToken":           access,
		"expiresAt":             time.Now().Add(f.tokenTTL).UTC().Format(layout),
		"refreshToken":          refresh,
		"clientId":              clientID,
		"clientSecret":          secret,
		"registrationExpiresAt": regExpires.UTC().Format(layout),
	})
}

// tokenPath is where the token goes: "" for nowhere. The cache file name
// is the SHA-1 of the sso-session name, or of the start URL for profiles
// without one, as the aws CLI and the SDKs look it up.
func (f *ssoFlags) tokenPath() (string, error) {
	key := f.session
	if key == "" {
		key = f.startURL
	}
	sum := sha1.Sum([]byte(key))
	name := hex.EncodeToString(sum[:]) + ".json"
	switch {
	case f.tokenFile != "":
		if fi, err := os.Stat(f.tokenFile); err == nil && fi.IsDir() {
			return filepath.Join(f.tokenFile, name), nil
		}
		return f.tokenFile, nil
	case f.session != "":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("-sso-session without -sso-token-file: %w", err)
		}
		return filepath.Join(home, ".aws", "sso", "cache", name), nil
	}
	return "", nil
}

// writeTokenCache writes the token atomically, readable by the user only.
func writeTokenCache(path string, tok map[string]string) error {
	b, err := json.Marshal(tok)
	if err != nil {
		return err
	}
	return privfile.Write(path, b)
}
