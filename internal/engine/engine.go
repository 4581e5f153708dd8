// Package engine runs one hook call: it finds the file that applies to the
// shell's directory, decides what kind of move this is, fetches credentials
// when it must, saves a new snapshot and returns the variables to change.
// A failure changes nothing, with one exception: when the role of the
// directory the shell moved to cannot be had, the role of the project it
// came from is left all the same.
package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/human"
	"github.com/awsrole/awsrole/internal/state"
	"github.com/awsrole/awsrole/internal/termsafe"
	"github.com/awsrole/awsrole/internal/transition"
	"github.com/awsrole/awsrole/shellgen"
)

// DefaultDuration is the role session length when neither the file nor the
// user config names one.
const DefaultDuration = time.Hour

// CredentialProvider fetches temporary credentials for a request from its
// resolved source, in the user's own environment (the originals of the
// managed variables): wire.Helper in the binary, a fake in tests.
type CredentialProvider interface {
	Get(ctx context.Context, req credreq.Request, src credreq.Source, originals credreq.Env) (credcache.Credentials, error)
}

// EndpointServer is the credential endpoint of `credentials = "endpoint"`
// mode: endpoint.Starter in the binary, a fake in tests.
type EndpointServer interface {
	// Serve makes sure the endpoint runs and registers req (from src, for
	// the project file cfg as it was approved) for process pid; it returns
	// the URI and the file that holds the token.
	Serve(req credreq.Request, src credreq.Source, cfg *dirconfig.Config, pid int, originals map[string]*string) (uri, tokenFile string, err error)
	// Release says pid no longer uses the endpoint.
	Release(pid int)
	// Running is the server that answers now: its process, and the URL
	// prefix and token file of the URIs it serves; ok false when none runs.
	Running() (pid int, url, tokenFile string, ok bool)
}

// Input is one hook call: the shell's environment, directory and process id.
type Input struct {
	Env map[string]string
	PWD string
	PID int
}

// Engine decides and carries out one hook call.
type Engine struct {
	Stores
	Now    func() time.Time
	Creds  CredentialProvider
	Notice io.Writer // one-line notices that are not failures (e.g. a blocked file)
	// Ask asks before entering a file with confirm = true (nil: there is
	// no one to ask); Yes approves in advance (exec --yes).
	Ask Asker
	Yes bool
	// Endpoint serves credentials in endpoint mode; nil: env mode only.
	Endpoint EndpointServer
}

// Result is what one hook call changes, and what the next calls may take
// as unchanged.
type Result struct {
	Changes map[string]*string // nil value: unset
	Steady  *shellgen.Facts    // nil: the hook must call again next time
	// Err is a failure to report once Changes are applied: entering the
	// directory's role failed, and the previous project's role was left
	// rather than kept outside its directory.
	Err error
}

// never is a deadline that does not come.
const never = int64(1) << 62

// Export works out what moves the shell to the state its directory asks
// for. On error nothing is to change; a failure that still changes the
// shell (leaving the previous project) comes back in Result.Err.
func (e *Engine) Export(ctx context.Context, in Input) (res *Result, err error) {
	defer Catch(&err)
	res, err = e.export(ctx, in)
	if errors.Is(err, errReported) {
		// Said at an earlier prompt: say nothing, change nothing, and let
		// the hook call again.
		return &Result{Changes: map[string]*string{}}, nil
	}
	return res, err
}

// errReported stands for a failure already reported to this shell.
var errReported = errors.New("already reported")

func (e *Engine) export(ctx context.Context, in Input) (*Result, error) {
	o, r := e.observe(in)
	return e.act(ctx, in, o, r, decide(o))
}

// observe reads what the call depends on, each once: the shell's failure
// record, then the resolution of its directory (Resolve), and judges the
// file's trust (which may ask, or say once that it is blocked).
func (e *Engine) observe(in Input) (o observation, r *Resolution) {
	o = observation{now: e.Now(), pwd: in.PWD, last: e.State.Last(in.PID)}
	r = e.Resolve(in.PWD, in.Env)
	if r.UserErr != nil {
		o.err, o.fail = r.UserErr, state.Failure{PWD: in.PWD, File: "user-config"}
		return o, r
	}
	o.refreshBefore = r.User.RefreshBefore
	if r.SnapshotErr != nil {
		// A snapshot that is gone, outside its role's directory: a
		// terminal server or IDE started in a project hands its
		// environment to shells started later, when that snapshot may
		// have been pruned. The role's values are all that is left, and
		// they must not stay here: they are left as an orphan's. Damage,
		// or a snapshot gone inside the project, is reported and changes
		// nothing (the user may repair it).
		if !errors.Is(r.SnapshotErr, state.ErrGone) || orphan(in.Env) == nil || dirconfig.Under(in.PWD, in.Env["AWSROLE_DIR"]) {
			o.err, o.fail = r.SnapshotErr, state.Failure{PWD: in.PWD, File: r.SnapshotPath}
			return o, r
		}
		o.gone = r.SnapshotPath
	}
	if o.act = r.Active; o.act == nil {
		o.act = orphan(in.Env)
	}
	o.adopt = r.Snapshot != nil && r.Snapshot.PID != in.PID
	o.endpointGone = e.endpointGone(r.Snapshot, in.Env)
	e.target(in, r, &o)
	return o, r
}

// act carries out d.
func (e *Engine) act(ctx context.Context, in Input, o observation, r *Resolution, d decision) (*Result, error) {
	switch d.move {
	case moveQuiet:
		return nil, errReported
	case moveReport:
		e.State.RecordFailure(in.PID, d.fail)
		return nil, d.err
	case moveLeaveFailed:
		return e.leaveFailed(in, r, o, d), nil
	case moveEnter:
		return e.enterProject(ctx, in, o, r, d.kind)
	}
	res := &Result{Changes: map[string]*string{}}
	active := r.Snapshot
	if d.clear {
		e.State.ClearFailure(in.PID)
	}
	if d.move == moveLeave {
		res.Changes, _ = transition.Plan(o.act, in.Env, nil, false)
		res.Changes[transition.StateVar] = nil
		active = nil
		e.release(in.PID)
	} else if d.adopt {
		// A shell started inside a project: take a copy of its parent's
		// snapshot, so neither can prune or replace the other's.
		active.PID = in.PID
		p, err := e.State.Save(active, o.now)
		if err != nil {
			return nil, err
		}
		res.Changes[transition.StateVar] = &p
	}
	return e.settled(in, o, r, res, active), nil
}

// settled completes the result of a call that moved the shell where its
// directory asks.
func (e *Engine) settled(in Input, o observation, r *Resolution, res *Result, active *state.Snapshot) *Result {
	if o.gone != "" {
		res.Err = fmt.Errorf("saved state %s is gone; left %s, whose variables were unset (your own values were in that file)", o.gone, o.act.RoleARN)
	}
	res.Steady = e.steady(in, o.now, o.path, active, res.Changes, r)
	return res
}

// enterProject resolves the project and, unless decideEntry says
// otherwise, fetches its role and saves the shell's new snapshot.
func (e *Engine) enterProject(ctx context.Context, in Input, o observation, r *Resolution, kind transition.Kind) (*Result, error) {
	proj, perr := r.Project()
	watched := ""
	if perr == nil {
		watched = proj.Watched()
	}
	d := decideEntry(o, kind, perr, watched)
	if d.move != moveEnter {
		return e.act(ctx, in, o, r, d)
	}
	if d.noSignIn {
		proj.Request.SSOLogin = false
	}
	res := &Result{}
	active, err := e.enter(ctx, in, o.now, r.User, proj, o.act, r.Originals, kind, res)
	if err != nil {
		return e.act(ctx, in, o, r, decideFetchFailed(o, d, err, proj.Watched(), e.Now()))
	}
	e.State.ClearFailure(in.PID)
	return e.settled(in, o, r, res, active), nil
}

// enter fetches proj's credentials and saves the snapshot of the shell
// that holds them; res gets the changes.
func (e *Engine) enter(ctx context.Context, in Input, now time.Time, user *dirconfig.UserConfig, proj *Project, act *transition.Active, originals map[string]*string, kind transition.Kind, res *Result) (*state.Snapshot, error) {
	// Endpoint mode fetches once too: an MFA code is asked here, on the
	// terminal, and a role that cannot be had fails the entry as in env
	// mode.
	c, err := e.Creds.Get(ctx, proj.Request, proj.Source, originals)
	if err != nil {
		return nil, err
	}
	cfg := proj.Config
	desired := e.desired(in, user, proj, c, originals, kind)
	changes, applied := transition.Plan(act, in.Env, desired, kind == transition.Refresh)
	active := &state.Snapshot{PID: in.PID, Active: transition.Active{
		Dir: cfg.Dir, File: cfg.Path, Hash: cfg.Hash, RoleARN: proj.Label(),
		Expiration: c.Expiration, Originals: originals, Applied: applied,
	}}
	p, err := e.State.Save(active, now)
	if err != nil {
		return nil, err
	}
	changes[transition.StateVar] = &p
	res.Changes = changes
	return active, nil
}

// desired is what the shell holds in the project: the endpoint's URI and
// token in endpoint mode, else (or when the endpoint cannot start, said in
// one line) the keys.
func (e *Engine) desired(in Input, user *dirconfig.UserConfig, proj *Project, c credcache.Credentials, originals map[string]*string, kind transition.Kind) map[string]*string {
	if user.CredentialsMode == dirconfig.CredentialsEndpoint && e.Endpoint != nil {
		d, err := e.endpointDesired(in.PID, proj, originals)
		if err == nil {
			if kind != transition.Refresh {
				e.defaultProfileNotice()
			}
			return d
		}
		fmt.Fprintf(e.Notice, "awsrole: %s; using environment credentials in this shell\n", termsafe.String(credcache.OneLine(err.Error())))
	}
	e.release(in.PID)
	return proj.Desired(c, originals)
}

// defaultProfileNotice says, at entry, when a [default] profile with
// credentials would win over the endpoint: every SDK reads the shared
// files before the container provider.
func (e *Engine) defaultProfileNotice() {
	files, err := e.AWS.Load()
	if err != nil {
		return
	}
	if p, ok := files.Profile("default"); ok && credreq.HasCredentials(p) {
		fmt.Fprintf(e.Notice, "awsrole: the [default] profile of %s gives credentials, which SDKs use before the credential endpoint; move them to a named profile for endpoint mode to take effect\n",
			termsafe.String(e.AWS.Credentials+" or "+e.AWS.Config))
	}
}

func (e *Engine) release(pid int) {
	if e.Endpoint != nil {
		e.Endpoint.Release(pid)
	}
}

// leaveFailed carries out a moveLeaveFailed: the role is left, the
// failure recorded when d says it is to be reported, and the hook asks
// again once the back-off is over.
func (e *Engine) leaveFailed(in Input, r *Resolution, o observation, d decision) *Result {
	res := &Result{Err: d.err}
	res.Changes, _ = transition.Plan(o.act, in.Env, nil, false)
	res.Changes[transition.StateVar] = nil
	e.release(in.PID)
	if d.err != nil {
		e.State.RecordFailure(in.PID, d.fail)
	}
	if res.Steady = e.steady(in, d.fail.At, o.path, nil, res.Changes, r); res.Steady != nil {
		res.Steady.Deadline = d.fail.At.Add(state.Backoff).Unix()
	}
	return res
}

// kept says what a failed renewal leaves in the shell: the project's own
// credentials, working until they expire and failing closed after.
func kept(err error, act *transition.Active, now time.Time) error {
	exp := human.Time(act.Expiration)
	if now.Before(act.Expiration) {
		return fmt.Errorf("%w; kept the credentials of %s, valid until %s", err, cmp.Or(act.Dir, act.RoleARN), exp)
	}
	return fmt.Errorf("%w; kept the credentials of %s, expired at %s: requests fail with ExpiredToken until a renewal succeeds", err, cmp.Or(act.Dir, act.RoleARN), exp)
}

// endpointURI is the endpoint's URI in the shell, as awsrole set it; ""
// when the shell holds none, or one the user changed by hand.
func endpointURI(active *state.Snapshot, env map[string]string) string {
	const name = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	uri, ok := env[name]
	if !ok || active == nil || active.Applied[name] != transition.Digest(&uri) {
		return ""
	}
	return uri
}

// endpointGone reports whether the shell holds awsrole's endpoint URI and
// token file while no server answers to them (it was killed, or another one
// started on another port).
func (e *Engine) endpointGone(active *state.Snapshot, env map[string]string) bool {
	uri := endpointURI(active, env)
	if uri == "" || e.Endpoint == nil {
		return false
	}
	_, url, tokenFile, ok := e.Endpoint.Running()
	return !ok || !strings.HasPrefix(uri, url+"/") || env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] != tokenFile
}

// steady describes the state this call leaves, for the hook's own checks;
// nil when the mark cannot be written (the hook then simply calls again).
func (e *Engine) steady(in Input, start time.Time, path string, active *state.Snapshot, changes map[string]*string, r *Resolution) *shellgen.Facts {
	mark, err := e.State.Mark(in.PID, start)
	if err != nil {
		return nil
	}
	after := func(name string) *string {
		if v, ok := changes[name]; ok {
			return v
		}
		if v, ok := in.Env[name]; ok {
			return &v
		}
		return nil
	}
	// The trust store decides nothing while no file applies: outside every
	// project the hooks watch the user config alone (a file found is a
	// call anyway).
	watch := r.TrustWatch()
	if path == "" {
		watch = watch[:1]
	}
	f := &shellgen.Facts{File: path, Deadline: never, Mark: mark, Watch: watch}
	if v := after(transition.StateVar); v != nil {
		f.State = *v
	}
	if active != nil {
		if endpointURI(active, envAfter(in.Env, changes)) != "" && e.Endpoint != nil {
			// The hook checks at each prompt that this server still runs.
			if pid, _, _, ok := e.Endpoint.Running(); ok {
				f.Server = shellgen.ProcessOf(pid)
			}
		}
		f.Deadline = active.Expiration.Add(-r.User.RefreshBefore).Unix()
		for _, name := range transition.Names(active.Applied) {
			if v := after(name); transition.Digest(v) == active.Applied[name] {
				f.Leave = append(f.Leave, shellgen.Restore{Name: name, Set: v, Original: active.Originals[name]})
			}
		}
	}
	return f
}

// envAfter is env with changes made (nil: unset).
func envAfter(env map[string]string, changes map[string]*string) map[string]string {
	out := make(map[string]string, len(env)+len(changes))
	for k, v := range env {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = *v
		}
	}
	return out
}

// target judges the file that applies (r.Path) into o. A file the user
// has not approved counts as none: the shell leaves any role it had, and
// hears once which file is blocked and how to approve it. Its trust is
// judged on the bytes read before anything in them is interpreted
// (dirconfig.Judge). On error, o.path is the file that failed ("" when
// none was found) and o.fail the key of the failure; a panic while
// reading or judging the file is such an error too, so the shell still
// leaves another project's role.
func (e *Engine) target(in Input, r *Resolution, o *observation) {
	o.path = r.Path
	j := r.Judged
	switch {
	case r.FindErr != nil:
		o.path, o.err, o.fail = "", r.FindErr, state.Failure{PWD: in.PWD, File: "find"}
	case r.Path == "":
	case r.JudgeErr != nil && j == nil:
		o.err, o.fail = r.JudgeErr, state.Failure{PWD: in.PWD, File: r.Path, Hash: statKey(r.Path)}
	case r.JudgeErr != nil:
		o.err, o.fail = r.JudgeErr, state.Failure{PWD: in.PWD, File: r.Path, Hash: "judge:" + j.Hash}
	case j.Trust == dirconfig.TrustAllowed:
		if cfg := j.Config; e.approved(in, cfg, o) {
			o.target = transition.Target{Dir: cfg.Dir, File: cfg.Path, Hash: cfg.Hash}
		}
	case j.Trust == dirconfig.TrustDenied:
		e.once(in, j, o, fmt.Sprintf("%s is denied; to use it, run: awsrole allow %s", j.Path, quoted(j.Dir)))
	default:
		e.once(in, j, o, fmt.Sprintf("%s is not allowed yet%s; check its content, then run: awsrole allow %s", j.Path, notTrustedDir(j), quoted(j.Dir)))
	}
	o.fileErr = o.err != nil
}

// notTrustedDir says why trusted_dirs did not vouch for j ("" when it
// names no directory of j's).
func notTrustedDir(j *dirconfig.Judged) string {
	if j.NotTrustedDir == nil {
		return ""
	}
	return " (trusted_dirs does not vouch for it: " + j.NotTrustedDir.Error() + ")"
}

// once prints a notice about the file j a single time per shell, directory
// and content.
func (e *Engine) once(in Input, j *dirconfig.Judged, o *observation, msg string) {
	n := state.Notice{PWD: in.PWD, File: j.Path, Hash: j.Hash, Kind: state.Blocked}
	if o.last.Noticed(n) {
		return
	}
	o.last, _ = e.State.RecordNotice(in.PID, n, e.Now())
	fmt.Fprintf(e.Notice, "awsrole: %s\n", termsafe.String(msg))
}

// orphan is what a shell has active when a role's variables are in its
// environment but no snapshot says so (the pointer was unset, or the state
// dir wiped): the role's values are awsrole's, with nothing of the user's
// to restore, so leaving unsets them and they never become a source. direnv
// keeps its own record of what `use awsrole` loaded, so a shell under direnv
// has no orphan.
func orphan(env map[string]string) *transition.Active {
	if env["AWSROLE_ARN"] == "" || env["DIRENV_DIR"] != "" {
		return nil
	}
	a := &transition.Active{File: "(lost)", RoleARN: env["AWSROLE_ARN"],
		Originals: transition.Originals(nil, env), Applied: map[string]string{}}
	for name, v := range a.Originals {
		if cur, ok := env[name]; ok && v == nil {
			a.Applied[name] = transition.Digest(&cur)
		}
	}
	return a
}

func statKey(path string) string {
	fi, err := os.Lstat(path)
	if err != nil {
		return "missing"
	}
	return fmt.Sprintf("stat:%d:%d", fi.ModTime().UnixNano(), fi.Size())
}

// quoted makes dir one word for a bash command line in a message.
func quoted(dir string) string {
	q, err := shellgen.Quote("bash", dir)
	if err != nil {
		return dir
	}
	return q
}

func ptr(s string) *string { return &s }
