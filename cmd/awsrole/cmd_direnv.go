package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/internal/engine"
	"github.com/awsrole/awsrole/internal/transition"
	"github.com/awsrole/awsrole/shellgen"
)

// direnvCmd is what `use awsrole` in an .envrc runs: bash code that exports
// the role for direnv to diff, plus the files direnv should watch.
func direnvCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "direnv [ROLE_ARN [key=value...]]",
		Short: "Print what `use awsrole` in an .envrc evaluates (run by the direnv library)",
		Example: `  # .envrc (after: awsrole install direnv)
  use awsrole
  use awsrole arn:aws:iam::222222222222:role/deploy region=eu-west-1`,
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := os.Getwd()
			if err != nil {
				return err
			}
			eng := newEngine()
			r := eng.Resolve(dir, environ())
			if r.UserErr != nil {
				return r.UserErr
			}
			var role *engine.Role
			var watch []string
			if len(args) == 0 {
				role, err = eng.ForResolution(context.Background(), r, 0)
				if role != nil {
					watch = append(watch, role.Config.Path)
				}
			} else {
				// Inline: the .envrc is direnv's to approve; same keys and
				// checks as a file.
				var cfg *engine.Config
				if cfg, err = engine.InlineConfig(filepath.Join(dir, ".envrc"), args); err == nil {
					role, err = eng.ForConfig(context.Background(), r, cfg, 0)
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
			watch = append(append(watch, r.TrustWatch()...), role.Watch...)
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
