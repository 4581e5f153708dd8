package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/shellgen"
)

func hookCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "hook bash|zsh|fish",
		Short: "Print the shell hook: eval \"$(awsrole hook bash)\", or for fish: awsrole hook fish | source",
		Example: `  eval "$(awsrole hook bash)"     # ~/.bashrc
  eval "$(awsrole hook zsh)"      # ~/.zshrc
  awsrole hook fish | source      # ~/.config/fish/config.fish
  awsrole hook direnv             # the direnv library (see: awsrole install direnv)`,
		ValidArgs: []string{"bash", "zsh", "fish", "direnv"},
		Args:      shellArg("bash", "zsh", "fish", "direnv"),
		RunE: func(cmd *cobra.Command, args []string) error {
			exe, err := executable()
			if err != nil {
				return err
			}
			code, err := shellgen.Hook(args[0], exe)
			if err != nil {
				return err
			}
			_, err = os.Stdout.WriteString(code)
			return err
		},
	}
}
