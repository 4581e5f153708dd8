// Package xdgdir names awsrole's directories: one rule on every platform,
// macOS included. An absolute XDG_CONFIG_HOME, XDG_DATA_HOME,
// XDG_STATE_HOME or XDG_CACHE_HOME is used as it is; otherwise ~/.config,
// ~/.local/share, ~/.local/state and ~/.cache, as the XDG spec says and as
// direnv, gh and starship do on macOS too (so a dotfiles repository and
// these docs hold on every machine), never ~/Library. cmd reads them from
// the environment once (FromEnv, as direnv's LoadConfig(env)) and hands
// them down as values.
package xdgdir

import (
	"path/filepath"

	"github.com/adrg/xdg"
)

// Dirs are awsrole's own directories: <XDG base>/awsrole of each kind.
type Dirs struct {
	Config string // the user config
	Data   string // the trust store
	Cache  string // the credential cache
	State  string // snapshots, failure records, marks and the endpoint's files
}

// FromEnv names the directories from the environment (getenv is
// os.Getenv, or a map's lookup in tests): a relative or empty XDG variable
// is ignored, as the spec says, and so is a relative HOME (then the
// account's home directory, as adrg/xdg finds it).
func FromEnv(getenv func(string) string) Dirs {
	home := getenv("HOME")
	if !filepath.IsAbs(home) {
		home = xdg.Home
	}
	dir := func(name string, fallback ...string) string {
		base := filepath.Join(append([]string{home}, fallback...)...)
		if v := getenv(name); filepath.IsAbs(v) {
			base = v
		}
		return filepath.Join(base, "awsrole")
	}
	return Dirs{
		Config: dir("XDG_CONFIG_HOME", ".config"),
		Data:   dir("XDG_DATA_HOME", ".local", "share"),
		Cache:  dir("XDG_CACHE_HOME", ".cache"),
		State:  dir("XDG_STATE_HOME", ".local", "state"),
	}
}
