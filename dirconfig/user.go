package dirconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/suggest"
)

// Defaults of the user config.
const (
	DefaultRefreshBefore        = 5 * time.Minute
	DefaultSessionTokenDuration = 12 * time.Hour
	DefaultEndpointIdle         = time.Hour
)

// The values of the credentials key: how a shell in a project gets its
// role's credentials.
const (
	CredentialsEnv      = "env"      // the keys themselves, renewed at prompts
	CredentialsEndpoint = "endpoint" // a loopback credential endpoint (awsrole serve) SDKs renew from
)

// The values of the sso_login key: what happens when an IAM Identity
// Center sign-in has expired and cannot be refreshed.
const (
	SSOLoginManual = "manual" // say which command signs in (awsrole login --sso-session NAME)
	SSOLoginAuto   = "auto"   // start the sign-in on the terminal, when there is one
)

// UserConfig is the user's own config, $XDG_CONFIG_HOME/awsrole/config.toml.
type UserConfig struct {
	Path                 string        // $XDG_CONFIG_HOME/awsrole/config.toml (may not exist)
	RefreshBefore        time.Duration // refresh credentials this long before expiry; default 5m, 10s..1h
	SessionName          string        // default session name; "" means DefaultSessionName of the login name
	MFASerial            string        // default MFA device
	MFACommand           string        // command printing an MFA code; "" means prompt
	Duration             time.Duration // default role duration, 0 = STS default
	SessionTokenDuration time.Duration // for MFA GetSessionToken, default 12h, 15m..36h
	TrustedDirs          []string      // cleaned absolute prefixes whose files need no `awsrole allow`
	SSOSession           string        // default sso-session of project files that name an account and role
	SourceIdentity       string        // default source_identity; may hold {user}
	// ConsoleFederationURL replaces the partition's sign-in federation
	// endpoint (tests, private partitions); never from a project file.
	ConsoleFederationURL string
	// EnvironmentColors colours `status --short --color` by environment.
	EnvironmentColors map[string]string
	CredentialsMode   string        // the credentials key: CredentialsEnv (default) or CredentialsEndpoint
	EndpointIdle      time.Duration // awsrole serve exits after this long unused; default 1h
	SSOLogin          string        // the sso_login key: SSOLoginManual (default) or SSOLoginAuto
	// SourceKeys is the default source of project files that name none:
	// keys stored with `awsrole keys add NAME`.
	SourceKeys string
	// KeyringBackend is where `awsrole keys` stores keys, one of
	// KeyringBackends; "" is the platform's (see docs/keyring.md).
	KeyringBackend string
}

// KeyringBackends are the values of keyring_backend: the stores the
// keyring library (github.com/99designs/keyring) offers. internal/keyring
// maps each to the library's backend.
var KeyringBackends = []string{"keychain", "secret-service", "kwallet", "pass", "keyctl", "file", "wincred"}

// DefaultKeyringBackend is the platform's backend, used when the user
// config names none: the Keychain on macOS, the Secret Service elsewhere
// (where the session bus offers one; without, opening it says to choose a
// keyring_backend).
func DefaultKeyringBackend() string {
	switch runtime.GOOS {
	case "darwin":
		return "keychain"
	case "windows":
		return "wincred"
	}
	return "secret-service"
}

// KeyringOnBus tells whether backend talks over the D-Bus session bus.
func KeyringOnBus(backend string) bool { return backend == "secret-service" || backend == "kwallet" }

func checkKeyringBackend(v any) (string, error) {
	s, err := asString(v, `"secret-service"`)
	if err != nil {
		return "", err
	}
	if !slices.Contains(KeyringBackends, s) {
		msg := fmt.Sprintf("%s is not a keyring backend; use one of %s", quote(s), strings.Join(KeyringBackends, ", "))
		if near := suggest.Nearest(s, KeyringBackends); near != "" {
			msg = fmt.Sprintf("%s is not a keyring backend; did you mean %s? (one of %s)", quote(s), quote(near), strings.Join(KeyringBackends, ", "))
		}
		return "", errors.New(msg)
	}
	return s, nil
}

// keysNameRE is a name of stored keys (what `awsrole keys add` accepts),
// but for its length (1..64), checked apart: a bounded repeat compiles into
// a copy per count, which every process start would pay for.
var keysNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@+=,-]*$`)

// CheckKeysName checks the name of stored keys (source_keys, and the NAME
// of awsrole keys add): 1 to 64 letters, digits and _.@+=,- starting with
// a letter or digit, so it is a file name and a pass path as it is.
func CheckKeysName(v any) (string, error) {
	s, err := asString(v, `"alice"`)
	if err != nil {
		return "", err
	}
	if len(s) > 64 || !keysNameRE.MatchString(s) {
		return "", fmt.Errorf("%s is not a name of stored keys: 1 to 64 letters, digits and _.@+=,- starting with a letter or digit", quote(s))
	}
	return s, nil
}

var userAliases = map[string]string{
	"mfa_process":       "mfa_command",
	"role_session_name": "session_name",
	"duration_seconds":  "duration",
	"trusted":           "trusted_dirs",
	"trust":             "trusted_dirs",
	"whitelist":         "trusted_dirs",
	"allowlist":         "trusted_dirs",
}

// UserConfigPath is where the user config is read from, in awsrole's
// config directory (xdgdir.Dirs.Config).
func UserConfigPath(configDir string) string {
	return filepath.Join(configDir, "config.toml")
}

func defaultUserConfig(path string) *UserConfig {
	return &UserConfig{
		Path:                 path,
		RefreshBefore:        DefaultRefreshBefore,
		SessionTokenDuration: DefaultSessionTokenDuration,
		CredentialsMode:      CredentialsEnv,
		EndpointIdle:         DefaultEndpointIdle,
		SSOLogin:             SSOLoginManual,
	}
}

// LoadUserConfig reads the user config at path (UserConfigPath); a
// missing file gives the defaults.
func LoadUserConfig(path string) (*UserConfig, error) {
	// Lstat, not Stat: only a plain missing file means defaults; a dangling
	// symlink is a mistake worth reporting.
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return defaultUserConfig(path), nil
	}
	// It decides which directories need no approval and which command
	// runs for an MFA code, so it must be the user's own, in a directory
	// of the user's own. A symlink (a dotfiles manager's) is followed and
	// the file it lands on checked.
	if err := privfile.CheckDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	data, _, err := readChecked(path, MaxFileSize, func(fi fs.FileInfo) error { return privfile.CheckOwner(path, fi) })
	if err != nil {
		return nil, err
	}
	return ParseUserConfig(path, data)
}

// ParseUserConfig validates the content of a user config without reading it.
func ParseUserConfig(path string, data []byte) (*UserConfig, error) {
	d, err := decode(path, data)
	if err != nil {
		return nil, err
	}
	u := defaultUserConfig(path)
	if err := userKeys.apply(d, u, nil, userKeyError); err != nil {
		return nil, err
	}
	return u, nil
}

func userKeyError(key string, v any) error {
	if projectKeys.has(key) {
		return fmt.Errorf("belongs in a project's %s, not in the user config", FileName)
	}
	norm := normalizeKey(key)
	if where, ok := awsEnvKeys[norm]; ok {
		return fmt.Errorf("not supported in awsrole's config; put it in %s", where)
	}
	if slices.Contains(credentialKeys, norm) {
		return errors.New("credentials do not belong in awsrole's config; remove it and keep base credentials in your AWS environment or ~/.aws")
	}
	return unknownKey(key, v, userKeys.names(), userAliases)
}

// checkTrustedDirs takes an array of directory paths, expanding a leading ~.
func checkTrustedDirs(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf(`must be an array of directory paths, not %s; e.g. ["~/src/work"]`, tomlType(v))
	}
	dirs := make([]string, 0, len(list))
	for i, item := range list {
		s, err := asString(item, `"~/src/work"`)
		if err != nil {
			return nil, fmt.Errorf("entry %d %w", i+1, err)
		}
		p, err := expandHome(s)
		if err != nil {
			return nil, fmt.Errorf("entry %d %s %w", i+1, quote(s), err)
		}
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("entry %d %s is not an absolute path; start it with / or ~/", i+1, quote(s))
		}
		dirs = append(dirs, filepath.Clean(p))
	}
	return dirs, nil
}

func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		if strings.HasPrefix(p, "~") {
			return "", errors.New("uses ~user, which is not supported; write the full path or ~/")
		}
		return p, nil
	}
	// The user's own home for a "~" in the user's own config: $HOME, as
	// the shell that wrote the line would expand it. Read here, at the one
	// key that has a "~", not passed through every caller of
	// LoadUserConfig.
	home, err := os.UserHomeDir()
	if err != nil || !filepath.IsAbs(home) {
		return "", errors.New("starts with ~, but the home directory is unknown ($HOME is not set); write the full path")
	}
	return filepath.Join(home, p[1:]), nil
}

// DefaultSessionName is the session name for a user config and project
// file that name none: "awsrole-" and login, the user's login name (given
// by the caller, which reads the environment), reduced to what STS
// allows in a session name: characters outside [\w+=,.@-] become '-', and
// the result is cut to 64 bytes.
func DefaultSessionName(login string) string {
	if i := strings.LastIndexByte(login, '\\'); i >= 0 {
		login = login[i+1:] // DOMAIN\user on Windows
	}
	if login == "" {
		return "awsrole"
	}
	var b strings.Builder
	b.WriteString("awsrole-")
	for _, r := range login {
		if isNameChar(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	s := b.String()
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// idleRange bounds endpoint_idle: seconds for tests and demos, a week at most.
var idleRange = durationRange{time.Second, 7 * 24 * time.Hour, `"1h"`}

// checkOneOf takes one of two strings, the default first.
func checkOneOf(v any, def, other string) (string, error) {
	s, err := asString(v, quote(other))
	if err != nil {
		return "", err
	}
	if s != def && s != other {
		return "", fmt.Errorf(`must be %s or %s, not %s`, quote(def), quote(other), quote(s))
	}
	return s, nil
}
