package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/shellgen"
)

func hookCmd() *cobra.Command {
	return &cobra.Command{
		Use:   shellUsage("hook", shellgen.UseHook),
		Short: "Print the shell hook: eval \"$(awsrole hook bash)\", or for fish: awsrole hook fish | source",
		Example: `  eval "$(awsrole hook bash)"     # ~/.bashrc
  eval "$(awsrole hook zsh)"      # ~/.zshrc
  awsrole hook fish | source      # ~/.config/fish/config.fish
  eval (awsrole hook elvish | slurp)   # ~/.config/elvish/rc.elv
  awsrole hook nu | save -f ~/.config/nushell/autoload/awsrole.nu   # or: awsrole install nu
  awsrole hook direnv             # the direnv library (see: awsrole install direnv)`,
		ValidArgs: shellgen.Names(shellgen.UseHook),
		Args:      shellArg(shellgen.UseHook),
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
