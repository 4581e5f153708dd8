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
		Use:       "install bash|zsh|fish",
		Short:     "Add the hook to the shell's rc file (idempotent)",
		Long:      "Add the hook to ~/.bashrc, ${ZDOTDIR:-~}/.zshrc or $XDG_CONFIG_HOME/fish/conf.d/awsrole.fish, between marker lines. Running it again changes nothing.",
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args:      shellArg("bash", "zsh", "fish"),
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
			bin, err := shellgen.Quote(shell, exe)
			if err != nil {
				return err
			}
			line := fmt.Sprintf(`eval "$(%s hook %s)"`, bin, shell)
			if shell == "fish" {
				line = fmt.Sprintf("%s hook fish | source", bin)
			}
			change, err := hooks.Install(shell, rc, line)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "awsrole: %s; open a new shell to use it\n", change.Action)
			return nil
		},
	}
}

func uninstallCmd() *cobra.Command {
	return &cobra.Command{
		Use:       "uninstall bash|zsh|fish",
		Short:     "Remove the hook from the shell's rc file, leaving the rest byte-identical",
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args:      shellArg("bash", "zsh", "fish"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rc, err := hooks.RCFile(args[0], os.Getenv)
			if err != nil {
				return err
			}
			change, err := hooks.Uninstall(args[0], rc)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "awsrole: %s\n", change.Action)
			return nil
		},
	}
}
