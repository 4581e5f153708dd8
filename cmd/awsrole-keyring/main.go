// Command awsrole-keyring keeps long-term AWS keys in the OS keyring for
// awsrole: `awsrole keys` runs it, and so does awsrole-sts when a role's
// source is source_keys. It is the only binary that links the keyring
// library, which connects to the D-Bus session bus as it starts: neither
// the prompt's awsrole nor awsrole-sts pays for that unless keys are
// needed.
package main

import (
	"os"

	"github.com/awsrole/awsrole/internal/keyring/keyscmd"
)

func main() {
	os.Exit(keyscmd.Main(os.Args[1:], keyscmd.FromEnv(os.Getenv, os.Environ())))
}
