// Package shellgen is every shell awsrole supports, one file each behind the
// Shell interface, and the registry (Names, Get) the CLI reads shell names
// from: quoting that is safe for untrusted values, export/unset rendering,
// the steady-state facts a hook checks, the hook script (from package hooks)
// with the binary path quoted, and what `awsrole install` writes where.
package shellgen

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Change is one variable: Value nil means unset.
type Change struct {
	Name  string
	Value *string
}

// Render exports env (nil value means unset) for the named shell.
func Render(shell string, env map[string]*string) (string, error) {
	s, err := lookupAny(shell)
	if err != nil {
		return "", err
	}
	changes := make([]Change, 0, len(env))
	for name, value := range env {
		changes = append(changes, Change{Name: name, Value: value})
	}
	return s.Export(changes)
}

// End is the last line of every answer `awsrole export` gives a hook that
// evaluates code (bash, zsh, fish, elvish): a comment, so evaluating it
// does nothing. An answer without it was cut short (the binary was killed
// while it wrote) or is not awsrole's: the hook evaluates none of it and
// fails closed, as for a failed call.
const End = "# awsrole export: end"

// answerer is a shell whose hook reads the answer as one structured value
// (nushell) rather than code followed by End.
type answerer interface {
	Answer(changes []Change, f *Facts) (string, error)
}

// Answer is what `awsrole export SHELL` prints: changes (nil value:
// unset), then what the hook keeps of f (nil: nothing to keep, the hook
// asks again and holds no leave code), then, for a hook, End.
func Answer(shell string, env map[string]*string, f *Facts) (string, error) {
	s, err := lookupAny(shell)
	if err != nil {
		return "", err
	}
	changes := make([]Change, 0, len(env))
	for name, value := range env {
		changes = append(changes, Change{Name: name, Value: value})
	}
	if a, ok := s.(answerer); ok {
		return a.Answer(changes, f)
	}
	out, err := s.Export(changes)
	if err != nil {
		return "", err
	}
	if f != nil {
		steady, err := s.Steady(*f)
		if err != nil {
			return "", err
		}
		out += steady
	}
	if s.Uses()&UsePrompt != 0 {
		out += End + "\n"
	}
	return out, nil
}

// Quote returns s as one word (or, for json, one string) of the shell.
func Quote(shell, s string) (string, error) {
	sh, err := lookupAny(shell)
	if err != nil {
		return "", err
	}
	return sh.Quote(s)
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
