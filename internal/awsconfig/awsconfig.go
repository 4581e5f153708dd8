// Package awsconfig reads the user's shared AWS files (~/.aws/config and
// ~/.aws/credentials) without the AWS SDK: enough to name a profile's
// stable identity for the credential cache, its region and CA bundle, the
// IAM Identity Center session it signs in with, and nearby names when a
// profile does not exist. Both awsrole (on the prompt's path, which must not
// link the SDK) and awsrole-sts read the files through this package, so the
// two agree on what a profile is.
package awsconfig

import (
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/ini.v1"

	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/suggest"
)

// maxFileSize bounds what is read of either file; real ones are a few KiB.
const maxFileSize = 4 << 20

// Files are the user's shared config and credentials files, parsed.
type Files struct {
	ConfigPath, CredentialsPath string
	SSOCache                    string // where IAM Identity Center tokens are (TokenPath)

	profiles    map[string]map[string]string // name -> keys, credentials file over config file
	ssoSessions map[string]map[string]string
	infos       map[string]fs.FileInfo // of the files read, as opened
}

// Paths are where the shared config and credentials files and the IAM
// Identity Center token cache are: named once from the environment
// (PathsFromEnv, in cmd and awsrole-sts's main) and handed down.
type Paths struct {
	Config, Credentials string
	SSOCache            string // ~/.aws/sso/cache, as the aws CLI and the SDKs have it
}

// PathsFromEnv is AWS_CONFIG_FILE or ~/.aws/config, AWS_SHARED_CREDENTIALS_FILE
// or ~/.aws/credentials, and ~/.aws/sso/cache, with ~ the HOME getenv
// gives (getenv: os.Getenv, or a lookup in the user's own environment).
func PathsFromEnv(getenv func(string) string) Paths {
	home := getenv("HOME")
	if !filepath.IsAbs(home) {
		home, _ = os.UserHomeDir()
	}
	return Paths{
		Config:      cmp.Or(getenv("AWS_CONFIG_FILE"), filepath.Join(home, ".aws", "config")),
		Credentials: cmp.Or(getenv("AWS_SHARED_CREDENTIALS_FILE"), filepath.Join(home, ".aws", "credentials")),
		SSOCache:    filepath.Join(home, ".aws", "sso", "cache"),
	}
}

// Load reads both files; a missing file is empty.
func (p Paths) Load() (*Files, error) {
	f := &Files{ConfigPath: p.Config, CredentialsPath: p.Credentials, SSOCache: p.SSOCache,
		profiles: map[string]map[string]string{}, ssoSessions: map[string]map[string]string{}, infos: map[string]fs.FileInfo{}}
	cfg, err := f.parse(f.ConfigPath)
	if err != nil {
		return nil, err
	}
	for _, s := range cfg.Sections() {
		name := strings.TrimSpace(s.Name())
		switch {
		case name == "default" || name == "profile default":
			merge(f.profiles, "default", s)
		case strings.HasPrefix(name, "profile "):
			merge(f.profiles, strings.TrimSpace(strings.TrimPrefix(name, "profile ")), s)
		case strings.HasPrefix(name, "sso-session "):
			merge(f.ssoSessions, strings.TrimSpace(strings.TrimPrefix(name, "sso-session ")), s)
		}
	}
	creds, err := f.parse(f.CredentialsPath)
	if err != nil {
		return nil, err
	}
	for _, s := range creds.Sections() {
		if name := strings.TrimSpace(s.Name()); name != ini.DefaultSection || len(s.Keys()) > 0 {
			merge(f.profiles, name, s)
		}
	}
	return f, nil
}

func (f *Files) parse(path string) (*ini.File, error) {
	data, fi, err := readRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ini.Empty(), nil
	}
	if err != nil {
		return nil, err
	}
	f.infos[path] = fi
	file, err := ini.LoadSources(ini.LoadOptions{
		AllowNestedValues:       true, // s3 =\n  max_concurrent_requests = 10
		IgnoreInlineComment:     true, // as botocore: '#' inside a value is the value
		SkipUnrecognizableLines: true,
		AllowShadows:            false,
	}, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %s; fix the file (it is also read by the aws CLI and every SDK)", path, oneLine(err.Error()))
	}
	return file, nil
}

// readRegular reads a regular file, refusing devices and FIFOs without
// blocking on them, and anything over maxFileSize.
func readRegular(path string) ([]byte, fs.FileInfo, error) {
	data, fi, err := privfile.ReadLimited(path, maxFileSize, true, nil)
	var notRegular *privfile.NotRegularError
	var tooBig *privfile.TooBigError
	switch {
	case errors.As(err, &notRegular):
		return nil, nil, fmt.Errorf("%s is not a regular file; replace it with your AWS config", path)
	case errors.As(err, &tooBig):
		return nil, nil, fmt.Errorf("%s is larger than %d MiB; that is not an AWS config file", path, maxFileSize>>20)
	}
	return data, fi, err
}

// CheckCommands refuses files someone else could have written when they
// name a command (credential_process) that the SDK would run as you: the
// same check as for awsrole's own files.
func (f *Files) CheckCommands() error {
	for _, keys := range f.profiles {
		if keys["credential_process"] == "" {
			continue
		}
		for path, fi := range f.infos {
			if err := privfile.CheckOwner(path, fi); err != nil {
				return fmt.Errorf("%w (it names a credential_process)", err)
			}
		}
		return nil
	}
	return nil
}

func merge(into map[string]map[string]string, name string, s *ini.Section) {
	m := into[name]
	if m == nil {
		m = map[string]string{}
		into[name] = m
	}
	for _, k := range s.Keys() {
		m[strings.ToLower(strings.TrimSpace(k.Name()))] = strings.TrimSpace(k.Value())
	}
}

// Profile is one named profile, the config and credentials files merged.
type Profile struct {
	Name string
	Keys map[string]string
}

// Get returns the key's value, "" when unset.
func (p Profile) Get(key string) string { return p.Keys[key] }

// Profile looks a profile up by name.
func (f *Files) Profile(name string) (Profile, bool) {
	keys, ok := f.profiles[name]
	return Profile{Name: name, Keys: keys}, ok
}

// SSOSession looks an [sso-session NAME] section up.
func (f *Files) SSOSession(name string) (map[string]string, bool) {
	s, ok := f.ssoSessions[name]
	return s, ok
}

// SSOSessionNames lists the sso-session sections, sorted.
func (f *Files) SSOSessionNames() []string { return sortedKeys(f.ssoSessions) }

// NotFound says a profile does not exist, naming the nearest ones.
func (f *Files) NotFound(name string) error {
	msg := fmt.Sprintf("profile %q is not in %s or %s", name, f.ConfigPath, f.CredentialsPath)
	if near := nearest(name, sortedKeys(f.profiles)); len(near) > 0 {
		msg += "; did you mean " + strings.Join(near, " or ") + "?"
	} else if len(f.profiles) == 0 {
		msg += "; those files define no profiles"
	}
	return errors.New(msg)
}

// Identity names what a profile resolves to, for cache keys: its name and
// every key of it, of the profiles it takes credentials from and of its
// sso-session, except secrets. Editing any of them changes the identity;
// a new temporary key at every resolution does not.
func (f *Files) Identity(name string) (string, error) {
	var b strings.Builder
	seen := map[string]bool{}
	for depth := 0; name != ""; depth++ {
		p, ok := f.Profile(name)
		if !ok {
			return "", f.NotFound(name)
		}
		if seen[name] || depth > 10 {
			return "", fmt.Errorf("profile %q takes its credentials from itself through source_profile; fix %s", name, f.ConfigPath)
		}
		seen[name] = true
		fmt.Fprintf(&b, "[profile %s]\n", name)
		writeKeys(&b, p.Keys)
		if s := p.Get("sso_session"); s != "" {
			sess, ok := f.SSOSession(s)
			if !ok {
				return "", fmt.Errorf("profile %q names sso_session %q, which has no [sso-session %s] section in %s", name, s, s, f.ConfigPath)
			}
			fmt.Fprintf(&b, "[sso-session %s]\n", s)
			writeKeys(&b, sess)
		}
		next := p.Get("source_profile")
		if next == name && p.Get("aws_access_key_id") != "" {
			break // a role profile whose source is its own keys
		}
		name = next
	}
	return b.String(), nil
}

// secretKeys never go into an identity (it names a cache file, and a
// rotated secret for the same key id is the same identity).
var secretKeys = []string{"aws_secret_access_key", "aws_session_token", "aws_security_token"}

func writeKeys(b *strings.Builder, keys map[string]string) {
	for _, k := range sortedKeys(keys) {
		if !slices.Contains(secretKeys, k) {
			fmt.Fprintf(b, "%s=%s\n", k, keys[k])
		}
	}
}

// IsSession reports whether a profile's credentials are themselves a role
// or portal session (so a role assumed from them is chained), following
// source_profile. A credential_process may return either; false.
func (f *Files) IsSession(name string) bool {
	p, ok := f.Profile(name)
	if !ok {
		return false
	}
	return p.Get("role_arn") != "" || p.Get("sso_session") != "" || p.Get("sso_start_url") != "" || p.Get("sso_account_id") != ""
}

// TokenPath is where the aws CLI v2, the SDKs and awsrole keep the
// IAM Identity Center token of an sso-session (or, for a legacy profile, of
// a start URL): ~/.aws/sso/cache/<sha1 hex of the name>.json.
func (p Paths) TokenPath(sessionOrStartURL string) string {
	return tokenPath(p.SSOCache, sessionOrStartURL)
}

// TokenPath is Paths.TokenPath for the files' paths.
func (f *Files) TokenPath(sessionOrStartURL string) string {
	return tokenPath(f.SSOCache, sessionOrStartURL)
}

func tokenPath(dir, sessionOrStartURL string) string {
	if !filepath.IsAbs(dir) {
		// No home to find the cache in: never a path relative to
		// wherever awsrole runs (a cloned repository, say).
		return ""
	}
	sum := sha1.Sum([]byte(sessionOrStartURL))
	return filepath.Join(dir, hex.EncodeToString(sum[:])+".json")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// nearest returns up to three names within a small edit distance of name.
func nearest(name string, names []string) []string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	limit := max(2, len(name)/3)
	for _, n := range names {
		d := suggest.Distance(strings.ToLower(name), strings.ToLower(n))
		if d <= limit || strings.Contains(strings.ToLower(n), strings.ToLower(name)) {
			cs = append(cs, cand{n, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	for i := 0; i < len(cs) && i < 3; i++ {
		out = append(out, fmt.Sprintf("%q", cs[i].name))
	}
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
