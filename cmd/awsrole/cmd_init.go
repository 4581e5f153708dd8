package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/dirconfig"
)

const initTemplate = `# awsrole: the AWS IAM role for this directory and everything below it.
# Docs: awsrole help; approve changes with 'awsrole allow'.

role_arn = %q   # required

# region       = "eu-west-1"       # sets AWS_REGION and AWS_DEFAULT_REGION
# session_name = "me-project"      # default: awsrole-<your user name>
# duration     = "1h"              # 15m to 12h
# external_id  = "..."             # if the role's trust policy asks for one
# source_profile = "corp"          # base credentials from this ~/.aws/config profile
# mfa_serial   = "arn:aws:iam::111111111111:mfa/me"
`

func initCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "init [ROLE_ARN]",
		Short: "Write a commented .awsrole.toml here and approve it",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			role := "arn:aws:iam::123456789012:role/CHANGE-ME"
			if len(args) == 1 {
				role = args[0]
			}
			dir, err := os.Getwd()
			if err != nil {
				return err
			}
			path := filepath.Join(dir, dirconfig.FileName)
			content := []byte(fmt.Sprintf(initTemplate, role))
			if _, err := dirconfig.Parse(path, content); err != nil {
				return err
			}
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s already exists; edit it, then run 'awsrole allow'", path)
			}
			if err != nil {
				return err
			}
			if _, err := f.Write(content); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			cfg, err := dirconfig.Load(path)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "awsrole: wrote %s; set role_arn, then run 'awsrole allow'\n", oneLine(path))
				return nil
			}
			if err := dirconfig.Allow(cfg); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "awsrole: wrote and allowed %s (%s)\n", oneLine(path), oneLine(role))
			return nil
		},
	}
}
