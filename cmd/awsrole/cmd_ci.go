package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/internal/engine"
)

func ciCmd() *cobra.Command {
	c := &cobra.Command{
		Use: "ci",
		Example: `  awsrole ci trust && awsrole exec --dir services/api -- make deploy
  awsrole ci profiles services/api services/web   # for Terraform, CDK or Pulumi`,
		Short: "Use the checkout's .awsrole.toml files in a CI job (GitHub Actions, GitLab CI)",
		Long: `In a CI job, the directory roles come from the job's OIDC token (web identity:
AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE, GITLAB_OIDC_TOKEN, or GitHub
Actions' OIDC request) instead of your keys. See docs/ci.md.

  awsrole ci trust                 # approve the checkout's files, for this job
  awsrole exec --dir services/api -- ./deploy.sh
  awsrole ci profiles              # one AWS profile per project directory
  awsrole ci github-env --dir services/api   # the role for the next steps`,
	}
	c.AddCommand(ciTrustCmd(), ciProfilesCmd(), ciGitHubEnvCmd())
	return c
}

func ciTrustCmd() *cobra.Command {
	return &cobra.Command{
		Use: "trust [DIR]",
		Example: `  awsrole ci trust                 # the checkout you are in
  awsrole ci trust "$GITHUB_WORKSPACE"`,
		Short: "Approve every .awsrole.toml under DIR (default: here), the CI checkout, as it is now",
		Long: `Approve every .awsrole.toml under DIR (default: the current directory) by the
hash of its path and content, as 'awsrole allow' does for one: the explicit
opt-in of a CI job, whose fresh checkout has no approvals. Nothing else
approves a file in CI: CI=true or any other variable trusts nothing.

Every file is checked first: if one is invalid, none is approved. Symlinks
are not followed, and .git, node_modules, vendor, .terraform and .venv are
skipped. An approval lives in the job's XDG data directory; an edited file
needs approving again.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := "."
			if len(args) == 1 {
				root = args[0]
			}
			abs, err := filepath.Abs(root)
			if err != nil {
				return err
			}
			cfgs, err := stores().TrustCheckout(abs)
			if err != nil {
				return err
			}
			for _, cfg := range cfgs {
				fmt.Fprintf(cmd.OutOrStdout(), "awsrole: allowed %s (%s)\n", oneLine(cfg.Path), oneLine(engine.Label(cfg)))
			}
			return nil
		},
	}
}

func ciProfilesCmd() *cobra.Command {
	var config, bin string
	c := &cobra.Command{
		Use: "profiles [--config FILE] [[NAME=]DIR...]",
		Example: `  awsrole ci profiles services/api services/web
  awsrole ci profiles api=services/api --config ./aws-config
  AWS_PROFILE=services-api terraform apply`,
		Short: "Write one AWS profile per project directory, each with credential_process",
		Long: `Write one named profile per project directory into the AWS config (the file
AWS_CONFIG_FILE names, else ~/.aws/config; or --config FILE):

  [profile services-api]
  credential_process = awsrole credential-process --dir /checkout/services/api

so that Terraform, CDK or Pulumi use several directories' roles in one job
(provider "aws" { profile = "services-api" }) and renew each on their own
during long applies. A profile is named after its directory, relative to
the current one ("services/api" → "services-api"); NAME=DIR names it
yourself. Without DIRs: every project directory under the current one.

awsrole owns a marked block of the file and rewrites only that block.
The files must be approved first (awsrole ci trust).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				files, err := engine.CheckoutFiles(wd)
				if err != nil {
					return err
				}
				for _, f := range files {
					args = append(args, filepath.Dir(f))
				}
				if len(args) == 0 {
					return fmt.Errorf("no %s under %s; name the directories: awsrole ci profiles DIR", engine.FileName, wd)
				}
			}
			s := stores()
			env := environ()
			var dirs []engine.ProfileDir
			for _, a := range args {
				name, d, named := strings.Cut(a, "=")
				if !named {
					d = a
				}
				dir, err := roleDir(d)
				if err != nil {
					return err
				}
				if !named {
					name = engine.ProfileName(wd, dir)
				}
				if err := engine.CheckProfileName(name); err != nil {
					return err
				}
				cfg, err := s.Resolve(dir, env).Allowed()
				if err != nil {
					return err
				}
				dirs = append(dirs, engine.ProfileDir{Name: name, Dir: dir, Region: cfg.Region})
			}
			if bin == "" {
				if bin, err = executable(); err != nil {
					return err
				}
			}
			if config == "" {
				config = s.AWS.Config
			}
			block, err := engine.ProfilesBlock(dirs, bin)
			if err != nil {
				return err
			}
			if err := engine.WriteProfiles(config, block, dirs); err != nil {
				return err
			}
			for _, d := range dirs {
				fmt.Fprintf(cmd.OutOrStdout(), "awsrole: profile %s → %s (%s)\n", d.Name, oneLine(d.Dir), oneLine(config))
			}
			return nil
		},
	}
	c.Flags().StringVar(&config, "config", "", "the AWS config file to write (default: AWS_CONFIG_FILE, else ~/.aws/config)")
	c.Flags().StringVar(&bin, "awsrole", "", "the awsrole the profiles run (default: this one's path)")
	return c
}

func ciGitHubEnvCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:     "github-env [--dir D]",
		Example: `  awsrole ci github-env --dir services/api      # later steps have the role, secrets masked`,
		Short:   "Give the later steps of a GitHub Actions job the directory's role (GITHUB_ENV), every secret masked",
		Long: `Fetch the role of the .awsrole.toml that applies to D and append its variables
(the keys, AWS_CREDENTIAL_EXPIRATION, AWS_REGION, AWSROLE_ARN…) to the file
GITHUB_ENV names, for the job's later steps. Before anything is written,
the access key id, secret and session token are masked (::add-mask:: on
stdout), so GitHub hides them in every log that follows.

The credentials are not renewed: they last the role's duration (at most an
hour, as a role chained from the job's entry role). For long steps use
'awsrole exec' or 'awsrole ci profiles', which renew.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			path := os.Getenv("GITHUB_ENV")
			if path == "" {
				return fmt.Errorf("GITHUB_ENV is not set: ci github-env writes the variables of a GitHub Actions step; elsewhere use awsrole exec --dir D -- CMD")
			}
			dir, err := roleDir(dir)
			if err != nil {
				return err
			}
			env := environ()
			role, err := newEngine().ForDir(context.Background(), dir, env, 0)
			if err != nil {
				return err
			}
			c := role.Credentials
			masks, lines := engine.GitHubEnv(role.Desired, env, []string{c.AccessKeyID, c.SecretAccessKey, c.SessionToken})
			// The masks reach the runner before the secrets exist anywhere
			// a later step could print them from.
			if _, err := fmt.Fprint(cmd.OutOrStdout(), masks); err != nil {
				return err
			}
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			if err != nil {
				return fmt.Errorf("GITHUB_ENV: %w", err)
			}
			if _, err := f.WriteString(lines); err != nil {
				f.Close()
				return fmt.Errorf("GITHUB_ENV %s: %w", path, err)
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "awsrole: %s for the next steps, until %s\n", oneLine(role.Label()), c.Expiration.UTC().Format("15:04:05Z"))
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "directory whose role to use (default: the current directory)")
	return c
}
