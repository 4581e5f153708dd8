// Package hooks holds the shell hook scripts, embedded from real files so they
// can be linted and run as they are, and installs or removes the line that
// loads them in a shell's rc file.
package hooks

import (
	"embed"
	"fmt"
	"strings"
)

// Placeholder is the bare word in each script where the quoted path of the
// awsrole binary goes.
const Placeholder = "__AWSROLE_BIN__"

//go:embed awsrole.bash awsrole.zsh awsrole.fish awsrole.direnv
var scripts embed.FS

// Direnv is the name, in Script, RCFile, Install and Uninstall, of the
// direnv library that defines `use awsrole`; it is bash code.
const Direnv = "direnv"

var shells = []string{"bash", "zsh", "fish"}

// Shells lists the shells with a hook.
func Shells() []string {
	return append([]string(nil), shells...)
}

// Script returns the raw embedded hook for shell, placeholder included.
func Script(shell string) (string, error) {
	if err := checkShell(shell); err != nil {
		return "", err
	}
	b, err := scripts.ReadFile("awsrole." + shell)
	if err != nil {
		return "", fmt.Errorf("hook for %s: %w", shell, err)
	}
	return string(b), nil
}

func checkShell(shell string) error {
	for _, s := range append(Shells(), Direnv) {
		if s == shell {
			return nil
		}
	}
	return fmt.Errorf("unsupported shell %q (valid: %s)", shell, strings.Join(shells, ", "))
}
