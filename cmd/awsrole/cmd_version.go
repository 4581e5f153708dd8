package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at release time with -ldflags "-X main.version=v1.2.3".
var version = ""

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print awsrole's version",
		Example: `  awsrole version`,
		Args:    cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			v := version
			if info, ok := debug.ReadBuildInfo(); ok && v == "" {
				v = info.Main.Version
			}
			if v == "" || v == "(devel)" {
				v = "devel"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "awsrole %s\n", v)
		},
	}
}
