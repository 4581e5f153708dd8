package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/internal/endpoint"
	"github.com/awsrole/awsrole/internal/engine"
)

func newEngine() *engine.Engine {
	s := stores()
	e := &engine.Engine{Stores: s, Now: time.Now, Creds: newHelper(s.Cache), Notice: os.Stderr, Ask: engine.TTYAsker{}}
	if exe, err := os.Executable(); err == nil {
		e.Endpoint = endpoint.Starter{Store: endpointStore(), Exe: exe, Environ: os.Environ(), Cache: s.Cache}
	}
	return e
}

// roleDir is the --dir flag of exec, credential-process and console,
// absolute; default the current directory. A leading ~, $HOME or ${HOME}
// is expanded, as a shell would have: botocore runs credential_process
// without one, and a quoted '~/proj' reaches every command as it is.
func roleDir(dir string) (string, error) {
	if dir == "" {
		return os.Getwd()
	}
	dir = expandHome(dir)
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("--dir %s is not a directory", dir)
	}
	return abs, nil
}

// expandHome expands a leading ~ and $HOME or ${HOME}.
func expandHome(dir string) string {
	home, err := os.UserHomeDir()
	if err != nil {
		return dir
	}
	for _, prefix := range []string{"~", "$HOME", "${HOME}"} {
		if dir == prefix || strings.HasPrefix(dir, prefix+"/") {
			return home + dir[len(prefix):]
		}
	}
	return dir
}

func execCmd() *cobra.Command {
	var dir string
	var yes, useEndpoint bool
	c := &cobra.Command{
		Use:   "exec [--dir D] [--yes] [--endpoint] -- CMD [ARGS...]",
		Short: "Run one command with the directory's role, no hook needed",
		Example: `  awsrole exec -- aws sts get-caller-identity
  awsrole exec --dir ~/src/payments -- terraform plan
  awsrole exec --endpoint -- terraform apply    # credentials that renew while it runs`,
		Long: `Run CMD with the role of the .awsrole.toml that applies to D (default: here)
in its environment: the same variables the hook sets, AWS_PROFILE and the
like removed. awsrole replaces itself with CMD, so CMD gets signals directly,
its exit status is awsrole's, and nothing is left behind in the calling shell.

With --endpoint (or credentials = "endpoint" in the user config) CMD gets
the credential endpoint's AWS_CONTAINER_CREDENTIALS_FULL_URI and token
instead of the keys, so it renews the role by itself however long it runs.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := roleDir(dir)
			if err != nil {
				return err
			}
			// Before the role: a mistyped command costs no STS call.
			bin, err := exec.LookPath(args[0])
			if err != nil {
				return fmt.Errorf("exec %s: %w", args[0], err)
			}
			eng := newEngine()
			eng.Yes = yes
			// This process becomes CMD: its snapshot and its registration
			// with the endpoint live exactly as long as CMD.
			env, err := eng.Exec(context.Background(), dir, os.Environ(), engine.ExecOptions{PID: os.Getpid(), Endpoint: useEndpoint, Command: args[0]})
			if err != nil {
				return err
			}
			return fmt.Errorf("exec %s: %w", bin, syscall.Exec(bin, args, env))
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "directory whose role to use (default: the current directory)")
	c.Flags().BoolVar(&yes, "yes", false, "approve a project with confirm = true without asking")
	c.Flags().BoolVar(&useEndpoint, "endpoint", false, "give CMD the credential endpoint (renewed by the SDKs) instead of the keys")
	c.Flags().SetInterspersed(false)
	return c
}
