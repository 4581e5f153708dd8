// Package shellgen turns variable changes into code a shell evaluates: one
// dialect per shell (bash, zsh, fish) plus json, each with a quoting function
// that is safe for untrusted values, and the rendering of the hook scripts
// with the binary path quoted for the target shell.
package shellgen

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/awsrole/awsrole/hooks"
)

// Change is one variable: Value nil means unset.
type Change struct {
	Name  string
	Value *string
}

// Dialect renders variable changes as code for one shell (or as data).
type Dialect interface {
	// Name is the name Lookup knows the dialect by.
	Name() string
	// Export renders changes sorted by name, one statement per line.
	Export(changes []Change) (string, error)
}

// dialect is what every built-in dialect implements; quote is kept out of the
// public interface so the set of dialects stays closed.
type dialect interface {
	Dialect
	quote(s string) (string, error)
}

var dialects = map[string]dialect{
	"bash": bash{},
	"zsh":  zsh{},
	"fish": fish{},
	"json": jsonDialect{},
}

// Names lists the dialects Lookup accepts, sorted.
func Names() []string {
	names := make([]string, 0, len(dialects))
	for name := range dialects {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the dialect with the given name.
func Lookup(name string) (Dialect, error) {
	d, err := lookup(name)
	if err != nil {
		return nil, err
	}
	return d, nil
}

func lookup(name string) (dialect, error) {
	if d, ok := dialects[name]; ok {
		return d, nil
	}
	return nil, fmt.Errorf("unknown shell %q (valid: %s)", name, strings.Join(Names(), ", "))
}

// Render exports env (nil value means unset) in the named dialect.
func Render(dialectName string, env map[string]*string) (string, error) {
	d, err := lookup(dialectName)
	if err != nil {
		return "", err
	}
	changes := make([]Change, 0, len(env))
	for name, value := range env {
		changes = append(changes, Change{Name: name, Value: value})
	}
	return d.Export(changes)
}

// Quote returns s as one word (or, for json, one string) of the dialect.
func Quote(dialectName, s string) (string, error) {
	d, err := lookup(dialectName)
	if err != nil {
		return "", err
	}
	return d.quote(s)
}

// Hook returns the hook script for shell with binPath quoted in place of the
// placeholder.
func Hook(shell, binPath string) (string, error) {
	if err := checkBinPath(binPath); err != nil {
		return "", fmt.Errorf("hook: %w", err)
	}
	script, err := hooks.Script(shell)
	if err != nil {
		return "", err
	}
	quoted, err := Quote(scriptDialect(shell), binPath)
	if err != nil {
		return "", fmt.Errorf("hook: binary path: %w", err)
	}
	return strings.ReplaceAll(script, hooks.Placeholder, quoted), nil
}

// RCLine returns the rc-file line that loads the hook: for bash and zsh
// `eval "$(BIN hook SHELL)"`, for fish `BIN hook fish | source`.
func RCLine(shell, binPath string) (string, error) {
	if err := checkBinPath(binPath); err != nil {
		return "", fmt.Errorf("rc line: %w", err)
	}
	if _, err := hooks.Script(shell); err != nil {
		return "", err
	}
	quoted, err := Quote(scriptDialect(shell), binPath)
	if err != nil {
		return "", fmt.Errorf("rc line: binary path: %w", err)
	}
	if shell == "fish" {
		return quoted + " hook fish | source", nil
	}
	return `eval "$(` + quoted + ` hook ` + shell + `)"`, nil
}

// scriptDialect is the dialect a hook script is written in: the direnv
// library is bash.
func scriptDialect(shell string) string {
	if shell == hooks.Direnv {
		return "bash"
	}
	return shell
}

// checkBinPath accepts an absolute path or a bare command name: a relative
// path would stop working after the first cd, and a leading "-" would be
// read as an option by `command`.
func checkBinPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty binary path")
	case strings.HasPrefix(p, "-"):
		return fmt.Errorf("binary path %q starts with \"-\"", p)
	case !strings.HasPrefix(p, "/") && strings.Contains(p, "/"):
		return fmt.Errorf("binary path %q is relative; use an absolute path or a bare command name", p)
	}
	return nil
}

// sortedChanges validates changes and returns a copy sorted by name.
func sortedChanges(changes []Change) ([]Change, error) {
	sorted := make([]Change, len(changes))
	copy(sorted, changes)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for i, c := range sorted {
		if !validName(c.Name) {
			return nil, fmt.Errorf("invalid variable name %q: want [A-Za-z_][A-Za-z0-9_]*", c.Name)
		}
		if i > 0 && sorted[i-1].Name == c.Name {
			return nil, fmt.Errorf("variable %s given twice", c.Name)
		}
		if c.Value != nil && strings.IndexByte(*c.Value, 0) >= 0 {
			return nil, fmt.Errorf("value of %s contains a NUL byte, which no environment variable can hold", c.Name)
		}
	}
	return sorted, nil
}

func validName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// errNUL is returned by the quoting functions: no shell word, and no
// environment variable, can carry a NUL byte.
var errNUL = errors.New("string contains a NUL byte")

// safe reports whether s is non-empty and made only of bytes that mean
// nothing to any of the shells inside single quotes (or even bare).
func safe(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("_@%+=:,./-", c) >= 0:
		default:
			return false
		}
	}
	return true
}
