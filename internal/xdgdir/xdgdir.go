// Package xdgdir names awsrole's directories under the XDG base
// directories, falling back to the platform defaults adrg/xdg knows. cmd
// reads them from the environment once (FromEnv, as direnv's
// LoadConfig(env)) and hands them down as values; adrg/xdg reads the
// environment at start-up only, which tests and a changed environment
// outgrow.
package xdgdir

import (
	"os"
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
// is ignored, as the spec says.
func FromEnv(getenv func(string) string) Dirs {
	dir := func(name, fallback string) string {
		base := fallback
		if v := getenv(name); filepath.IsAbs(v) {
			base = v
		}
		return filepath.Join(base, "awsrole")
	}
	return Dirs{
		Config: dir("XDG_CONFIG_HOME", xdg.ConfigHome),
		Data:   dir("XDG_DATA_HOME", xdg.DataHome),
		Cache:  dir("XDG_CACHE_HOME", xdg.CacheHome),
		State:  dir("XDG_STATE_HOME", xdg.StateHome),
	}
}

// Config is $XDG_CONFIG_HOME/awsrole joined with elem, read now.
func Config(elem ...string) string {
	return filepath.Join(append([]string{FromEnv(os.Getenv).Config}, elem...)...)
}

// Data is $XDG_DATA_HOME/awsrole joined with elem, read now.
func Data(elem ...string) string {
	return filepath.Join(append([]string{FromEnv(os.Getenv).Data}, elem...)...)
}

// Cache is $XDG_CACHE_HOME/awsrole joined with elem, read now.
func Cache(elem ...string) string {
	return filepath.Join(append([]string{FromEnv(os.Getenv).Cache}, elem...)...)
}
