package wire

import (
	"slices"
	"strings"

	"github.com/awsrole/awsrole/dirconfig"
)

// PassphraseVar gives the encrypted file keyring's passphrase to scripts.
// Only awsrole-keyring and awsrole-sts (which runs it) are given it: awsrole
// takes it out of what it hands to the user's commands (exec), and
// awsrole-sts out of its own process environment, which its children
// (mfa_command, credential_process, the browser) inherit.
const PassphraseVar = "AWSROLE_FILE_PASSPHRASE"

// WithoutPassphrase is environ without PassphraseVar.
func WithoutPassphrase(environ []string) []string {
	return slices.DeleteFunc(slices.Clone(environ), func(kv string) bool { return strings.HasPrefix(kv, PassphraseVar+"=") })
}

// KeyringEnv is environ for awsrole-keyring, whose keyring library
// connects to the D-Bus session bus as it starts, for every backend: a bus
// that accepts and never answers would hold even the encrypted file's
// reads forever. Unless the user config in configDir names a backend that
// lives on the bus (secret-service, kwallet, or the platform's default
// when that is the Secret Service), the child gets no bus
// (DBUS_SESSION_BUS_ADDRESS=disabled:, DISABLE_KWALLET=1). A user config
// that cannot be read gets none either: awsrole-keyring only reports it.
// The backend is returned too ("" when unreadable).
func KeyringEnv(environ []string, configDir string) ([]string, string) {
	user, err := dirconfig.LoadUserConfig(dirconfig.UserConfigPath(configDir))
	backend := ""
	if err == nil {
		backend = user.KeyringBackend
		if backend == "" {
			backend = dirconfig.DefaultKeyringBackend()
		}
		if dirconfig.KeyringOnBus(backend) {
			return environ, backend
		}
	}
	out := slices.DeleteFunc(slices.Clone(environ), func(kv string) bool {
		return strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") || strings.HasPrefix(kv, "DISABLE_KWALLET=")
	})
	return append(out, "DBUS_SESSION_BUS_ADDRESS=disabled:", "DISABLE_KWALLET=1"), backend
}
