package credreq

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/human"
)

// SourceKind is where the base credentials of a request come from.
type SourceKind string

// The kinds of source, in the order Resolve tries them.
const (
	SourceSSO     SourceKind = "sso"     // an IAM Identity Center role: the file's sso_* keys, or an SSO profile
	SourceKeys    SourceKind = "keys"    // long-term keys in the OS keyring, read only by awsrole-keyring
	SourceProfile SourceKind = "profile" // a profile of ~/.aws/config, resolved by the SDK
	SourceEnv     SourceKind = "env"     // the user's own keys in the environment
	// SourceWebIdentity (webidentity.go) comes between a source_profile
	// and the keys in the environment.
)

// Source is where a request's base credentials come from, named by what
// does not change between resolutions (never a temporary key id).
type Source struct {
	Kind     SourceKind
	Profile  string // the profile, when one is the source (an SSO profile too)
	Identity string // stable description for cache keys; holds no secret
	// Chained: the source is itself a session, so a role assumed from it
	// lasts at most ChainedMax (a credential_process may be either; the
	// helper caps when its credentials carry a session token).
	Chained bool
	// Region is the region of the calls: the file's, else the user's
	// AWS_REGION / AWS_DEFAULT_REGION, else the profile's, else us-east-1.
	Region string
	// ProfileRegion and CABundle are the source profile's settings, which
	// unsetting AWS_PROFILE would lose: exported while the role is active
	// (the region only when neither the file nor the environment names one).
	ProfileRegion, CABundle string
	SSO                     *SSOSource
	WebIdentity             *WebIdentitySource
	Keys                    *StoredKeys // a SourceKeys source's stored keys, without the secret
}

// StoredKeys are long-term keys stored in the OS keyring under Name, as
// the key index (internal/keyindex) knows them: never the secret.
type StoredKeys struct {
	Name        string
	AccessKeyID string
	MFASerial   string // the device given to awsrole keys add, if any
}

// KeysLookup finds the stored keys of a name (keyindex.Index.Lookup).
type KeysLookup func(name string) (StoredKeys, error)

// SSOSource is an IAM Identity Center role and where the user signs in.
type SSOSource struct {
	SSORole
	StartURL, Region string
	// TokenPath is the token file shared with the aws CLI and the SDKs.
	TokenPath string
	// Legacy: a profile with sso_start_url and no sso-session; its token
	// cannot be refreshed, only renewed by signing in.
	Legacy bool
}

// Describe names the source for messages.
func (s Source) Describe() string {
	switch {
	case s.SSO != nil && s.Profile != "":
		return fmt.Sprintf("the IAM Identity Center profile %q", s.Profile)
	case s.SSO != nil:
		return fmt.Sprintf("the IAM Identity Center role %s in account %s", s.SSO.RoleName, s.SSO.AccountID)
	case s.Kind == SourceProfile:
		return fmt.Sprintf("the profile %q", s.Profile)
	case s.WebIdentity != nil:
		return "the entry role " + s.WebIdentity.RoleARN + " (web identity)"
	case s.Keys != nil:
		return fmt.Sprintf("the keys %q in your keyring", s.Keys.Name)
	case s.Chained:
		return "the session credentials in your environment"
	}
	return "your access key in the environment"
}

// LoginCommand is what signs the user in again when an SSO source's token
// has expired ("" for other sources).
func (s Source) LoginCommand() string {
	switch {
	case s.SSO == nil:
		return ""
	case s.SSO.Session != "":
		return "awsrole login --sso-session " + s.SSO.Session
	}
	return "aws sso login --profile " + s.Profile
}

// Env is the user's own environment for the variables that matter here:
// nil value or missing key means unset.
type Env map[string]*string

// EnvOf is environ ("NAME=value" entries, as os.Environ gives them) as an
// Env: main reads the environment, and gives it.
func EnvOf(environ []string) Env {
	env := Env{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = &v
		}
	}
	return env
}

// Environ is e as "NAME=value" entries (os.Environ's form), sorted; an
// unset variable has none.
func (e Env) Environ() []string {
	out := make([]string, 0, len(e))
	for k, v := range e {
		if v != nil {
			out = append(out, k+"="+*v)
		}
	}
	slices.Sort(out)
	return out
}

// Get is the variable's value, "" when unset.
func (e Env) Get(name string) string {
	if v := e[name]; v != nil {
		return *v
	}
	return ""
}

// Resolve decides where req's base credentials come from, as the SDK
// would for a programmatically named profile: the file's SSO role, else
// the stored keys of source_keys (looked up in keys, without the secret),
// else source_profile, else web identity (AWS_ROLE_ARN with a token: a
// file, GitLab's variable, GitHub's OIDC request), else the keys in the
// environment, else AWS_PROFILE or AWS_DEFAULT_PROFILE, else the default
// profile. files is called only when ~/.aws must be read (never for keys in the environment with a
// region known), so the common entry stays cheap.
func Resolve(req Request, env Env, files func() (*awsconfig.Files, error), keys KeysLookup) (Source, error) {
	src, err := resolve(req, env, files, keys)
	if err != nil {
		return Source{}, err
	}
	src.Region = cmp.Or(req.Region, env.Get("AWS_REGION"), env.Get("AWS_DEFAULT_REGION"), src.ProfileRegion)
	if src.Region == "" && (src.Kind == SourceEnv || src.Kind == SourceKeys) {
		// The SDK reads the default profile's region even for keys in
		// the environment.
		if f, err := files(); err == nil {
			if p, ok := f.Profile("default"); ok {
				src.Region = p.Get("region")
			}
		}
	}
	if src.Region == "" {
		src.Region = "us-east-1"
	}
	return src, nil
}

// resolve is Resolve without the region: the file's SSO role, else the
// keys in the environment (unless a source_profile is named), else a
// profile.
func resolve(req Request, env Env, files func() (*awsconfig.Files, error), keys KeysLookup) (Source, error) {
	if req.SSO.AccountID != "" {
		return ssoRoleSource(req.SSO, files)
	}
	if req.SourceKeys != "" {
		k, err := keys(req.SourceKeys)
		if err != nil {
			return Source{}, err
		}
		// The key id changes at a rotation, and so do the credentials:
		// the name alone would hand out sessions of keys removed since.
		return Source{Kind: SourceKeys, Keys: &k, Identity: "keys\x00" + k.Name + "\x00" + k.AccessKeyID}, nil
	}
	if req.SourceProfile == "" {
		if src, ok, err := webIdentitySource(req, env); ok {
			return src, err
		}
	}
	if req.SourceProfile == "" && env.Get("AWS_ACCESS_KEY_ID") != "" && env.Get("AWS_SECRET_ACCESS_KEY") != "" {
		// The key id is stable for long-term keys; temporary keys in the
		// environment are their own identity until the user changes them.
		return Source{Kind: SourceEnv, Chained: env.Get("AWS_SESSION_TOKEN") != "",
			Identity: "env\x00" + env.Get("AWS_ACCESS_KEY_ID")}, nil
	}
	f, err := files()
	if err != nil {
		return Source{}, err
	}
	profile, err := sourceProfile(req, env, f)
	if err != nil && env.Get(RoleARNVar) != "" {
		// A CI job that means web identity but has no token.
		return Source{}, fmt.Errorf("no source credentials: %s is set but no token is: set %s or %s, or in GitHub Actions give the job permissions: id-token: write (docs/ci.md)",
			RoleARNVar, TokenFileVar, GitLabTokenVar)
	}
	if err != nil {
		return Source{}, err
	}
	return profileSource(profile, env, f)
}

// ssoRoleSource is the file's IAM Identity Center role, signed in to
// through its [sso-session].
func ssoRoleSource(role SSORole, files func() (*awsconfig.Files, error)) (Source, error) {
	f, err := files()
	if err != nil {
		return Source{}, err
	}
	sess, ok := f.SSOSession(role.Session)
	if !ok {
		return Source{}, &MissingSessionError{Name: role.Session, ConfigPath: f.ConfigPath, Known: f.SSOSessionNames()}
	}
	s := &SSOSource{SSORole: role, StartURL: sess["sso_start_url"], Region: sess["sso_region"],
		TokenPath: f.TokenPath(role.Session)}
	if s.StartURL == "" || s.Region == "" {
		return Source{}, fmt.Errorf("[sso-session %s] in %s needs sso_start_url and sso_region", role.Session, f.ConfigPath)
	}
	return Source{Kind: SourceSSO, Chained: true, SSO: s,
		Identity: fmt.Sprintf("sso\x00%s\x00%s\x00%s\x00%s\x00%s", role.Session, s.StartURL, s.Region, role.AccountID, role.RoleName)}, nil
}

// sourceProfile names the profile the credentials come from: the file's
// source_profile, else AWS_PROFILE or AWS_DEFAULT_PROFILE, else the
// default profile if it gives credentials.
func sourceProfile(req Request, env Env, f *awsconfig.Files) (string, error) {
	if profile := cmp.Or(req.SourceProfile, env.Get("AWS_PROFILE"), env.Get("AWS_DEFAULT_PROFILE")); profile != "" {
		return profile, nil
	}
	if p, ok := f.Profile("default"); !ok || !hasCredentials(p) {
		return "", errors.New("no source credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE before entering, or name a source_profile (or an IAM Identity Center role: sso_session, sso_account_id, sso_role_name) in the file")
	}
	return "default", nil
}

// profileSource is profile as the source, identified by its definition
// (and, for credential_source = Environment, the key in env).
func profileSource(profile string, env Env, f *awsconfig.Files) (Source, error) {
	p, ok := f.Profile(profile)
	if !ok {
		return Source{}, f.NotFound(profile)
	}
	if !hasCredentials(p) {
		return Source{}, fmt.Errorf("no source credentials: profile %q in %s has none (no aws_access_key_id, role_arn, sso_session, sso_start_url or credential_process)", profile, f.ConfigPath)
	}
	id, err := f.Identity(profile)
	if err != nil {
		return Source{}, err
	}
	if strings.Contains(id, "\ncredential_source=Environment\n") {
		// The chain starts from the keys in the environment: other keys,
		// other credentials, under the same profile.
		id += "environment key=" + env.Get("AWS_ACCESS_KEY_ID") + "\n"
	}
	src := Source{Kind: SourceProfile, Profile: profile, Identity: "profile\x00" + id, Chained: f.IsSession(profile),
		ProfileRegion: p.Get("region"), CABundle: p.Get("ca_bundle")}
	if p.Get("sso_account_id") != "" && p.Get("sso_role_name") != "" {
		src.Kind, src.SSO = SourceSSO, profileSSO(p, f)
	}
	return src, nil
}

// profileSSO is an SSO profile's role and portal: its sso-session's, or
// (legacy) its own sso_start_url and sso_region.
func profileSSO(p awsconfig.Profile, f *awsconfig.Files) *SSOSource {
	s := &SSOSource{SSORole: SSORole{Session: p.Get("sso_session"), AccountID: p.Get("sso_account_id"), RoleName: p.Get("sso_role_name")},
		StartURL: p.Get("sso_start_url"), Region: p.Get("sso_region")}
	if sess, ok := f.SSOSession(s.Session); ok {
		s.StartURL, s.Region = sess["sso_start_url"], sess["sso_region"]
		s.TokenPath = f.TokenPath(s.Session)
	} else {
		s.Legacy = true
		s.TokenPath = f.TokenPath(s.StartURL)
	}
	return s
}

// credentialKeys are the keys that give a profile credentials of its own
// or from elsewhere.
var credentialKeys = []string{"aws_access_key_id", "role_arn", "sso_session", "sso_start_url", "sso_account_id",
	"credential_process", "credential_source", "web_identity_token_file", "login_session"}

// HasCredentials reports whether profile p gives credentials (keys, a
// role, SSO, a process, web identity): what an SDK uses from it.
func HasCredentials(p awsconfig.Profile) bool { return hasCredentials(p) }

func hasCredentials(p awsconfig.Profile) bool {
	for _, k := range credentialKeys {
		if p.Get(k) != "" {
			return true
		}
	}
	return false
}

// MissingSessionError says an sso_session names no [sso-session] section.
type MissingSessionError struct {
	Name, ConfigPath string
	Known            []string
}

func (e *MissingSessionError) Error() string {
	msg := fmt.Sprintf("%q has no [sso-session %s] section in %s; add one with sso_start_url and sso_region (aws configure sso-session does)", e.Name, e.Name, e.ConfigPath)
	if len(e.Known) > 0 {
		msg += ", or name one of: " + human.List(e.Known)
	}
	return msg
}
