package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/state"
	"github.com/awsrole/awsrole/internal/termsafe"
	"github.com/awsrole/awsrole/internal/tty"
)

// Asker asks the user a yes/no question; ErrNoTerminal when there is no
// one to ask.
type Asker interface {
	Ask(question string) (bool, error)
}

// ErrNoTerminal is an Asker's answer when it has no terminal to ask on.
var ErrNoTerminal = errors.New("no terminal to ask on")

// TTYAsker asks on the controlling terminal, /dev/tty: the hook's stdout
// is captured and its stdin may be anything.
type TTYAsker struct{}

// Ask prints question on the terminal and reads one line: y or yes is
// yes; anything else, an empty line or Ctrl-C is no.
func (TTYAsker) Ask(question string) (bool, error) {
	answer, err := tty.Ask(question)
	switch {
	case errors.Is(err, tty.ErrNoTerminal):
		return false, ErrNoTerminal
	case err != nil:
		return false, nil // Ctrl-C is no
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// Question is what entering cfg's role asks when it has confirm = true:
// "Enter role deploy@222222222222 (prod)? [y/N]".
func Question(cfg *dirconfig.Config) string {
	q := "Enter role " + ShortRole(Label(cfg))
	if cfg.Environment != "" {
		q += " (" + cfg.Environment + ")"
	}
	return q + "? [y/N]"
}

// ShortRole is "NAME@ACCOUNT" for arn:aws:iam::ACCOUNT:role/path/NAME,
// and for an IAM Identity Center permission set's label, sso:ACCOUNT/NAME.
func ShortRole(arn string) string {
	if rest, ok := strings.CutPrefix(arn, credreq.SSOPrefix); ok {
		if account, name, ok := strings.Cut(rest, "/"); ok {
			return name + "@" + account
		}
	}
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
		return parts[5][strings.LastIndex(parts[5], "/")+1:] + "@" + parts[4]
	}
	return arn
}

// approved decides whether the shell may enter cfg's role: always, unless
// the file has confirm = true; then yes when the shell already holds this
// project (it said yes when it entered, and the answer lasts until it
// leaves), else the user's answer. A no, or no terminal, is said once and
// remembered for this shell and directory until the shell leaves every
// project; meanwhile the file counts as none.
func (e *Engine) approved(in Input, cfg *dirconfig.Config, o *observation) bool {
	if act := o.act; !cfg.Confirm || act != nil && act.File == cfg.Path && act.Hash == cfg.Hash {
		return true
	}
	n := state.Notice{PWD: in.PWD, File: cfg.Path, Hash: cfg.Hash, Kind: state.Declined}
	if o.last.Noticed(n) {
		return false
	}
	var yes bool
	err := ErrNoTerminal
	if e.Ask != nil {
		yes, err = e.Ask.Ask(Question(cfg))
	}
	if yes && err == nil {
		return true
	}
	o.last, _ = e.State.RecordNotice(in.PID, n, e.Now())
	msg := fmt.Sprintf("not entering %s: declined; the shell is unchanged (cd into the project again to be asked again)", ShortRole(Label(cfg)))
	if err != nil {
		msg = fmt.Sprintf("not entering %s: %s asks before entering (confirm = true) and there is %s", ShortRole(Label(cfg)), cfg.Path, err)
	}
	fmt.Fprintf(e.Notice, "awsrole: %s\n", termsafe.String(msg))
	return false
}

// ConfirmOnce is the check of exec, credential-process and console: a
// file with confirm = true needs yes (--yes) or an answer on the terminal.
func (e *Engine) ConfirmOnce(cfg *dirconfig.Config) error {
	if !cfg.Confirm || e.Yes {
		return nil
	}
	var yes bool
	err := ErrNoTerminal
	if e.Ask != nil {
		yes, err = e.Ask.Ask(Question(cfg))
	}
	switch {
	case err != nil:
		return fmt.Errorf("%s asks before using its role (confirm = true) and there is %s; pass --yes to approve", cfg.Path, err)
	case !yes:
		return fmt.Errorf("not using %s: declined", ShortRole(Label(cfg)))
	}
	return nil
}
