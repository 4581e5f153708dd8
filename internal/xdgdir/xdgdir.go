// Package xdgdir names awsrole's directories under the XDG base
// directories, read from the environment at each call (adrg/xdg reads it
// once, at start-up, which tests and a changed environment outgrow) and
// falling back to the platform defaults adrg/xdg knows.
package xdgdir

import (
	"os"
	"path/filepath"

	"github.com/adrg/xdg"
)

func dir(env, fallback string, elem ...string) string {
	base := fallback
	if v := os.Getenv(env); filepath.IsAbs(v) {
		base = v
	}
	return filepath.Join(append([]string{base, "awsrole"}, elem...)...)
}

// Config is $XDG_CONFIG_HOME/awsrole joined with elem.
func Config(elem ...string) string { return dir("XDG_CONFIG_HOME", xdg.ConfigHome, elem...) }

// Data is $XDG_DATA_HOME/awsrole joined with elem.
func Data(elem ...string) string { return dir("XDG_DATA_HOME", xdg.DataHome, elem...) }

// Cache is $XDG_CACHE_HOME/awsrole joined with elem.
func Cache(elem ...string) string { return dir("XDG_CACHE_HOME", xdg.CacheHome, elem...) }

// State is $XDG_STATE_HOME/awsrole joined with elem.
func State(elem ...string) string { return dir("XDG_STATE_HOME", xdg.StateHome, elem...) }
