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
		Use:   shellUsage("install", shellgen.UseInstall),
		Short: "Add the hook to the shell's rc file, or the direnv library (idempotent)",
		Example: `  awsrole install bash     # or zsh, fish, nu, elvish
  awsrole install direnv   # then: use awsrole, in an .envrc`,
		Long:      "Add the hook to ~/.bashrc, ${ZDOTDIR:-~}/.zshrc, $XDG_CONFIG_HOME/fish/conf.d/awsrole.fish, $XDG_CONFIG_HOME/nushell/autoload/awsrole.nu or $XDG_CONFIG_HOME/elvish/rc.elv, between marker lines; for direnv, write $XDG_CONFIG_HOME/direnv/lib/awsrole.sh, which defines `use awsrole`. Running it again changes nothing.",
		ValidArgs: shellgen.Names(shellgen.UseInstall),
		Args:      shellArg(shellgen.UseInstall),
		RunE: func(cmd *cobra.Command, args []string) error {
			shell := args[0]
			exe, err := executable()
			if err != nil {
				return err
			}
			in, err := shellgen.InstallFor(shell, exe, os.Getenv)
			if err != nil {
				return err
			}
			change, err := hooks.Install(in.File, in.Block)
			if err != nil {
				return err
			}
			next := "open a new shell to use it"
			if shell == "direnv" {
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
		Use:   shellUsage("uninstall", shellgen.UseInstall),
		Short: "Remove the hook from the shell's rc file (the rest stays byte-identical), or the direnv library",
		Example: `  awsrole uninstall zsh
  awsrole uninstall direnv`,
		ValidArgs: shellgen.Names(shellgen.UseInstall),
		Args:      shellArg(shellgen.UseInstall),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The binary path only shapes the block, not where it is.
			in, err := shellgen.InstallFor(args[0], "awsrole", os.Getenv)
			if err != nil {
				return err
			}
			change, err := hooks.Uninstall(in.File, in.Owned)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "awsrole: %s\n", change.Action)
			return nil
		},
	}
}
