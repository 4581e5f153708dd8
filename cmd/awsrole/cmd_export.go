package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/internal/engine"
	"github.com/awsrole/awsrole/shellgen"
)

func exportCmd() *cobra.Command {
	var pid int
	c := &cobra.Command{
		Use:   shellUsage("export", shellgen.UseExport),
		Short: "Print the code that moves this shell to the state its directory asks for (run by the hook)",
		Example: `  awsrole export bash    # what the bash hook evaluates at a prompt
  awsrole export json    # the same changes as JSON (null: unset)`,
		ValidArgs: shellgen.Names(shellgen.UseExport),
		Args:      shellArg(shellgen.UseExport),
		RunE: func(cmd *cobra.Command, args []string) error {
			sh, err := shellgen.Get(args[0], shellgen.UseExport)
			if err != nil {
				return err
			}
			pwd, err := os.Getwd()
			if err != nil {
				return fmt.Errorf("current directory: %w", err)
			}
			if pid == 0 {
				pid = os.Getppid()
			}
			res, err := newEngine().Export(context.Background(), engine.Input{Env: environ(), PWD: pwd, PID: pid})
			if err != nil {
				return err
			}
			out, err := shellgen.Answer(sh.Name(), res.Changes, res.Steady)
			if err != nil {
				return err
			}
			if _, err := os.Stdout.WriteString(out); err != nil {
				return err
			}
			if res.Err != nil {
				// The changes above must still be evaluated (they leave the
				// previous project), so the status stays 0: the hooks
				// evaluate only a successful answer.
				fmt.Fprintf(os.Stderr, "awsrole: %s\n", oneLine(res.Err.Error()))
			}
			return nil
		},
	}
	c.Flags().IntVar(&pid, "pid", 0, "process id of the shell (default: the parent process)")
	return c
}

// environ is the process environment as a map.
func environ() map[string]string {
	env := make(map[string]string)
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}
