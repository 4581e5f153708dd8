package engine

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/human"
	"github.com/awsrole/awsrole/internal/state"
	"github.com/awsrole/awsrole/internal/transition"
)

// Project is what entering one project's role takes, decided without the
// network: the request, the source of its base credentials and the facts
// that status shows. Every path — the hook, exec, credential-process,
// direnv, status — builds it here.
type Project struct {
	Config  *dirconfig.Config
	Request credcache.Request
	Source  credcache.Source
	// Duration is what STS is asked for; CappedBy says why it is shorter
	// than the file or user config asks ("" when it is not).
	Duration time.Duration
	CappedBy string
	// Region is exported while the role is active ("" = none), and
	// RegionFrom says where it came from.
	Region, RegionFrom string
	// Watch are files whose change can change the result or mend a
	// failure: the AWS config for a profile or SSO source, the SSO token.
	Watch []string
}

// NewProject resolves cfg's request against the user's own environment
// (the originals of the managed variables, nil: unset).
func NewProject(cfg *dirconfig.Config, user *dirconfig.UserConfig, originals map[string]*string) (*Project, error) {
	req := credcache.Request{
		RoleARN:       cfg.RoleARN,
		SessionName:   cmp.Or(cfg.SessionName, user.SessionName, dirconfig.DefaultSessionName(localUser())),
		ExternalID:    cfg.ExternalID,
		SourceProfile: cfg.SourceProfile,
		MFASerial:     cfg.MFASerial,
		MFACommand:    user.MFACommand,
		SSOLogin:      user.SSOLogin == dirconfig.SSOLoginAuto,
		MFADuration:   user.SessionTokenDuration,
		Region:        cfg.Region,
		Duration:      cmp.Or(cfg.Duration, user.Duration, DefaultDuration),
		Window:        user.RefreshBefore,

		Via:               cfg.Via,
		Tags:              cfg.Tags,
		TransitiveTagKeys: cfg.TransitiveTagKeys,
		PolicyARNs:        cfg.PolicyARNs,
		Policy:            cfg.Policy,
	}
	if cfg.RoleARN != "" {
		si, err := expandSourceIdentity(cmp.Or(cfg.SourceIdentity, user.SourceIdentity))
		switch {
		case err != nil && cfg.SourceIdentity != "":
			return nil, cfg.KeyError("source_identity", err)
		case err != nil:
			return nil, fmt.Errorf("%s: source_identity: %w", user.Path, err)
		}
		req.SourceIdentity = si
	}
	if cfg.SSOAccountID != "" {
		req.SSO = credcache.SSORole{Session: cmp.Or(cfg.SSOSession, user.SSOSession), AccountID: cfg.SSOAccountID, RoleName: cfg.SSORoleName}
		if req.SSO.Session == "" {
			return nil, cfg.KeyError("sso_account_id", fmt.Errorf(`needs an sso_session: add sso_session = "NAME" (a [sso-session NAME] of %s) here or in %s`,
				awsconfig.ConfigPath(), user.Path))
		}
	}
	src, err := credcache.Resolve(req, originals, awsconfig.Load)
	var missing *credcache.MissingSessionError
	switch {
	case errors.As(err, &missing) && cfg.SSOSession != "":
		return nil, cfg.KeyError("sso_session", err)
	case errors.As(err, &missing):
		return nil, fmt.Errorf("%s: sso_session of %s: %w", cfg.Path, user.Path, err)
	case err != nil && cfg.SourceProfile != "":
		return nil, cfg.KeyError("source_profile", err)
	case err != nil:
		return nil, fmt.Errorf("assume %s: %w", req.Label(), err)
	}
	switch {
	case src.Chained && cfg.MFASerial != "":
		return nil, cfg.KeyError("mfa_serial", fmt.Errorf("cannot be used with %s: an MFA session (GetSessionToken) needs long-term keys; remove it, or take the keys from a source_profile with them", src.Describe()))
	case !src.Chained && req.MFASerial == "":
		// The user's default device goes with their long-term keys only.
		req.MFASerial = user.MFASerial
	}
	p := &Project{Config: cfg, Request: req, Source: src}
	p.Duration, p.CappedBy = req.Effective(src)
	// Fresh credentials must be outside the refresh window, or every
	// prompt would renew them: refresh_before ≥ duration would never do.
	p.Request.Window = min(p.Request.Window, p.Duration/2)
	env := credcache.Env(originals)
	switch {
	case cfg.Region != "":
		p.Region, p.RegionFrom = cfg.Region, cfg.Path
	case src.ProfileRegion != "" && env.Get("AWS_REGION") == "" && env.Get("AWS_DEFAULT_REGION") == "":
		// Unsetting AWS_PROFILE would lose the profile's region.
		p.Region, p.RegionFrom = src.ProfileRegion, fmt.Sprintf("profile %q", src.Profile)
	}
	if src.Kind != credcache.SourceEnv {
		p.Watch = append(p.Watch, awsconfig.ConfigPath(), awsconfig.CredentialsPath())
	}
	if src.SSO != nil {
		p.Watch = append(p.Watch, src.SSO.TokenPath)
	}
	return p, nil
}

// Label is what the project's credentials are for, as AWSROLE_ARN shows it.
func (p *Project) Label() string { return p.Request.Label() }

// Label is what cfg's credentials are for: its role_arn, else its IAM
// Identity Center account and permission set as a role ARN.
func Label(cfg *dirconfig.Config) string {
	return credcache.Request{RoleARN: cfg.RoleARN, SSO: credcache.SSORole{AccountID: cfg.SSOAccountID, RoleName: cfg.SSORoleName}}.Label()
}

// Desired is what a shell holds while the project's role is active with c.
func (p *Project) Desired(c credcache.Credentials, originals map[string]*string) map[string]*string {
	d := map[string]*string{
		"AWS_ACCESS_KEY_ID":         ptr(c.AccessKeyID),
		"AWS_SECRET_ACCESS_KEY":     ptr(c.SecretAccessKey),
		"AWS_SESSION_TOKEN":         ptr(c.SessionToken),
		"AWS_CREDENTIAL_EXPIRATION": ptr(c.Expiration.UTC().Format(time.RFC3339)),
		"AWSROLE_ARN":               ptr(p.Label()),
		"AWSROLE_DIR":               ptr(p.Config.Dir),
	}
	if p.Config.Environment != "" {
		d["AWSROLE_ENV"] = ptr(p.Config.Environment)
	}
	for _, name := range transition.Hidden {
		d[name] = nil
	}
	if p.Region != "" {
		d["AWS_REGION"] = ptr(p.Region)
		d["AWS_DEFAULT_REGION"] = ptr(p.Region)
	}
	if p.Source.CABundle != "" && credcache.Env(originals).Get("AWS_CA_BUNDLE") == "" {
		d["AWS_CA_BUNDLE"] = ptr(p.Source.CABundle)
	}
	return d
}

// DesiredEndpoint is what a shell holds while the project's role is active
// in endpoint mode: the endpoint's URI and the file of its token instead
// of the keys, and everything that would win over them in the SDKs' chains
// unset. The token itself is never exported: the server takes a new one
// at every start, and botocore, aws-sdk-go-v2 and the JS SDK v3 read the
// file at every fetch, so running programs follow.
func (p *Project) DesiredEndpoint(uri, tokenFile string, originals map[string]*string) map[string]*string {
	d := p.Desired(credcache.Credentials{}, originals)
	for _, name := range append(append([]string(nil), transition.Keys...), transition.EndpointHidden...) {
		d[name] = nil
	}
	d["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = ptr(uri)
	d["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = ptr(tokenFile)
	return d
}

// Watched is the state of the watched files, for telling a repeated
// failure from one the user may have mended (signed in, edited a profile).
func (p *Project) Watched() string {
	s := ""
	for _, w := range p.Watch {
		if fi, err := os.Stat(w); err == nil {
			s += fmt.Sprintf(":%d.%d", fi.ModTime().UnixNano(), fi.Size())
		} else {
			s += ":-"
		}
	}
	return s
}

// LoginSession picks the sso-session `awsrole login` signs in to when none
// is named: the one of the project that applies to dir, if its file is
// allowed (its file's, or its SSO profile's), else the user config's default, else the only one in
// ~/.aws/config.
func LoginSession(dir string, env map[string]string) (string, error) {
	user, err := dirconfig.LoadUserConfig()
	if err != nil {
		return "", err
	}
	if path, err := dirconfig.Find(dir); err == nil && path != "" {
		if j, err := dirconfig.Judge(path, user); err == nil && j.Config != nil {
			cfg := j.Config
			var act *transition.Active
			if snap, err := state.Load(env[transition.StateVar]); err == nil {
				act = &snap.Active
			}
			if p, err := NewProject(cfg, user, transition.Originals(act, env)); err == nil && p.Source.SSO != nil && p.Source.SSO.Session != "" {
				return p.Source.SSO.Session, nil
			}
		}
	}
	if user.SSOSession != "" {
		return user.SSOSession, nil
	}
	files, err := awsconfig.Load()
	if err != nil {
		return "", err
	}
	names := files.SSOSessionNames()
	switch len(names) {
	case 1:
		return names[0], nil
	case 0:
		return "", fmt.Errorf("%s has no [sso-session NAME] section; add one with sso_start_url and sso_region (aws configure sso-session does)", files.ConfigPath)
	}
	return "", fmt.Errorf("which IAM Identity Center session? name one with --sso-session: %s", human.List(names))
}

// expandSourceIdentity puts the local user name in place of {user}, and
// checks the result as STS will.
func expandSourceIdentity(s string) (string, error) {
	if s == "" || !strings.Contains(s, dirconfig.UserPlaceholder) {
		return s, nil
	}
	name := localUser()
	if i := strings.LastIndexByte(name, '\\'); i >= 0 {
		name = name[i+1:]
	}
	out := strings.ReplaceAll(s, dirconfig.UserPlaceholder, name)
	if err := dirconfig.CheckSourceIdentity(out); err != nil {
		return "", fmt.Errorf("with {user} as %q: %w", name, err)
	}
	return out, nil
}

// localUser is the login name of the user running awsrole: the account's,
// or $USER for a uid without one. The default session name and {user} in
// source_identity both come from it.
func localUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}
