package main

import (
	"fmt"
	"os"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/internal/wire"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

// keysCmd is `awsrole keys`: each subcommand is carried out by
// awsrole-keyring, which awsrole replaces itself with. Only that binary
// links the keyring library (and with it D-Bus), so the prompt's awsrole
// stays as small and as fast as it was.
func keysCmd() *cobra.Command {
	c := &cobra.Command{
		Use: "keys add|list|rm|rotate",
		Example: `  awsrole keys add work --mfa-serial arn:aws:iam::111111111111:mfa/alice
  echo 'source_keys = "work"' >> ~/.config/awsrole/config.toml
  awsrole keys rotate work`,
		Short: "Keep long-term AWS keys in the OS keyring (source_keys = \"NAME\" names them as a source)",
		Long: `Keep an IAM user's long-term keys in the OS keyring instead of
~/.aws/credentials or the environment: the Keychain on macOS, the Secret
Service (GNOME Keyring, KeePassXC) on Linux, or the backend keyring_backend
in the user config names: keychain, secret-service, kwallet, pass, keyctl,
file (an encrypted file; passphrase typed, or AWSROLE_FILE_PASSPHRASE).

A project file (or the user config, as a default) names them with
source_keys = "NAME"; only awsrole-keyring reads them, when awsrole-sts
needs them, and the secret is never written to a file or the shell.`,
	}
	var mfa string
	add := &cobra.Command{
		Use: "add NAME [--mfa-serial ARN]",
		Example: `  awsrole keys add work                         # typed, the secret without echo
  printf '%s\n%s\n' "$KEY_ID" "$SECRET" | awsrole keys add ci`,
		Short: "Store keys under NAME: typed without echo, or two lines on standard input (access key id, then secret)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			argv := []string{"add"}
			if mfa != "" {
				argv = append(argv, "--mfa-serial", mfa)
			}
			return execKeyring(append(argv, args[0]))
		},
	}
	add.Flags().StringVar(&mfa, "mfa-serial", "", "the MFA device of these keys (used when the project file names none)")
	c.AddCommand(add,
		&cobra.Command{Use: "list", Example: "  awsrole keys list", Short: "List the stored keys (names, access key ids, MFA devices; never secrets)", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error { return execKeyring([]string{"list"}) }},
		&cobra.Command{Use: "rm NAME", Example: "  awsrole keys rm old-laptop", Short: "Remove the keys stored under NAME", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error { return execKeyring([]string{"rm", args[0]}) }},
		&cobra.Command{Use: "rotate NAME", Example: "  awsrole keys rotate work     # new key through IAM, checked, stored; the old one deleted", Short: "Replace NAME's key with a new one from IAM, then delete the old one", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error { return execKeyring([]string{"rotate", args[0]}) }},
		&cobra.Command{Use: "reindex", Example: "  awsrole keys reindex", Short: "Rebuild awsrole's key index (names and key ids) from what the keyring holds", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error { return execKeyring([]string{"reindex"}) }},
	)
	return c
}

// execKeyring replaces awsrole with awsrole-keyring running argv, on the
// same terminal and standard input, with no D-Bus session bus unless the
// backend needs one (wire.KeyringEnv).
func execKeyring(argv []string) error {
	bin, err := wire.FindBinary(wire.KeyringName)
	if err != nil {
		return err
	}
	environ, _ := wire.KeyringEnv(os.Environ(), xdgdir.FromEnv(os.Getenv).Config)
	return fmt.Errorf("exec %s: %w", bin, syscall.Exec(bin, append([]string{wire.KeyringName}, argv...), environ))
}
