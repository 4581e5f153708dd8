package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/endpoint"
	"github.com/awsrole/awsrole/internal/engine"
	"github.com/awsrole/awsrole/internal/state"
	"github.com/awsrole/awsrole/internal/transition"
)

func newEngine() *engine.Engine {
	e := &engine.Engine{Now: time.Now, Creds: credcache.Helper{Now: time.Now}, Notice: os.Stderr, Ask: engine.TTYAsker{}}
	if exe, err := os.Executable(); err == nil {
		e.Endpoint = endpoint.Starter{Exe: exe, Environ: os.Environ()}
	}
	return e
}

// roleDir is the --dir flag, absolute; default the current directory.
func roleDir(dir string) (string, error) {
	if dir == "" {
		return os.Getwd()
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("--dir %s is not a directory", dir)
	}
	return abs, nil
}

func execCmd() *cobra.Command {
	var dir string
	var yes, useEndpoint bool
	c := &cobra.Command{
		Use:   "exec [--dir D] [--yes] [--endpoint] -- CMD [ARGS...]",
		Short: "Run one command with the directory's role, no hook needed",
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
			env := environ()
			eng := newEngine()
			eng.Yes = yes
			role, err := eng.ForDir(context.Background(), dir, env, 0)
			if err != nil {
				return err
			}
			desired := role.Desired
			asked := useEndpoint
			if !useEndpoint {
				user, err := dirconfig.LoadUserConfig()
				if err != nil {
					return err
				}
				useEndpoint = user.Credentials == dirconfig.CredentialsEndpoint
			}
			if useEndpoint {
				// This process becomes CMD: registered under its pid, it
				// keeps the endpoint alive while it runs.
				exe, err := executable()
				if err != nil {
					return err
				}
				originals := transition.Originals(role.Active, env)
				uri, token, err := endpoint.Starter{Exe: exe, Environ: os.Environ()}.Serve(role.Request, role.Source, role.Config.Dir, os.Getpid(), originals)
				switch {
				case err == nil:
					desired = role.DesiredEndpoint(uri, token, originals)
				case asked:
					return fmt.Errorf("credential endpoint: %w", err)
				default:
					fmt.Fprintf(os.Stderr, "awsrole: %s; using environment credentials for %s\n", oneLine(err.Error()), args[0])
				}
			}
			changes, applied := transition.Plan(role.Active, env, desired, false)
			// A shell started by CMD finds its originals here, as a shell
			// started inside a project does; this process becomes CMD, so
			// the snapshot lives exactly as long as CMD.
			snap := &state.Snapshot{PID: os.Getpid(), Active: transition.Active{
				Dir: role.Config.Dir, File: role.Config.Path, Hash: role.Config.Hash, RoleARN: role.Label(),
				Expiration: role.Credentials.Expiration, Originals: transition.Originals(role.Active, env), Applied: applied,
			}}
			path, err := state.Save(snap, time.Now())
			if err != nil {
				return err
			}
			changes[transition.StateVar] = &path
			for name, v := range changes {
				if v == nil {
					os.Unsetenv(name)
				} else {
					os.Setenv(name, *v)
				}
			}
			bin, err := exec.LookPath(args[0])
			if err != nil {
				return fmt.Errorf("exec %s: %w", args[0], err)
			}
			return fmt.Errorf("exec %s: %w", bin, syscall.Exec(bin, args, os.Environ()))
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "directory whose role to use (default: the current directory)")
	c.Flags().BoolVar(&yes, "yes", false, "approve a project with confirm = true without asking")
	c.Flags().BoolVar(&useEndpoint, "endpoint", false, "give CMD the credential endpoint (renewed by the SDKs) instead of the keys")
	c.Flags().SetInterspersed(false)
	return c
}
