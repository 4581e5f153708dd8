package engine

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/state"
	"github.com/awsrole/awsrole/internal/transition"
	"github.com/awsrole/awsrole/internal/wire"
)

// recordOf is the record a shell has after failing at f (nil: none), as
// the state store gives it back.
func recordOf(t *testing.T, f *state.Failure) *state.Record {
	t.Helper()
	if f == nil {
		return nil
	}
	st := state.Store{Dir: t.TempDir()}
	if err := st.RecordFailure(1, *f); err != nil {
		t.Fatal(err)
	}
	return st.Last(1)
}

func TestDecide(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	a := &transition.Active{Dir: "/a", File: "/a/.awsrole.toml", Hash: "ha", RoleARN: "arn:a", Expiration: now.Add(time.Hour)}
	targetA := transition.Target{Dir: "/a", File: "/a/.awsrole.toml", Hash: "ha"}
	targetB := transition.Target{Dir: "/b", File: "/b/.awsrole.toml", Hash: "hb"}
	broken := errors.New("broken")
	userFail := state.Failure{PWD: "/b", File: "user-config"}
	recent := func(f state.Failure) *state.Failure { f.At = now.Add(-30 * time.Second); return &f }
	old := func(f state.Failure) *state.Failure { f.At = now.Add(-2 * state.Backoff); return &f }
	for _, tt := range []struct {
		name string
		o    observation
		last *state.Failure
		want decision
	}{
		{"nothing here, nothing active: stay, forget failures",
			observation{}, nil, decision{move: moveStay, kind: transition.Stay, clear: true}},
		{"same project: stay", observation{path: a.File, act: a, target: targetA}, nil,
			decision{move: moveStay, kind: transition.Stay}},
		{"a child shell adopts its parent's snapshot", observation{path: a.File, act: a, target: targetA, adopt: true}, nil,
			decision{move: moveStay, kind: transition.Stay, adopt: true}},
		{"the endpoint is gone: renew", observation{path: a.File, act: a, target: targetA, endpointGone: true}, nil,
			decision{move: moveEnter, kind: transition.Refresh}},
		{"no file, a role active: leave", observation{act: a}, nil, decision{move: moveLeave, kind: transition.Leave}},
		{"a file not approved: leave", observation{path: "/b/.awsrole.toml", act: a}, nil,
			decision{move: moveLeave, kind: transition.Leave}},
		{"enter", observation{path: targetB.File, target: targetB}, nil, decision{move: moveEnter, kind: transition.Enter}},
		{"switch", observation{path: targetB.File, act: a, target: targetB}, nil, decision{move: moveEnter, kind: transition.Switch}},
		{"user config broken: report", observation{err: broken, fail: userFail}, nil,
			decision{move: moveReport, err: broken, fail: state.Failure{PWD: "/b", File: "user-config", At: now, Error: "broken"}}},
		{"user config broken with a role active: report, keep it", observation{err: broken, fail: userFail, act: a}, nil,
			decision{move: moveReport, err: broken, fail: state.Failure{PWD: "/b", File: "user-config", At: now, Error: "broken"}}},
		{"user config broken, reported 30s ago: quiet", observation{err: broken, fail: userFail}, recent(userFail),
			decision{move: moveQuiet}},
		{"user config broken, reported past the back-off: report again", observation{err: broken, fail: userFail}, old(userFail),
			decision{move: moveReport, err: broken, fail: state.Failure{PWD: "/b", File: "user-config", At: now, Error: "broken"}}},
		{"another project's file broken: leave the role behind", observation{err: broken, fileErr: true, path: "/b/.awsrole.toml", act: a,
			fail: state.Failure{PWD: "/b", File: "/b/.awsrole.toml", Hash: "judge:x"}}, nil,
			decision{move: moveLeaveFailed, err: errors.New("broken; left /a"),
				fail: state.Failure{PWD: "/b", File: "/b/.awsrole.toml", Hash: "judge:x", At: now, Error: "broken; left /a"}}},
		{"another project's file broken, said before: leave quietly", observation{err: broken, fileErr: true, path: "/b/.awsrole.toml", act: a,
			fail: state.Failure{PWD: "/b", File: "/b/.awsrole.toml", Hash: "judge:x"}}, recent(state.Failure{PWD: "/b", File: "/b/.awsrole.toml", Hash: "judge:x"}),
			decision{move: moveLeaveFailed, fail: state.Failure{PWD: "/b", File: "/b/.awsrole.toml", Hash: "judge:x", At: now}}},
		{"the active project's own file broken: report, keep", observation{err: broken, fileErr: true, path: a.File, act: a,
			fail: state.Failure{PWD: "/a", File: a.File, Hash: "judge:y"}}, nil,
			decision{move: moveReport, err: broken, fail: state.Failure{PWD: "/a", File: a.File, Hash: "judge:y", At: now, Error: "broken"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.now, tt.o.last = now, recordOf(t, tt.last)
			if tt.o.pwd == "" {
				tt.o.pwd = "/b"
			}
			same(t, decide(tt.o), tt.want)
		})
	}
}

func TestDecideEntry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	a := &transition.Active{Dir: "/a", File: "/a/.awsrole.toml", Hash: "ha", RoleARN: "arn:a", Expiration: now.Add(10 * time.Minute)}
	targetB := transition.Target{Dir: "/b", File: "/b/.awsrole.toml", Hash: "hb"}
	key := state.Failure{PWD: "/b", File: targetB.File, Hash: "hb:w1"}
	at := func(f state.Failure, t time.Time) state.Failure { f.At = t; return f }
	recent := func(f state.Failure) *state.Failure { f.At = now.Add(-30 * time.Second); return &f }
	signedOut := func(f state.Failure) *state.Failure { f.At = now.Add(-time.Hour); f.SignIn = true; return &f }
	noProfile := errors.New("no profile corp")
	for _, tt := range []struct {
		name    string
		kind    transition.Kind
		act     *transition.Active
		last    *state.Failure
		projErr error
		want    decision
	}{
		{"enter", transition.Enter, nil, nil, nil, decision{move: moveEnter, kind: transition.Enter, fail: at(key, now)}},
		{"the same failure 30s ago: quiet", transition.Enter, nil, recent(key), nil, decision{move: moveQuiet}},
		{"the same failure 30s ago on a switch: leave quietly", transition.Switch, a, recent(key), nil,
			decision{move: moveLeaveFailed, fail: at(key, now)}},
		{"a mended failure (the watched files changed): enter", transition.Enter, nil, recent(state.Failure{PWD: "/b", File: targetB.File, Hash: "hb:w0"}), nil,
			decision{move: moveEnter, kind: transition.Enter, fail: at(key, now)}},
		{"a sign-in given up on, long ago: enter without one", transition.Enter, nil, signedOut(key), nil,
			decision{move: moveEnter, kind: transition.Enter, fail: at(key, now), noSignIn: true}},
		{"the project cannot be resolved: report", transition.Enter, nil, nil, noProfile,
			decision{move: moveReport, err: noProfile, fail: state.Failure{PWD: "/b", File: targetB.File, Hash: "hb", At: now, Error: "no profile corp"}}},
		{"the project cannot be resolved on a switch: leave", transition.Switch, a, nil, noProfile,
			decision{move: moveLeaveFailed, err: errors.New("no profile corp; left /a"),
				fail: state.Failure{PWD: "/b", File: targetB.File, Hash: "hb", At: now, Error: "no profile corp; left /a"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := observation{now: now, pwd: "/b", path: targetB.File, act: tt.act, target: targetB, last: recordOf(t, tt.last)}
			same(t, decideEntry(o, tt.kind, tt.projErr, ":w1"), tt.want)
		})
	}
}

func TestDecideFetchFailed(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	later := now.Add(5 * time.Second)
	a := &transition.Active{Dir: "/a", File: "/a/.awsrole.toml", Hash: "ha", RoleARN: "arn:a", Expiration: now.Add(10 * time.Minute)}
	targetA := transition.Target{Dir: "/a", File: a.File, Hash: "ha"}
	targetB := transition.Target{Dir: "/b", File: "/b/.awsrole.toml", Hash: "hb"}
	denied := errors.New("AccessDenied")
	signIn := &wire.SignInError{Msg: "sign-in timed out"}
	for _, tt := range []struct {
		name     string
		kind     transition.Kind
		act      *transition.Active
		target   transition.Target
		err      error
		noSignIn bool
		want     decision
		wantErr  string
	}{
		{"enter fails: report at the time it failed, keyed on the files after the attempt", transition.Enter, nil, targetB, denied, false,
			decision{move: moveReport, fail: state.Failure{PWD: "/b", File: targetB.File, Hash: "hb:w2", At: later, Error: "AccessDenied"}}, "AccessDenied"},
		{"a sign-in fails: remembered, so the next prompts do not start one", transition.Enter, nil, targetB, signIn, false,
			decision{move: moveReport, fail: state.Failure{PWD: "/b", File: targetB.File, Hash: "hb:w2", At: later, SignIn: true, Error: signIn.Error()}}, signIn.Error()},
		{"a sign-in given up on stays given up", transition.Enter, nil, targetB, denied, true,
			decision{move: moveReport, fail: state.Failure{PWD: "/b", File: targetB.File, Hash: "hb:w2", At: later, SignIn: true, Error: "AccessDenied"}}, "AccessDenied"},
		{"a switch fails: leave the role behind", transition.Switch, a, targetB, denied, false,
			decision{move: moveLeaveFailed, fail: state.Failure{PWD: "/b", File: targetB.File, Hash: "hb:w2", At: now, Error: "AccessDenied; left /a"}}, "AccessDenied; left /a"},
		{"a renewal fails: keep the credentials, say until when", transition.Refresh, a, targetA, denied, false,
			decision{move: moveReport}, "AccessDenied; kept the credentials of /a, valid until"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := observation{now: now, pwd: "/b", path: tt.target.File, act: tt.act, target: tt.target}
			d := decision{move: moveEnter, kind: tt.kind, noSignIn: tt.noSignIn, fail: state.Failure{PWD: "/b", File: tt.target.File, Hash: tt.target.Hash + ":w1", At: now}}
			got := decideFetchFailed(o, d, tt.err, ":w2", later)
			if got.err == nil || !strings.HasPrefix(got.err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q…", got.err, tt.wantErr)
			}
			if tt.kind == transition.Refresh {
				if got.move != moveReport || got.fail.Hash != "ha:w2" || !got.fail.At.Equal(later) {
					t.Errorf("got %+v", got)
				}
				return
			}
			tt.want.err = got.err
			same(t, got, tt.want)
		})
	}
}

// same compares decisions, errors by their text.
func same(t *testing.T, got, want decision) {
	t.Helper()
	ge, we := "", ""
	if got.err != nil {
		ge = got.err.Error()
	}
	if want.err != nil {
		we = want.err.Error()
	}
	got.err, want.err = nil, nil
	if ge != we || !got.fail.At.Equal(want.fail.At) {
		t.Errorf("err %q at %v, want %q at %v", ge, got.fail.At, we, want.fail.At)
	}
	got.fail.At, want.fail.At = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("decision %s %+v, want %s %+v", got.move, got, want.move, want)
	}
}

var moveNames = [...]string{"stay", "leave", "enter", "leave-failed", "report", "quiet"}

// String names a move in the table's failures.
func (m move) String() string { return moveNames[m] }
