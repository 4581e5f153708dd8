package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/engine"
	"github.com/awsrole/awsrole/internal/human"
	"github.com/awsrole/awsrole/internal/termsafe"
)

func listCmd() *cobra.Command {
	var asJSON, prune bool
	var scan []string
	c := &cobra.Command{
		Use:     "list [--scan DIR]... [--json] [--prune]",
		Aliases: []string{"ls"},
		Short:   "List every project file awsrole knows, with role, environment, trust and cache state",
		Example: `  awsrole list
  awsrole list --scan ~/src     # also the files under a tree
  awsrole list --json
  awsrole list --prune          # forget the trust entries of files that are gone`,
		Long: `List every .awsrole.toml awsrole knows of: those you allowed or denied (the
trust store records each path), and with --scan those under DIR. Each shows
its role (or IAM Identity Center account and permission set), environment,
trust state and until when its credentials are cached. Files that are gone
are shown as such; --prune removes their entries from the trust store.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			now := time.Now()
			list, err := newEngine().List(scan, environ(), now)
			if err != nil {
				return err
			}
			if prune {
				removed, err := engine.Prune(list)
				for _, p := range removed {
					fmt.Fprintf(cmd.ErrOrStderr(), "awsrole: forgot %s (gone)\n", oneLine(p))
				}
				if err != nil {
					return err
				}
				kept := list[:0]
				for _, l := range list {
					if l.State != engine.Gone {
						kept = append(kept, l)
					}
				}
				list = kept
			}
			if asJSON {
				if list == nil {
					list = []*engine.Listed{}
				}
				data, err := json.MarshalIndent(list, "", "  ")
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(append(termsafe.JSON(data), '\n'))
				return err
			}
			printList(cmd.OutOrStdout(), list, now)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	c.Flags().BoolVar(&prune, "prune", false, "remove the trust entries of files that are gone")
	c.Flags().StringArrayVar(&scan, "scan", nil, "also find project files under DIR (repeatable)")
	return c
}

func printList(w io.Writer, list []*engine.Listed, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tTRUST\tROLE\tENV\tCACHED")
	for _, l := range list {
		role := l.RoleARN
		if l.SSOAccountID != "" {
			role = credreq.SSORole{AccountID: l.SSOAccountID, RoleName: l.SSORoleName}.Label()
			if l.RoleARN != "" {
				role += " -> " + l.RoleARN
			}
		}
		if len(l.Via) > 0 {
			role = strings.Join(l.Via, " -> ") + " -> " + role
		}
		if l.Error != "" {
			role = "error: " + l.Error
		}
		cached := "-"
		if !l.CachedUntil.IsZero() {
			cached = "until " + human.Time(l.CachedUntil) + " (" + strings.TrimSuffix(l.CachedUntil.Sub(now).Round(time.Minute).String(), "0s") + ")"
		}
		env := l.Environment
		if l.Confirm {
			env += " (confirm)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", oneLine(l.Path), l.State, oneLine(role), oneLine(strings.TrimSpace(env)), cached)
	}
	tw.Flush()
}
