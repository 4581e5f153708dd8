package engine

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/state"
	"github.com/awsrole/awsrole/internal/transition"
	"github.com/awsrole/awsrole/internal/wire"
)

// A hook call is observe → decide → act. observe reads everything the
// call depends on once (the user config, the shell's snapshot and failure
// record, the file and its trust); decide, here, is pure: what to do,
// with the back-off and sign-in policy, from the observation alone; act
// fetches, saves and writes the failure record once.
//
// Entering has two more decisions, pure as well: decideEntry once the
// project is resolved (only a call that enters reads the AWS config), and
// decideFetchFailed when fetching its credentials failed.

// move is what one hook call does.
type move int

const (
	moveStay        move = iota // keep what the shell has
	moveLeave                   // leave the active role: no file here, or one not approved
	moveEnter                   // resolve the project and fetch its role (Enter, Switch, Refresh)
	moveLeaveFailed             // leave the active role: the role here cannot be had
	moveReport                  // change nothing; record the failure and report it
	moveQuiet                   // change nothing; an earlier prompt reported this failure
)

// observation is what a hook call found before changing anything.
type observation struct {
	now time.Time
	pwd string
	// last is the shell's failure or notice record, read once (nil: none).
	last *state.Record
	// err is a stage that failed before a decision could be made: the
	// user config, the snapshot, finding or judging the file; fail is the
	// key it is recorded under. fileErr: it is the file's, so another
	// project's role is left for it.
	err     error
	fail    state.Failure
	fileErr bool

	path   string             // the file that applies ("" when none)
	act    *transition.Active // what the shell has active (a snapshot's or an orphan's)
	target transition.Target  // the approved file, zero when none
	// adopt: the active snapshot is another process's (the shell was
	// started inside a project) and is to be copied.
	adopt bool
	// endpointGone: the shell holds awsrole's endpoint URI and no server
	// answers to it.
	endpointGone  bool
	refreshBefore time.Duration
	// gone is the snapshot of a role left as an orphan ("" when none).
	gone string
}

// decision is what a hook call does.
type decision struct {
	move move
	kind transition.Kind // for moveEnter
	// clear: forget the shell's failure record (it is out of any project).
	clear bool
	adopt bool
	// noSignIn: a sign-in this shell gave up on (or that failed) is not
	// started again at every prompt; a cd starts one.
	noSignIn bool
	// fail is the failure to record (moveReport; moveLeaveFailed when err
	// is set) or, for moveEnter, the key a failed fetch builds on.
	fail state.Failure
	err  error
}

func decide(o observation) decision {
	if o.err != nil {
		o.fail.At = o.now
		if o.fileErr && o.act != nil && o.path != o.act.File {
			// Another project's file is broken: its role cannot be had,
			// and the one of the project behind us must not stay.
			return leaveFailed(o, o.fail, o.err)
		}
		return report(o, o.fail, o.err)
	}
	kind := transition.Decide(o.act, o.target, o.now, o.refreshBefore)
	if kind == transition.Stay && o.endpointGone {
		// The server whose URI the shell holds was killed or replaced:
		// registering again starts one and exports its URI and token.
		kind = transition.Refresh
	}
	switch kind {
	case transition.Stay:
		// Out of any project, a failure is behind us: coming back tries
		// again at once.
		return decision{move: moveStay, kind: kind, clear: o.path == "", adopt: o.adopt}
	case transition.Leave:
		return decision{move: moveLeave, kind: kind}
	}
	return decision{move: moveEnter, kind: kind}
}

// decideEntry decides an entry (kind) once its project is resolved:
// projErr is why it could not be, watched the state of the files it
// depends on (Project.Watched).
func decideEntry(o observation, kind transition.Kind, projErr error, watched string) decision {
	fail := state.Failure{PWD: o.pwd, File: o.target.File, Hash: o.target.Hash, At: o.now}
	if projErr == nil {
		// Signing in again or editing the profile mends a failure: try
		// again at once then.
		fail.Hash += watched
	}
	if o.last.Repeats(fail) {
		if kind == transition.Switch {
			return leaveFailed(o, fail, nil)
		}
		return decision{move: moveQuiet}
	}
	if projErr != nil {
		return failedEntry(o, kind, fail, projErr, o.now)
	}
	return decision{move: moveEnter, kind: kind, fail: fail, noSignIn: o.last.SignInFailed(fail)}
}

// decideFetchFailed decides what a failed entry d leaves (err, at time
// at), watched being the state of its files after the attempt: a token
// the attempt wrote does not mend its own failure.
func decideFetchFailed(o observation, d decision, err error, watched string, at time.Time) decision {
	fail := d.fail
	fail.Hash = o.target.Hash + watched
	var signIn *wire.SignInError
	fail.SignIn = d.noSignIn || errors.As(err, &signIn)
	return failedEntry(o, d.kind, fail, err, at)
}

// failedEntry: a switch leaves the previous project's role; a renewal
// keeps the project's own credentials and says until when they work.
func failedEntry(o observation, kind transition.Kind, fail state.Failure, err error, at time.Time) decision {
	switch kind {
	case transition.Switch:
		return leaveFailed(o, fail, err)
	case transition.Refresh:
		err = kept(err, o.act, o.now)
	}
	fail.At = at
	return report(o, fail, err)
}

// report records fail and reports err, unless the same failure was
// reported less than state.Backoff ago.
func report(o observation, fail state.Failure, err error) decision {
	if o.last.Repeats(fail) {
		return decision{move: moveQuiet}
	}
	fail.Error = credcache.OneLine(err.Error())
	return decision{move: moveReport, fail: fail, err: err}
}

// leaveFailed leaves o.act because the role of the directory the shell is
// now in could not be had (err; nil when an earlier prompt already said
// so): a shell never keeps a project's role outside that project. The
// failure is recorded, so the next prompts say nothing and stay left
// until the back-off is over.
func leaveFailed(o observation, fail state.Failure, err error) decision {
	d := decision{move: moveLeaveFailed, fail: fail}
	if err != nil && !o.last.Repeats(fail) {
		d.err = fmt.Errorf("%w; left %s", err, cmp.Or(o.act.Dir, o.act.RoleARN))
		d.fail.Error = credcache.OneLine(d.err.Error())
	}
	return d
}
