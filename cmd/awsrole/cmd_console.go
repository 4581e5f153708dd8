package main

import (
	"cmp"
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/internal/browser"
	"github.com/awsrole/awsrole/internal/console"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/engine"
	"github.com/awsrole/awsrole/internal/wire"
)

// consoleInput is what `awsrole console` was asked.
type consoleInput struct {
	dir, service, destination, region string
	print, yes                        bool
}

func consoleCmd() *cobra.Command {
	var in consoleInput
	c := &cobra.Command{
		Use:   "console [--dir D] [--service NAME|--destination URL] [--region R] [--print]",
		Short: "Sign in to the AWS console as the directory's role",
		Example: `  awsrole console                           # the console as this directory's role
  awsrole console --service s3              # straight to a service, in the project's region
  awsrole console --print --region us-west-2   # print the sign-in address instead`,
		Long: `Sign in to the AWS console as the role of the .awsrole.toml that applies to D
(default: here), through the partition's federation endpoint: a sign-in
token for the role's temporary credentials, then the login address, opened
in your browser ($BROWSER, xdg-open, open) or, with --print, printed on
stdout. The address signs anyone who has it in: it never goes to stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if in.service != "" && in.destination != "" {
				return fmt.Errorf("console: give --service or --destination, not both")
			}
			addr, err := consoleURL(context.Background(), in)
			if err != nil {
				return err
			}
			if in.print {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), addr)
				return err
			}
			// The browser is the user's program: the encrypted file
			// keyring's passphrase is for awsrole's helpers only.
			os.Unsetenv(wire.PassphraseVar)
			if err := browser.Open(addr, browser.FromEnv(os.Getenv)); err != nil {
				return fmt.Errorf("console: %w; use --print to get the address", err)
			}
			return nil
		},
	}
	c.Flags().StringVar(&in.dir, "dir", "", "directory whose role to use (default: the current directory)")
	c.Flags().StringVar(&in.service, "service", "", "console service to open, e.g. s3, ec2, cloudwatch")
	c.Flags().StringVar(&in.destination, "destination", "", "console address to open after signing in")
	c.Flags().StringVar(&in.region, "region", "", "console region (default: the project's, else your AWS region)")
	c.Flags().BoolVar(&in.print, "print", false, "print the sign-in address on stdout instead of opening a browser")
	c.Flags().BoolVar(&in.yes, "yes", false, "approve a project with confirm = true without asking")
	return c
}

// consoleURL signs in as in.dir's role and returns the login address.
func consoleURL(ctx context.Context, in consoleInput) (string, error) {
	dir, err := roleDir(in.dir)
	if err != nil {
		return "", err
	}
	eng := newEngine()
	eng.Yes = in.yes
	role, err := eng.ForDir(ctx, dir, environ(), 0)
	if err != nil {
		return "", err
	}
	return signin(ctx, role, in, credreq.Env(role.Originals))
}

func signin(ctx context.Context, role *engine.Role, in consoleInput, originals credreq.Env) (string, error) {
	user := role.User
	partition := console.Partition(role.Label())
	fed := user.ConsoleFederationURL
	if fed == "" {
		var err error
		if fed, err = console.FederationURL(partition); err != nil {
			return "", err
		}
	}
	dest, err := console.Destination(partition, in.service, cmp.Or(in.region, role.Region, role.Source.Region), in.destination)
	if err != nil {
		return "", err
	}
	c := role.Credentials
	dur := console.SessionDuration(role.Request.Chained(role.Source), role.Duration)
	tokenURL, err := console.TokenURL(fed, console.Session{SessionID: c.AccessKeyID, SessionKey: c.SecretAccessKey, SessionToken: c.SessionToken}, dur)
	if err != nil {
		return "", fmt.Errorf("console_federation_url in %s: %w", user.Path, err)
	}
	reply, err := newHelper(stores().Cache).Run(ctx, wire.Call{Op: wire.OpSignin, Signin: wire.Signin{TokenURL: tokenURL}}, originals)
	if err != nil {
		return "", fmt.Errorf("%s: %w", role.Label(), err)
	}
	return console.LoginURL(fed, reply.SigninToken, dest)
}
