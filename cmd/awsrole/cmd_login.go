package main

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/internal/wire"
)

func loginCmd() *cobra.Command {
	var login wire.Login
	c := &cobra.Command{
		Use:   "login [--sso-session NAME] [--no-browser]",
		Short: "Sign in to IAM Identity Center (device flow); the sign-in is shared with the aws CLI",
		Example: `  awsrole login                       # the project's session, or the only one
  awsrole login --sso-session corp --no-browser`,
		Long: `Sign in to an IAM Identity Center session of ~/.aws/config with the device
authorization flow: awsrole prints an address and a code, opens your browser
when there is one, and waits until you confirm. The token is written where
the aws CLI keeps it (~/.aws/sso/cache), so 'aws sso login' and awsrole
share one sign-in. Without --sso-session: the session of the project here,
else sso_session of your user config, else the only one in ~/.aws/config.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			env := environ()
			if login.Session == "" {
				dir, err := os.Getwd()
				if err != nil {
					return err
				}
				if login.Session, err = newEngine().LoginSession(dir, env); err != nil {
					return err
				}
			}
			// Ctrl-C reaches the helper too, which ends the wait and says so.
			_, err := newHelper(stores().Cache).Run(context.Background(), wire.Call{Op: wire.OpLogin, Login: login}, nil)
			return err
		},
	}
	c.Flags().StringVar(&login.Session, "sso-session", "", "the [sso-session NAME] of ~/.aws/config to sign in to")
	c.Flags().BoolVar(&login.NoBrowser, "no-browser", false, "print the address only; do not open a browser")
	return c
}
