package e2e

import (
	"strings"
	"testing"

	"github.com/awsrole/awsrole/internal/testrig"
	"github.com/awsrole/awsrole/internal/testrig/ptyshell"
)

// shell is an interactive shell of the test under a pseudo-terminal
// (ptyshell.Shell), started with its rc files read from the rig's HOME.
type shell struct {
	*ptyshell.Shell
	t    *testing.T
	kind string
}

// startShell starts an interactive shell in dir (default HOME); it installs
// nothing: call r.install(kind) first. extra changes the environment of this
// shell only.
func (r *rig) startShell(kind string, dir string, extra map[string]*string) *shell {
	r.t.Helper()
	if dir == "" {
		dir = r.Home
	}
	if shells[kind] == "" {
		testrig.Require(r.t, kind+" is not on PATH (.ci/run installs it)")
	}
	env := map[string]*string{"PWD": sp(dir), "SHELL": sp(shells[kind])}
	for k, v := range extra {
		env[k] = v
	}
	return &shell{Shell: ptyshell.Start(r.t, kind, shells[kind], dir, r.Environ(env)), t: r.t, kind: kind}
}

// Managed is Env restricted to the managed variables.
func (s *shell) Managed() map[string]*string { s.t.Helper(); return pick(s.Env()) }

// awsroleLines returns the lines of text that start with "awsrole:", the
// messages awsrole prints on stderr.
func awsroleLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		// fish starts the line after a command's output with its
		// "missing newline" mark (⏎, spaces, ⏎ and a carriage return).
		if i := strings.Index(l, "awsrole:"); i >= 0 && strings.Trim(l[:i], " \t⏎") == "" {
			out = append(out, strings.TrimSpace(l[i:]))
		}
	}
	return out
}
