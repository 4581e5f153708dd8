package shellgen

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/awsrole/awsrole/hooks"
)

// Shell is everything awsrole knows about one shell (or output format), in
// one file per shell: shell_bash.go, shell_fish.go, … . Adding a shell is
// that file, its hook script in hooks/ and a row in the end-to-end table.
type Shell interface {
	// Name is the word the CLI knows the shell by.
	Name() string
	// Uses says which commands take this name.
	Uses() Use
	// Quote returns s as one word (or, for json, one string) of the shell.
	Quote(s string) (string, error)
	// Export renders changes sorted by name, one statement per line.
	Export(changes []Change) (string, error)
	// Steady renders what the hook checks to skip a call; "" for a hook
	// that calls at every prompt (or a shell with no hook).
	Steady(f Facts) (string, error)
	// Install is where `awsrole install` writes and what, for the binary
	// at bin, reading the environment through env (os.Getenv).
	Install(bin string, env func(string) string) (Install, error)
}

// Use is a set of commands a shell name is valid for.
type Use uint8

// The commands that take a shell name.
const (
	UseHook    Use = 1 << iota // awsrole hook, install, uninstall
	UseExport                  // awsrole export
	UseInstall                 // awsrole install, uninstall
	UsePrompt                  // an interactive shell whose hook runs at prompts
)

// Install is what `awsrole install` does for one shell: put Block between
// marker lines in File. Owned files (awsrole's own, in a conf.d-style
// directory) are deleted by uninstall once empty.
type Install struct {
	File  string
	Block string
	Owned bool
}

// registry lists every shell, in the order help texts show them.
var registry = []Shell{bash{}, zsh{}, fish{}, nu{}, elvish{}, direnv{}, jsonDialect{}}

// Names lists the shells valid for use, in registry order.
func Names(use Use) []string {
	var names []string
	for _, s := range registry {
		if s.Uses()&use != 0 {
			names = append(names, s.Name())
		}
	}
	return names
}

// Get returns the shell named name if it is valid for use.
func Get(name string, use Use) (Shell, error) {
	for _, s := range registry {
		if s.Name() == name && s.Uses()&use != 0 {
			return s, nil
		}
	}
	return nil, fmt.Errorf("unknown shell %q (valid: %s)", name, strings.Join(Names(use), ", "))
}

// lookupAny finds a shell whatever its uses.
func lookupAny(name string) (Shell, error) {
	return Get(name, UseHook|UseExport|UseInstall)
}

// Hook returns the hook script for shell with binPath quoted in place of the
// placeholder.
func Hook(shell, binPath string) (string, error) {
	s, err := Get(shell, UseHook)
	if err != nil {
		return "", err
	}
	return renderHook(s, binPath)
}

// renderHook fills the embedded script of s with binPath, quoted as s
// quotes (the direnv library quotes as bash).
func renderHook(s Shell, binPath string) (string, error) {
	if err := checkBinPath(binPath); err != nil {
		return "", fmt.Errorf("hook: %w", err)
	}
	script, err := hooks.Script(s.Name())
	if err != nil {
		return "", err
	}
	quoted, err := s.Quote(binPath)
	if err != nil {
		return "", fmt.Errorf("hook: binary path: %w", err)
	}
	return strings.ReplaceAll(script, hooks.Placeholder, quoted), nil
}

// InstallFor returns what `awsrole install shell` writes, and where.
func InstallFor(shell, binPath string, env func(string) string) (Install, error) {
	s, err := Get(shell, UseInstall)
	if err != nil {
		return Install{}, err
	}
	if err := checkBinPath(binPath); err != nil {
		return Install{}, fmt.Errorf("rc line: %w", err)
	}
	return s.Install(binPath, env)
}

// evalLine is the rc line of the POSIX shells: eval "$(BIN hook NAME)".
func evalLine(s Shell, bin string) (string, error) {
	q, err := s.Quote(bin)
	if err != nil {
		return "", fmt.Errorf("rc line: binary path: %w", err)
	}
	return `eval "$(` + q + ` hook ` + s.Name() + `)"`, nil
}

// configFile is $XDG_CONFIG_HOME/rel, or ~/.config/rel when it is unset or
// relative (the XDG spec says to ignore a relative one).
func configFile(env func(string) string, rel ...string) (string, error) {
	if dir := env("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(append([]string{dir}, rel...)...), nil
	}
	return homeFile(env, append([]string{".config"}, rel...)...)
}

// homeFile is ~/rel.
func homeFile(env func(string) string, rel ...string) (string, error) {
	home := env("HOME")
	if home == "" {
		return "", errors.New("rc file: HOME is not set")
	}
	return filepath.Join(append([]string{home}, rel...)...), nil
}

// noSteady is for shells whose hook calls at every prompt.
type noSteady struct{}

// Steady implements Shell: nothing to render.
func (noSteady) Steady(Facts) (string, error) { return "", nil }
