package engine

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/human"
	"github.com/awsrole/awsrole/internal/transition"
)

// Project is what entering one project's role takes, decided without the
// network: the request, the source of its base credentials and the facts
// that status shows. Every path — the hook, exec, credential-process,
// direnv, status — builds it here.
type Project struct {
	Config  *dirconfig.Config
	Request credreq.Request
	Source  credreq.Source
	// Duration is what STS is asked for; CappedBy says why it is shorter
	// than the file or user config asks ("" when it is not).
	Duration time.Duration
	CappedBy string
	// Region is exported while the role is active ("" = none), and
	// RegionFrom says where it came from.
	Region, RegionFrom string
	// Watch are files whose change can change the result or mend a
	// failure: the AWS config for a profile or SSO source, the SSO token,
	// the web identity token file.
	Watch []string
}

// NewProject resolves cfg's request against the user's own environment
// (the originals of the managed variables, nil: unset).
func (s Stores) NewProject(cfg *dirconfig.Config, user *dirconfig.UserConfig, originals map[string]*string) (*Project, error) {
	req, err := s.newRequest(cfg, user)
	if err != nil {
		return nil, err
	}
	src, err := credreq.Resolve(req, originals, s.AWS.Load, s.Keys.Lookup)
	if err != nil {
		return nil, sourceError(cfg, user, req, err)
	}
	switch {
	case src.Chained && cfg.MFASerial != "":
		return nil, cfg.KeyError("mfa_serial", fmt.Errorf("cannot be used with %s: an MFA session (GetSessionToken) needs long-term keys; remove it, or take the keys from a source_profile with them", src.Describe()))
	case !src.Chained && req.MFASerial == "" && src.Keys != nil:
		// The device stored with the keys, else the user's default.
		req.MFASerial = cmp.Or(src.Keys.MFASerial, user.MFASerial)
	case !src.Chained && req.MFASerial == "":
		// The user's default device goes with their long-term keys only.
		req.MFASerial = user.MFASerial
	}
	p := &Project{Config: cfg, Request: req, Source: src}
	p.Duration, p.CappedBy = req.Effective(src)
	// Fresh credentials must be outside the refresh window, or every
	// prompt would renew them: refresh_before ≥ duration would never do.
	p.Request.Window = min(p.Request.Window, p.Duration/2)
	p.Region, p.RegionFrom = region(cfg, src, credreq.Env(originals))
	switch src.Kind {
	case credreq.SourceKeys:
		// Keys added or rotated mend a failure.
		p.Watch = append(p.Watch, s.Keys.Path)
	case credreq.SourceEnv:
	default:
		p.Watch = append(p.Watch, s.AWS.Config, s.AWS.Credentials)
	}
	if src.SSO != nil {
		p.Watch = append(p.Watch, src.SSO.TokenPath)
	}
	if src.WebIdentity != nil && src.WebIdentity.TokenFile != "" {
		// A fresh token mends an expired one.
		p.Watch = append(p.Watch, src.WebIdentity.TokenFile)
	}
	return p, nil
}

// newRequest is what cfg asks of STS, with the user config's defaults.
func (s Stores) newRequest(cfg *dirconfig.Config, user *dirconfig.UserConfig) (credreq.Request, error) {
	req := credreq.Request{
		RoleARN:       cfg.RoleARN,
		SessionName:   cmp.Or(cfg.SessionName, user.SessionName, dirconfig.DefaultSessionName(s.userName())),
		ExternalID:    cfg.ExternalID,
		SourceProfile: cfg.SourceProfile,
		SourceKeys:    cfg.SourceKeys,
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
		si, err := s.expandSourceIdentity(cmp.Or(cfg.SourceIdentity, user.SourceIdentity))
		switch {
		case err != nil && cfg.SourceIdentity != "":
			return req, cfg.KeyError("source_identity", err)
		case err != nil:
			return req, fmt.Errorf("%s: source_identity: %w", user.Path, err)
		}
		req.SourceIdentity = si
	}
	if req.SourceKeys == "" && cfg.SourceProfile == "" && cfg.SSOAccountID == "" {
		// The user's stored keys are the default source of a file that
		// names none.
		req.SourceKeys = user.SourceKeys
	}
	if cfg.SSOAccountID != "" {
		req.SSO = credreq.SSORole{Session: cmp.Or(cfg.SSOSession, user.SSOSession), AccountID: cfg.SSOAccountID, RoleName: cfg.SSORoleName}
		if req.SSO.Session == "" {
			return req, cfg.KeyError("sso_account_id", fmt.Errorf(`needs an sso_session: add sso_session = "NAME" (a [sso-session NAME] of %s) here or in %s`,
				s.AWS.Config, user.Path))
		}
	}
	return req, nil
}

// sourceError says which key of which file to fix when the source of
// req's base credentials cannot be resolved (err).
func sourceError(cfg *dirconfig.Config, user *dirconfig.UserConfig, req credreq.Request, err error) error {
	var missing *credreq.MissingSessionError
	switch {
	case errors.As(err, &missing) && cfg.SSOSession != "":
		return cfg.KeyError("sso_session", err)
	case errors.As(err, &missing):
		return fmt.Errorf("%s: sso_session of %s: %w", cfg.Path, user.Path, err)
	case cfg.SourceProfile != "":
		return cfg.KeyError("source_profile", err)
	case cfg.SourceKeys != "":
		return cfg.KeyError("source_keys", err)
	case req.SourceKeys != "":
		return fmt.Errorf("%s: source_keys: %w", user.Path, err)
	}
	return fmt.Errorf("assume %s: %w", req.Label(), err)
}

// region is the region exported while cfg's role is active, and where it
// comes from ("" when none).
func region(cfg *dirconfig.Config, src credreq.Source, env credreq.Env) (region, from string) {
	switch {
	case cfg.Region != "":
		return cfg.Region, cfg.Path
	case src.ProfileRegion != "" && env.Get("AWS_REGION") == "" && env.Get("AWS_DEFAULT_REGION") == "":
		// Unsetting AWS_PROFILE would lose the profile's region.
		return src.ProfileRegion, fmt.Sprintf("profile %q", src.Profile)
	}
	return "", ""
}

// Label is what the project's credentials are for, as AWSROLE_ARN shows it.
func (p *Project) Label() string { return p.Request.Label() }

// Label is what cfg's credentials are for: its role_arn, else its IAM
// Identity Center account and permission set as a role ARN.
func Label(cfg *dirconfig.Config) string {
	return credreq.Request{RoleARN: cfg.RoleARN, SSO: credreq.SSORole{AccountID: cfg.SSOAccountID, RoleName: cfg.SSORoleName}}.Label()
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
	if p.Source.CABundle != "" && credreq.Env(originals).Get("AWS_CA_BUNDLE") == "" {
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
func (e *Engine) LoginSession(dir string, env map[string]string) (string, error) {
	r := e.Resolve(dir, env)
	if r.UserErr != nil {
		return "", r.UserErr
	}
	if r.Config() != nil {
		if p, err := r.Project(); err == nil && p.Source.SSO != nil && p.Source.SSO.Session != "" {
			return p.Source.SSO.Session, nil
		}
	}
	if r.User.SSOSession != "" {
		return r.User.SSOSession, nil
	}
	files, err := e.AWS.Load()
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
func (st Stores) expandSourceIdentity(s string) (string, error) {
	if s == "" || !strings.Contains(s, dirconfig.UserPlaceholder) {
		return s, nil
	}
	name := st.userName()
	if i := strings.LastIndexByte(name, '\\'); i >= 0 {
		name = name[i+1:]
	}
	out := strings.ReplaceAll(s, dirconfig.UserPlaceholder, name)
	if err := dirconfig.CheckSourceIdentity(out); err != nil {
		return "", fmt.Errorf("with {user} as %q: %w", name, err)
	}
	return out, nil
}

// userName is the local user's login name (Stores.UserName), "" when
// not given. The default session name and {user} in source_identity both
// come from it.
func (s Stores) userName() string {
	if s.UserName == nil {
		return ""
	}
	return s.UserName()
}
