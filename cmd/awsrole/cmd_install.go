package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/hooks"
	"github.com/awsrole/awsrole/shellgen"
)

func installCmd() *cobra.Command {
	return &cobra.Command{
		Use:       "install bash|zsh|fish|direnv",
		Short:     "Add the hook to the shell's rc file, or the direnv library (idempotent)",
		Long:      "Add the hook to ~/.bashrc, ${ZDOTDIR:-~}/.zshrc or $XDG_CONFIG_HOME/fish/conf.d/awsrole.fish, between marker lines; for direnv, write $XDG_CONFIG_HOME/direnv/lib/awsrole.sh, which defines `use awsrole`. Running it again changes nothing.",
		ValidArgs: []string{"bash", "zsh", "fish", "direnv"},
		Args:      shellArg("bash", "zsh", "fish", "direnv"),
		RunE: func(cmd *cobra.Command, args []string) error {
			shell := args[0]
			rc, err := hooks.RCFile(shell, os.Getenv)
			if err != nil {
				return err
			}
			exe, err := executable()
			if err != nil {
				return err
			}
			line, err := shellgen.RCLine(shell, exe)
			if err != nil {
				return err
			}
			change, err := hooks.Install(shell, rc, line)
			if err != nil {
				return err
			}
			next := "open a new shell to use it"
			if shell == hooks.Direnv {
				next = "write 'use awsrole' in an .envrc, then 'direnv allow'"
			}
			if change.Changed {
				fmt.Fprintf(cmd.OutOrStdout(), "awsrole: %s; %s\n", change.Action, next)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "awsrole: %s\n", change.Action)
			}
			return nil
		},
	}
}

func uninstallCmd() *cobra.Command {
	return &cobra.Command{
		Use:       "uninstall bash|zsh|fish|direnv",
		Short:     "Remove the hook from the shell's rc file (the rest stays byte-identical), or the direnv library",
		ValidArgs: []string{"bash", "zsh", "fish", "direnv"},
		Args:      shellArg("bash", "zsh", "fish", "direnv"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rc, err := hooks.RCFile(args[0], os.Getenv)
			if err != nil {
				return err
			}
			change, err := hooks.Uninstall(args[0], rc)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "awsrole: %s\n", change.Action)
			return nil
		},
	}
}
