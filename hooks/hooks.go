// Package hooks holds the shell hook scripts, embedded from real files so they
// can be linted and run as they are, and installs or removes a marker block
// in an rc file. Which shells exist, and what goes where, is package
// shellgen's registry: this package knows no shell names.
package hooks

import (
	"embed"
	"fmt"
)

// Placeholder is the bare word in each script where the quoted path of the
// awsrole binary goes.
const Placeholder = "__AWSROLE_BIN__"

//go:embed awsrole.*
var scripts embed.FS

// Script returns the raw embedded hook awsrole.NAME, placeholder included.
func Script(name string) (string, error) {
	b, err := scripts.ReadFile("awsrole." + name)
	if err != nil {
		return "", fmt.Errorf("no hook script for %q", name)
	}
	return string(b), nil
}
