package engine

import (
	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/state"
)

// What the commands say of project files and the user config, so that cmd
// reaches them through the engine only (it imports neither dirconfig nor
// state).

// Config is a project file, parsed and validated.
type Config = dirconfig.Config

// FileName is the name of a project file.
const FileName = dirconfig.FileName

// CredentialsEndpoint is the user config's credentials = "endpoint".
const CredentialsEndpoint = dirconfig.CredentialsEndpoint

// CheckFile checks content as the project file path (init checks what it
// is about to write).
func CheckFile(path string, content []byte) error {
	_, err := dirconfig.Parse(path, content)
	return err
}

// Load reads and validates the project file at path, whatever its trust.
func Load(path string) (*Config, error) { return dirconfig.Load(path) }

// Allow approves the project file at path as it is now, and returns it
// parsed.
func (s Stores) Allow(path string) (*dirconfig.Config, error) {
	cfg, err := dirconfig.Load(path)
	if err != nil {
		return nil, err
	}
	return cfg, s.Trust.Allow(cfg)
}

// Deny blocks the project file at path, whatever it holds (even a file
// that does not parse), until it is allowed again.
func (s Stores) Deny(path string) error { return s.Trust.DenyPath(path) }

// ColorCode is the ANSI code of a colour name of environment_colors.
func ColorCode(name string) (int, bool) {
	code, ok := dirconfig.Colors[name]
	return code, ok
}

// TrustWatch are the files whose change can change what a file's trust or
// the user config say: the user config and the trust store's entries for
// the file judged (its allow and deny entries; the directories when none
// was judged).
func (r *Resolution) TrustWatch() []string {
	return append([]string{r.User.Path}, r.stores.Trust.Watch(r.Judged)...)
}

// TrustOf is the trust of cfg (as shown, from Shown) by r's user config:
// allowed, denied or not allowed.
func (r *Resolution) TrustOf(cfg *Config) (string, error) {
	t, err := r.stores.Trust.Of(cfg, r.User)
	if err != nil {
		return "", err
	}
	return t.String(), nil
}

// LastFailure is shell pid's last failure, if its last record is one.
func (s Stores) LastFailure(pid int) (state.Failure, bool) {
	return s.State.Last(pid).Failure()
}
