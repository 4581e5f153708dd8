package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/engine"
	"github.com/awsrole/awsrole/internal/transition"
	"github.com/awsrole/awsrole/shellgen"
)

// direnvCmd is what `use awsrole` in an .envrc runs: bash code that exports
// the role for direnv to diff, plus the files direnv should watch.
func direnvCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "direnv [ROLE_ARN [key=value...]]",
		Short:  "Print what `use awsrole` in an .envrc evaluates (run by the direnv library)",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := os.Getwd()
			if err != nil {
				return err
			}
			user, err := dirconfig.LoadUserConfig()
			if err != nil {
				return err
			}
			eng := newEngine()
			env := environ()
			var role *engine.Role
			var watch []string
			if len(args) == 0 {
				role, err = eng.ForDir(context.Background(), dir, env, 0)
				if role != nil {
					watch = append(watch, role.Config.Path)
				}
			} else {
				// Inline: the .envrc is direnv's to approve; same keys and
				// checks as a file.
				var cfg *dirconfig.Config
				if cfg, err = inlineConfig(filepath.Join(dir, ".envrc"), args); err == nil {
					role, err = eng.ForConfig(context.Background(), cfg, user, env, 0)
				}
				if err == nil && cfg.PolicyFile != "" {
					// An edit of the policy narrows the role anew.
					watch = append(watch, filepath.Join(cfg.Dir, cfg.PolicyFile))
				}
			}
			if err != nil {
				return err
			}
			vars := role.Desired
			vars[transition.StateVar] = nil // direnv's own diff restores on leave
			code, err := shellgen.Render("bash", vars)
			if err != nil {
				return err
			}
			var out strings.Builder
			out.WriteString(code)
			// A sign-in or a profile edit reloads, as an edit of the file does.
			watch = append(append(append(watch, user.Path), dirconfig.TrustDirs()...), role.Watch...)
			for _, f := range watch {
				q, err := shellgen.Quote("bash", f)
				if err != nil {
					return err
				}
				fmt.Fprintf(&out, "watch_file %s\n", q)
			}
			_, err = os.Stdout.WriteString(out.String())
			return err
		},
	}
}

// inlineConfig validates `use awsrole ROLE_ARN key=value...` as if it were a
// .awsrole.toml, so it gets the same keys and checks.
func inlineConfig(envrc string, args []string) (*dirconfig.Config, error) {
	m := map[string]string{"role_arn": args[0]}
	for _, kv := range args[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s: use awsrole: %q is not key=value; e.g. region=eu-west-1", envrc, kv)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("%s: use awsrole: %s given twice", envrc, k)
		}
		m[k] = v
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(m); err != nil {
		return nil, err
	}
	cfg, err := dirconfig.Parse(envrc, buf.Bytes())
	if err != nil {
		return nil, err
	}
	// policy_file is relative to the .envrc's directory, with a project
	// file's rules; read here, or the role would be assumed un-narrowed.
	if err := cfg.LoadPolicyFile(); err != nil {
		return nil, err
	}
	return cfg, nil
}
