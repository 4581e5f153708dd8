package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
)

// recursionVar marks a credential-process run, so one that its own source
// credentials call again stops at once instead of recursing.
const recursionVar = "AWSROLE_IN_CREDENTIAL_PROCESS"

// sdkRefreshWindow is how long before expiry the SDKs run a
// credential_process again (botocore: 15 minutes; the Go and JS SDKs less):
// credentials handed out last longer, so one run serves until then. A
// duration too short for that (under 20 minutes) cannot keep botocore from
// running awsrole at every call; the engine then hands out what the
// duration allows (11 minutes left at 15m: above botocore's mandatory
// refresh, 10), from the cache.
const sdkRefreshWindow = 15*time.Minute + time.Minute

// processCredentials is the credential_process output format, Version 1.
type processCredentials struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration"`
}

func credentialProcessCmd() *cobra.Command {
	var dir string
	var yes bool
	c := &cobra.Command{
		Use:   "credential-process [--dir D] [--yes]",
		Short: "Print the directory's role credentials in the AWS credential_process format",
		Example: `  # ~/.aws/config
  [profile payments]
  credential_process = awsrole credential-process --dir ~/src/payments`,
		Long: `Print credentials for the role of the .awsrole.toml that applies to D in the
credential_process JSON format (Version 1, with Expiration), so that a profile

  [profile payments]
  credential_process = awsrole credential-process --dir /home/me/src/payments

works with every SDK and the AWS CLI, which renew on their own.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if os.Getenv(recursionVar) != "" {
				return fmt.Errorf("credential-process is calling itself: its source credentials come from a profile whose credential_process runs awsrole (AWS_PROFILE=%q); set source_profile in the .awsrole.toml to a profile with your own credentials, or unset AWS_PROFILE", os.Getenv("AWS_PROFILE"))
			}
			os.Setenv(recursionVar, "1")
			// botocore runs the command without a shell: roleDir expands
			// ~ and $HOME.
			dir, err := roleDir(dir)
			if err != nil {
				return err
			}
			eng := newEngine()
			eng.Yes = yes
			role, err := eng.ForDir(context.Background(), dir, environ(), sdkRefreshWindow)
			if err != nil {
				return err
			}
			c := role.Credentials
			return json.NewEncoder(cmd.OutOrStdout()).Encode(processCredentials{
				Version: 1, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
				SessionToken: c.SessionToken, Expiration: c.Expiration.UTC().Format(time.RFC3339),
			})
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "directory whose role to use (default: the current directory)")
	c.Flags().BoolVar(&yes, "yes", false, "approve a project with confirm = true without asking")
	return c
}
