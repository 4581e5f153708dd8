package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/internal/engine"
)

func allowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "allow [DIR]",
		Short: "Approve the .awsrole.toml that applies to DIR (default: here), as it is now",
		Example: `  awsrole allow                 # approve the .awsrole.toml that applies here
  awsrole allow ~/src/payments  # approve the one that applies to that directory`,
		Long: "Approve the .awsrole.toml that applies to DIR by a hash of its path and content. Any edit revokes the approval.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := applyingPath(args)
			if err != nil {
				return err
			}
			cfg, err := stores().Allow(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "awsrole: allowed %s%s (%s)\n", oneLine(cfg.Path), resolvesTo(cfg.Path, cfg.RealPath), oneLine(engine.Label(cfg)))
			return nil
		},
	}
}

func denyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "deny [DIR]",
		Short: "Block the .awsrole.toml that applies to DIR (default: here) until allowed again",
		Example: `  awsrole deny                  # block the .awsrole.toml that applies here
  awsrole deny ~/src/vendor     # block the one that applies to that directory`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := applyingPath(args)
			if err != nil {
				return err
			}
			// By path: a file that does not even parse can be blocked.
			if err := stores().Deny(path); err != nil {
				return err
			}
			real, _ := filepath.EvalSymlinks(path)
			fmt.Fprintf(cmd.OutOrStdout(), "awsrole: denied %s%s\n", oneLine(path), resolvesTo(path, real))
			return nil
		},
	}
}

// resolvesTo tells where a path with symlinks lands, since trust is
// recorded for that ("" when it is the same or unknown).
func resolvesTo(path, real string) string {
	if real == "" || real == path {
		return ""
	}
	return " (which is " + oneLine(real) + ")"
}

// applyingPath finds the file that applies to args[0] (default: the
// current directory).
func applyingPath(args []string) (string, error) {
	dir := "."
	if len(args) == 1 {
		dir = args[0]
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory", dir)
	}
	r := stores().Resolve(dir, nil)
	if r.FindErr != nil {
		return "", r.FindErr
	}
	if r.Path == "" {
		return "", fmt.Errorf("no %s in %s or any directory above it; create one with 'awsrole init ROLE_ARN'", engine.FileName, dir)
	}
	return r.Path, nil
}
