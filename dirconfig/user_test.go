package dirconfig

import (
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/xdgdir"
)

func TestUserConfigDefaults(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	u, err := LoadUserConfig(UserConfigPath(xdgdir.FromEnv(os.Getenv).Config))
	if err != nil {
		t.Fatal(err)
	}
	want := UserConfig{
		Path:                 filepath.Join(home, "awsrole", "config.toml"),
		RefreshBefore:        5 * time.Minute,
		SessionTokenDuration: 12 * time.Hour,
		CredentialsMode:      "env",
		EndpointIdle:         time.Hour,
		SSOLogin:             "manual",
	}
	if !userConfigEqual(*u, want) {
		t.Errorf("got  %+v\nwant %+v", *u, want)
	}
}

// TestUserConfigFollowsEnv: the xdg package reads the environment once;
// the path must follow XDG_CONFIG_HOME as it is now.
func TestUserConfigFollowsEnv(t *testing.T) {
	for _, dir := range []string{t.TempDir(), t.TempDir()} {
		t.Setenv("XDG_CONFIG_HOME", dir)
		mkfile(t, filepath.Join(dir, "awsrole", "config.toml"), "session_name = \"in-"+filepath.Base(dir)+"\"\n")
		u, err := LoadUserConfig(UserConfigPath(xdgdir.FromEnv(os.Getenv).Config))
		if err != nil {
			t.Fatal(err)
		}
		if u.Path != filepath.Join(dir, "awsrole", "config.toml") || u.SessionName != "in-"+filepath.Base(dir) {
			t.Errorf("with XDG_CONFIG_HOME=%s: Path %q, SessionName %q", dir, u.Path, u.SessionName)
		}
	}
	t.Setenv("XDG_CONFIG_HOME", "relative/dir") // ignored, as the spec says
	if p := UserConfigPath(xdgdir.FromEnv(os.Getenv).Config); !filepath.IsAbs(p) {
		t.Errorf("UserConfigPath(xdgdir.FromEnv(os.Getenv).Config) = %q with a relative XDG_CONFIG_HOME", p)
	}
}

func TestUserConfigFull(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	path := filepath.Join(home, ".config", "awsrole", "config.toml")
	mkfile(t, path, `# my defaults
refresh_before         = "10m"
session_name           = "alice"
mfa_serial             = "arn:aws:iam::111111111111:mfa/alice"
mfa_command            = "op item get aws --otp"
duration               = 7200
session_token_duration = "36h"
trusted_dirs           = ["~/work", "/srv/x/../projects/", "~"]
credentials            = "endpoint"
endpoint_idle          = "20m"
sso_login              = "auto"
`)
	u, err := LoadUserConfig(UserConfigPath(xdgdir.FromEnv(os.Getenv).Config))
	if err != nil {
		t.Fatal(err)
	}
	want := UserConfig{
		Path:                 path,
		RefreshBefore:        10 * time.Minute,
		SessionName:          "alice",
		MFASerial:            "arn:aws:iam::111111111111:mfa/alice",
		MFACommand:           "op item get aws --otp",
		Duration:             2 * time.Hour,
		SessionTokenDuration: 36 * time.Hour,
		TrustedDirs:          []string{filepath.Join(home, "work"), "/srv/projects", home},
		CredentialsMode:      "endpoint",
		EndpointIdle:         20 * time.Minute,
		SSOLogin:             "auto",
	}
	if !userConfigEqual(*u, want) {
		t.Errorf("got  %+v\nwant %+v", *u, want)
	}
}

func userConfigEqual(a, b UserConfig) bool {
	return slices.Equal(a.TrustedDirs, b.TrustedDirs) &&
		a.Path == b.Path && a.RefreshBefore == b.RefreshBefore && a.SessionName == b.SessionName &&
		a.MFASerial == b.MFASerial && a.MFACommand == b.MFACommand && a.Duration == b.Duration &&
		a.SessionTokenDuration == b.SessionTokenDuration && a.CredentialsMode == b.CredentialsMode && a.EndpointIdle == b.EndpointIdle &&
		a.SSOLogin == b.SSOLogin
}

func TestUserConfigErrors(t *testing.T) {
	t.Setenv("HOME", "/home/tester")
	const path = "/home/tester/.config/awsrole/config.toml"
	tests := []struct{ data, want string }{
		{`refresh_before = "5s"`, `PATH:1: refresh_before: "5s" is too short; use 10s to 1h (e.g. "5m")`},
		{`refresh_before = "2h"`, `PATH:1: refresh_before: "2h" is too long; use 10s to 1h`},
		{`session_token_duration = "37h"`, `PATH:1: session_token_duration: "37h" is too long; use 15m to 36h (e.g. "12h")`},
		{`session_token_duration = 600`, `PATH:1: session_token_duration: 600 seconds is too short`},
		{`duration = "13h"`, `PATH:1: duration: "13h" is too long; use 15m to 12h`},
		{`trusted_dirs = "~/work"`, `PATH:1: trusted_dirs: must be an array of directory paths, not a string; e.g. ["~/src/work"]`},
		{`trusted_dirs = ["/a", 1]`, `PATH:1: trusted_dirs: entry 2 must be a string in quotes, not an integer`},
		{`trusted_dirs = ["work"]`, `PATH:1: trusted_dirs: entry 1 "work" is not an absolute path; start it with / or ~/`},
		{`trusted_dirs = ["~bob/work"]`, `PATH:1: trusted_dirs: entry 1 "~bob/work" uses ~user, which is not supported`},
		{`trusted_dirs = [""]`, `PATH:1: trusted_dirs: entry 1 is empty`},
		{`trusted_dirs = ["/a\nb"]`, `PATH:1: trusted_dirs: entry 1 contains a newline`},
		{`role_arn = "arn:aws:iam::123456789012:role/r"`, `PATH:1: role_arn: belongs in a project's .awsrole.toml, not in the user config`},
		{`region = "eu-west-1"`, `PATH:1: region: belongs in a project's .awsrole.toml`},
		{`refresh = "5m"`, `PATH:1: refresh: unknown key; known keys are refresh_before, session_name, mfa_serial, mfa_command, duration, session_token_duration, trusted_dirs`},
		{`refresh_befor = "5m"`, `PATH:1: refresh_befor: unknown key; did you mean refresh_before?`},
		{`Trusted_Dirs = []`, `PATH:1: Trusted_Dirs: unknown key; keys are lowercase: did you mean trusted_dirs?`},
		{`mfa_process = "x"`, `PATH:1: mfa_process: unknown key; did you mean mfa_command?`},
		{`endpoint_url = "http://localhost:4566"`, `PATH:1: endpoint_url: not supported in awsrole's config; put it in the AWS environment (AWS_ENDPOINT_URL_STS)`},
		{`aws_access_key_id = "AKIAEXAMPLEEXAMPLE12"`, `PATH:1: aws_access_key_id: credentials do not belong in awsrole's config`},
		{`mfa_command = ""`, `PATH:1: mfa_command: is empty`},
		{"mfa_command = '''\nop\nget'''", `PATH:1: mfa_command: contains a newline`},
		{`mfa_command = 1`, `PATH:1: mfa_command: must be a string in quotes, not an integer`},
		{`session_name = "a"`, `PATH:1: session_name: "a" is too short`},
		{`mfa_serial = "x"`, `PATH:1: mfa_serial: "x" is neither an MFA device ARN`},
		{"[defaults]\nsession_name = \"x\"", `PATH:1: defaults: unknown table`},
		{"session_name = \"ab\"\nsession_name = \"cd\"", `PATH:2: invalid TOML: key "session_name" is set more than once`},
		{"\x00", `PATH:1: contains a NUL byte`},
		{`credentials = "ecs"`, `PATH:1: credentials: must be "env" or "endpoint", not "ecs"`},
		{`credentials = true`, `PATH:1: credentials: must be a string in quotes, not a boolean`},
		{`sso_login = "always"`, `PATH:1: sso_login: must be "manual" or "auto", not "always"`},
		{`sso_login = true`, `PATH:1: sso_login: must be a string in quotes, not a boolean; e.g. "auto"`},
		{`endpoint_idle = "0s"`, `PATH:1: endpoint_idle: "0s" is too short; use 1s to`},
		{`keyring_backend = "gnome"`, `PATH:1: keyring_backend: "gnome" is not a keyring backend; use one of keychain, secret-service, kwallet, pass, keyctl, file, wincred`},
		{`keyring_backend = "secretservice"`, `PATH:1: keyring_backend: "secretservice" is not a keyring backend; did you mean "secret-service"?`},
		{`source_keys = "a b"`, `PATH:1: source_keys: "a b" is not a name of stored keys`},
	}
	for _, tt := range tests {
		_, err := ParseUserConfig(path, []byte(tt.data))
		checkErr(t, path, err, []string{tt.want})
	}
}

func TestLoadUserConfigFileProblems(t *testing.T) {
	for name, setup := range map[string]func(p string) error{
		"dangling symlink": func(p string) error { return os.Symlink("dotfiles/awsrole.toml", p) },
		"directory":        func(p string) error { return os.Mkdir(p, 0o700) },
		"bad content":      func(p string) error { return os.WriteFile(p, []byte("refresh_before = 5\n"), 0o600) },
	} {
		t.Run(name, func(t *testing.T) {
			home := t.TempDir()
			t.Setenv("XDG_CONFIG_HOME", home)
			path := filepath.Join(home, "awsrole", "config.toml")
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := setup(path); err != nil {
				t.Fatal(err)
			}
			u, err := LoadUserConfig(UserConfigPath(xdgdir.FromEnv(os.Getenv).Config))
			if err == nil {
				t.Fatalf("got %+v, want an error", u)
			}
			checkErr(t, path, err, nil)
		})
	}
}

func TestSessionNameFor(t *testing.T) {
	tests := map[string]string{
		"alice":                   "awsrole-alice",
		`CORP\bob`:                "awsrole-bob",
		"josé":                    "awsrole-jos-",
		"first last":              "awsrole-first-last",
		"a.b@example.com":         "awsrole-a.b@example.com",
		"":                        "awsrole",
		strings.Repeat("x", 100):  "awsrole-" + strings.Repeat("x", 56),
		"evil\n$(rm -rf)":         "awsrole-evil---rm--rf-",
		"with:colon/slash":        "awsrole-with-colon-slash",
		"under_score+plus=eq,com": "awsrole-under_score+plus=eq,com",
	}
	for login, want := range tests {
		got := DefaultSessionName(login)
		if got != want {
			t.Errorf("DefaultSessionName(%q) = %q, want %q", login, got, want)
		}
		if _, err := checkSessionName(got); err != nil {
			t.Errorf("DefaultSessionName(%q) = %q, which is invalid: %v", login, got, err)
		}
	}
	if _, err := checkSessionName(DefaultSessionName(login(t))); err != nil {
		t.Errorf("DefaultSessionName(%q) = %q: %v", login(t), DefaultSessionName(login(t)), err)
	}
	if !strings.HasPrefix(DefaultSessionName(login(t)), "awsrole") {
		t.Errorf("DefaultSessionName(%q) = %q", login(t), DefaultSessionName(login(t)))
	}
}

// login is the name of the user running the tests, as the engine finds it.
func login(t *testing.T) string {
	u, err := user.Current()
	if err != nil {
		return os.Getenv("USER")
	}
	return u.Username
}

// TestCheckKeysNameLength: 1 to 64 characters, the length checked apart
// from the pattern.
func TestCheckKeysNameLength(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{{"a", true}, {strings.Repeat("a", 64), true}, {strings.Repeat("a", 65), false}, {"", false}, {"-a", false}, {"a/b", false}} {
		if _, err := CheckKeysName(tt.name); (err == nil) != tt.ok {
			t.Errorf("%q: err %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}
