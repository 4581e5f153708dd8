package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/internal/engine"
	"github.com/awsrole/awsrole/internal/termsafe"
	"github.com/awsrole/awsrole/shellgen"
)

// run executes the command line and returns the exit status.
func run(args []string) int { return runRoot(rootCmd(), args) }

// runRoot runs root with args: a failure is one line on stderr and status 1.
func runRoot(root *cobra.Command, args []string) int {
	err := execute(root, args)
	if err == nil {
		return 0
	}
	fmt.Fprintf(os.Stderr, "awsrole: %s\n", oneLine(err.Error()))
	return 1
}

// execute runs the command. A panic in it is a failure like any other
// (engine.Catch): one line on stderr, status 1, and nothing on stdout that
// the command had not written already (export writes its code in one
// piece, last).
func execute(root *cobra.Command, args []string) (err error) {
	defer engine.Catch(&err)
	root.SetArgs(args)
	return root.Execute()
}

// rootCmd is the command line with every command.
func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "awsrole",
		Short: "Give every project directory its own AWS IAM role",
		Long: `awsrole gives every project directory its own AWS IAM role.

A .awsrole.toml in a directory names the role; the shell hook assumes it
through STS when you cd in and puts your own variables back when you leave.`,
		Example: `  awsrole install bash              # once: the hook in ~/.bashrc (or: eval "$(awsrole hook bash)")
  cd ~/src/payments && awsrole init arn:aws:iam::123456789012:role/deploy
  awsrole status                    # which file, its role and trust, expiry`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.AddCommand(hookCmd(), installCmd(), uninstallCmd(), exportCmd(), allowCmd(), denyCmd(),
		statusCmd(), initCmd(), versionCmd(), execCmd(), credentialProcessCmd(), direnvCmd(), loginCmd(), consoleCmd(), listCmd(), serveCmd(), ciCmd(), keysCmd())
	addCompletion(root)
	return root
}

// addCompletion adds cobra's completion command now rather than at
// Execute, so that it is in the tree the man pages and the example check
// walk, and gives it and each shell's subcommand an example.
func addCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	examples := map[string]string{
		"bash":       "awsrole completion bash > ~/.local/share/bash-completion/completions/awsrole",
		"zsh":        `awsrole completion zsh > "${fpath[1]}/_awsrole"`,
		"fish":       "awsrole completion fish > ~/.config/fish/completions/awsrole.fish",
		"powershell": "awsrole completion powershell | Out-String | Invoke-Expression",
	}
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		var all []string
		for _, sh := range c.Commands() {
			if ex, ok := examples[sh.Name()]; ok {
				sh.Example = "  " + ex
				all = append(all, sh.Example)
			}
		}
		c.Example = strings.Join(all, "\n")
	}
}

// shellUsage is "NAME a|b|c" with the registry's names for use.
func shellUsage(name string, use shellgen.Use) string {
	return name + " " + strings.Join(shellgen.Names(use), "|")
}

// oneLine makes a message one line that is safe to print on a terminal:
// paths, ARNs and remote error text in it may come from anyone, so every
// control character shows as itself (a newline as \n, never as a space:
// a path with a newline must not pass for another path).
func oneLine(s string) string {
	return termsafe.String(strings.TrimSpace(s))
}

// shellArg checks the one shell-name argument against the registry.
func shellArg(use shellgen.Use) cobra.PositionalArgs {
	names := shellgen.Names(use)
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("%s needs one argument: %s", cmd.CommandPath(), strings.Join(names, ", "))
		}
		for _, n := range names {
			if args[0] == n {
				return nil
			}
		}
		return fmt.Errorf("%s: unknown shell %s; use one of %s", cmd.CommandPath(), termsafe.String(strconv.Quote(args[0])), strings.Join(names, ", "))
	}
}

func executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find awsrole's own path: %w", err)
	}
	return exe, nil
}
