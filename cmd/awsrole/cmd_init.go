package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/engine"
	"github.com/awsrole/awsrole/internal/termsafe"
	"github.com/awsrole/awsrole/internal/wire"
)

const initTemplate = `# awsrole: the AWS IAM role for this directory and everything below it.
# Docs: awsrole help; approve changes with 'awsrole allow'.

%s
%s# session_name = "me-project"      # default: awsrole-<your user name>
# duration     = "1h"              # 15m to 12h
# external_id  = "..."             # if the role's trust policy asks for one
%s`

// initRegionLine is the template's commented region, for a file that
// names none.
const initRegionLine = `# region       = "eu-west-1"       # sets AWS_REGION and AWS_DEFAULT_REGION
`

// initSourceLines are the template's commented keys that name base
// credentials: not for a file whose source is an IAM Identity Center role.
const initSourceLines = `# source_profile = "corp"          # base credentials from this ~/.aws/config profile
# mfa_serial   = "arn:aws:iam::111111111111:mfa/me"
`

// initInput is what `awsrole init` was asked for.
type initInput struct {
	role                  string // ROLE_ARN, "" when not given
	ssoSession, account   string
	permissionSet, region string
	stdin                 io.Reader // where the interactive pick is read (the terminal)
	prompt                io.Writer
	list                  func(session string) ([]wire.Assignment, error)
	env                   map[string]string // the user's environment, for the region they use
}

func initCmd() *cobra.Command {
	in := initInput{}
	c := &cobra.Command{
		Use:   "init [ROLE_ARN] [--sso-session NAME [--account ID --role NAME]]",
		Short: "Write a commented .awsrole.toml here and approve it",
		Example: `  awsrole init arn:aws:iam::222222222222:role/deploy --region eu-west-1
  awsrole init --sso-session corp                                  # pick an account and permission set
  awsrole init --sso-session corp --account 222222222222 --role Deploy`,
		Long: `Write a commented .awsrole.toml here. With ROLE_ARN, or with an IAM Identity
Center account and permission set, the file is approved at once.

With --sso-session, awsrole lists the accounts and permission sets you can
reach in that session and lets you pick one on the terminal; --account and
--role pick without asking. A ROLE_ARN given as well becomes one more hop
from the permission set's role.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				in.role = args[0]
			}
			dir, err := os.Getwd()
			if err != nil {
				return err
			}
			in.prompt, in.env = cmd.ErrOrStderr(), environ()
			in.list = func(session string) ([]wire.Assignment, error) {
				reply, err := newHelper(stores().Cache).Run(context.Background(),
					wire.Call{Op: wire.OpAssignments, Login: wire.Login{Session: session}}, nil)
				return reply.Assignments, err
			}
			if tty, err := os.Open("/dev/tty"); err == nil {
				defer tty.Close()
				in.stdin = tty
			}
			return runInit(cmd.OutOrStdout(), dir, in)
		},
	}
	c.Flags().StringVar(&in.ssoSession, "sso-session", "", "IAM Identity Center session ([sso-session NAME] of ~/.aws/config) to pick an account and permission set from")
	c.Flags().StringVar(&in.account, "account", "", "with --sso-session: the account id, without asking")
	c.Flags().StringVar(&in.permissionSet, "role", "", "with --sso-session: the permission set, without asking")
	c.Flags().StringVar(&in.region, "region", "", "region for the project (AWS_REGION)")
	return c
}

func runInit(out io.Writer, dir string, in initInput) error {
	if in.stdin != nil {
		// One reader for every answer: a second would lose what the
		// first read ahead.
		in.stdin = bufio.NewReader(in.stdin)
	}
	lines, err := initLines(&in)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, engine.FileName)
	source, region := initSourceLines, initRegionLine
	if in.ssoSession != "" {
		source = ""
	}
	if in.region != "" {
		region = ""
	}
	content := []byte(fmt.Sprintf(initTemplate, strings.Join(lines, "\n")+"\n", region, source))
	if err := engine.CheckFile(path, content); err != nil {
		return err
	}
	if err := writeNew(path, content); err != nil {
		return err
	}
	if in.role == "" && in.ssoSession == "" {
		if _, err := engine.Load(path); err != nil {
			return err
		}
		fmt.Fprintf(out, "awsrole: wrote %s; set role_arn, then run 'awsrole allow'\n", termsafe.String(path))
		return nil
	}
	cfg, err := stores().Allow(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "awsrole: wrote and allowed %s (%s)\n", termsafe.String(path), termsafe.String(engine.Label(cfg)))
	return nil
}

// initLines are the keys init writes uncommented; an IAM Identity Center
// pick may ask on the terminal, and sets in.region.
func initLines(in *initInput) ([]string, error) {
	var lines []string
	if in.ssoSession != "" {
		a, err := pickAssignment(*in)
		if err != nil {
			return nil, err
		}
		if in.region == "" {
			// A permission set's credentials carry no region: without
			// one here, the aws CLI says "You must specify a region".
			if in.region, err = initRegion(*in, in.account == "" && in.permissionSet == ""); err != nil {
				return nil, err
			}
		}
		lines = append(lines, fmt.Sprintf("sso_session    = %q", in.ssoSession),
			fmt.Sprintf("sso_account_id = %q   # %s", a.AccountID, cmp.Or(a.AccountName, "account")),
			fmt.Sprintf("sso_role_name  = %q", a.RoleName))
		if in.role != "" {
			lines = append(lines, fmt.Sprintf("role_arn       = %q   # one more hop from the permission set's role", in.role))
		}
	} else {
		if in.account != "" || in.permissionSet != "" {
			return nil, errors.New("--account and --role pick from an IAM Identity Center session: add --sso-session NAME")
		}
		lines = append(lines, fmt.Sprintf("role_arn = %q   # required", cmp.Or(in.role, "arn:aws:iam::123456789012:role/CHANGE-ME")))
	}
	if in.region != "" {
		lines = append(lines, fmt.Sprintf("region = %q", in.region))
	}
	return lines, nil
}

// writeNew writes content to path, which must not exist yet.
func writeNew(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; edit it, then run 'awsrole allow'", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// pickAssignment finds the account and permission set: the one --account
// and --role name (checked against what the user can reach), else the
// user's pick from the list on the terminal.
func pickAssignment(in initInput) (wire.Assignment, error) {
	list, err := in.list(in.ssoSession)
	if err != nil {
		return wire.Assignment{}, err
	}
	if len(list) == 0 {
		return wire.Assignment{}, fmt.Errorf("IAM Identity Center session %s gives you no account and permission set", in.ssoSession)
	}
	if in.account != "" || in.permissionSet != "" {
		for _, a := range list {
			if a.AccountID == in.account && a.RoleName == in.permissionSet {
				return a, nil
			}
		}
		return wire.Assignment{}, fmt.Errorf("IAM Identity Center session %s gives you no permission set %q in account %q; run without --account and --role to pick from what you can reach", in.ssoSession, in.permissionSet, in.account)
	}
	if in.stdin == nil {
		return wire.Assignment{}, errors.New("no terminal to pick on; name the account and permission set with --account and --role")
	}
	for i, a := range list {
		fmt.Fprintf(in.prompt, "%3d  %s  %-24s %s\n", i+1, a.AccountID, credcache.OneLine(a.AccountName), credcache.OneLine(a.RoleName))
	}
	fmt.Fprintf(in.prompt, "awsrole: which one (1-%d)? ", len(list))
	line, _ := in.stdin.(*bufio.Reader).ReadString('\n')
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || n < 1 || n > len(list) {
		return wire.Assignment{}, fmt.Errorf("%q is not a number from 1 to %d; nothing written", strings.TrimSpace(line), len(list))
	}
	return list[n-1], nil
}

// initRegion is the region an IAM Identity Center project gets: the one
// the user works in (AWS_REGION, AWS_DEFAULT_REGION), else the session's
// sso_region; on the terminal (ask) the user may type another. "" when
// there is none to offer and none typed.
func initRegion(in initInput, ask bool) (string, error) {
	region, from := in.env["AWS_REGION"], "your AWS_REGION"
	if region == "" {
		region, from = in.env["AWS_DEFAULT_REGION"], "your AWS_DEFAULT_REGION"
	}
	if region == "" {
		if files, err := stores().AWS.Load(); err == nil {
			if sec, ok := files.SSOSession(in.ssoSession); ok {
				region, from = sec["sso_region"], "the sso_region of [sso-session "+in.ssoSession+"]"
			}
		}
	}
	if !ask || in.stdin == nil {
		return region, nil
	}
	if region != "" {
		fmt.Fprintf(in.prompt, "awsrole: region for this project (Enter for %s, %s)? ", termsafe.String(region), termsafe.String(from))
	} else {
		fmt.Fprintf(in.prompt, "awsrole: region for this project (Enter for none)? ")
	}
	line, _ := in.stdin.(*bufio.Reader).ReadString('\n')
	if typed := strings.TrimSpace(line); typed != "" {
		return typed, nil
	}
	return region, nil
}
