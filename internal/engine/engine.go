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
	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/human"
	"github.com/awsrole/awsrole/internal/state"
	"github.com/awsrole/awsrole/internal/termsafe"
	"github.com/awsrole/awsrole/internal/transition"
	"github.com/awsrole/awsrole/internal/wire"
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
	now := e.Now()
	user, err := dirconfig.LoadUserConfig()
	if err != nil {
		return nil, e.backoff(in, state.Failure{PWD: in.PWD, File: "user-config"}, err)
	}
	var active *state.Snapshot
	var gone string // the snapshot of a role left as an orphan
	if p := in.Env[transition.StateVar]; p != "" {
		if active, err = state.Load(p); err != nil {
			// A snapshot that is gone, outside its role's directory: a
			// terminal server or IDE started in a project hands its
			// environment to shells started later, when that snapshot may
			// have been pruned. The role's values are all that is left,
			// and they must not stay here: they are left as an orphan's.
			// Damage, or a snapshot gone inside the project, is reported
			// and changes nothing (the user may repair it).
			if !errors.Is(err, state.ErrGone) || orphan(in.Env) == nil || dirconfig.Under(in.PWD, in.Env["AWSROLE_DIR"]) {
				return nil, e.backoff(in, state.Failure{PWD: in.PWD, File: p}, err)
			}
			gone = p
		}
	}
	var act *transition.Active
	if active != nil {
		act = &active.Active
	} else {
		act = orphan(in.Env)
	}
	path, target, cfg, fail, err := e.target(in, user, act)
	if err != nil {
		fail.At = now
		if act != nil && path != act.File {
			// Another project's file is broken: its role cannot be had,
			// and the one of the project behind us must not stay.
			return e.leaveFailed(in, user, path, act, fail, err), nil
		}
		return nil, e.backoff(in, fail, err)
	}
	res := &Result{Changes: map[string]*string{}}
	kind := transition.Decide(act, target, now, user.RefreshBefore)
	if kind == transition.Stay && active != nil && e.endpointGone(active, in.Env) {
		// The server whose URI the shell holds was killed or replaced:
		// registering again starts one and exports its URI and token.
		kind = transition.Refresh
	}
	switch kind {
	case transition.Stay:
		if path == "" {
			// Out of any project: a failure is behind us, and coming back
			// tries again at once.
			state.ClearFailure(in.PID)
		}
		if active != nil && active.PID != in.PID {
			// A shell started inside a project: take a copy of its
			// parent's snapshot, so neither can prune or replace the
			// other's.
			active.PID = in.PID
			p, err := state.Save(active, now)
			if err != nil {
				return nil, err
			}
			res.Changes[transition.StateVar] = &p
		}
	case transition.Leave:
		res.Changes, _ = transition.Plan(act, in.Env, nil, false)
		res.Changes[transition.StateVar] = nil
		active = nil
		e.release(in.PID)
	default:
		originals := transition.Originals(act, in.Env)
		proj, perr := NewProject(cfg, user, originals)
		fail := state.Failure{PWD: in.PWD, File: target.File, Hash: target.Hash, At: now}
		if perr == nil {
			// Signing in again or editing the profile mends a failure:
			// try again at once then.
			fail.Hash += proj.Watched()
		}
		if state.Repeated(in.PID, fail) {
			if kind == transition.Switch {
				return e.leaveFailed(in, user, path, act, fail, nil), nil
			}
			return nil, errReported
		}
		err := perr
		if err == nil {
			gaveUp := state.SignInFailed(in.PID, fail)
			if gaveUp {
				// A sign-in the user gave up on (or that failed) is not
				// started again at every prompt; a cd starts one.
				proj.Request.SSOLogin = false
			}
			active, err = e.enter(ctx, in, now, user, proj, act, originals, kind, res)
			if err == nil {
				state.ClearFailure(in.PID)
				break
			}
			// As the attempt left them: a token it wrote does not mend
			// its own failure.
			fail.Hash = target.Hash + proj.Watched()
			var signIn *wire.SignInError
			fail.SignIn = gaveUp || errors.As(err, &signIn)
		}
		switch kind {
		case transition.Switch:
			return e.leaveFailed(in, user, path, act, fail, err), nil
		case transition.Refresh:
			err = kept(err, act, now)
		}
		return nil, e.backoff(in, fail, err)
	}
	if gone != "" && res.Err == nil {
		res.Err = fmt.Errorf("saved state %s is gone; left %s, whose variables were unset (your own values were in that file)", gone, act.RoleARN)
	}
	res.Steady = e.steady(in, now, path, active, res.Changes, user)
	return res, nil
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
	p, err := state.Save(active, now)
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
	files, err := awsconfig.Load()
	if err != nil {
		return
	}
	if p, ok := files.Profile("default"); ok && credreq.HasCredentials(p) {
		fmt.Fprintf(e.Notice, "awsrole: the [default] profile of %s gives credentials, which SDKs use before the credential endpoint; move them to a named profile for endpoint mode to take effect\n",
			termsafe.String(awsconfig.CredentialsPath()+" or "+awsconfig.ConfigPath()))
	}
}

func (e *Engine) release(pid int) {
	if e.Endpoint != nil {
		e.Endpoint.Release(pid)
	}
}

// leaveFailed leaves act because the role of the directory the shell is now
// in could not be had (err; nil when an earlier prompt already said so): a
// shell never keeps a project's role outside that project. The failure is
// recorded, so the next prompts say nothing and stay left until the
// backoff is over.
func (e *Engine) leaveFailed(in Input, user *dirconfig.UserConfig, path string, act *transition.Active, fail state.Failure, err error) *Result {
	res := &Result{}
	res.Changes, _ = transition.Plan(act, in.Env, nil, false)
	res.Changes[transition.StateVar] = nil
	e.release(in.PID)
	if err != nil && !errors.Is(err, errReported) && !state.Repeated(in.PID, fail) {
		res.Err = fmt.Errorf("%w; left %s", err, cmp.Or(act.Dir, act.RoleARN))
		fail.Error = credcache.OneLine(res.Err.Error())
		state.RecordFailure(in.PID, fail)
	}
	if res.Steady = e.steady(in, fail.At, path, nil, res.Changes, user); res.Steady != nil {
		// Ask again once the backoff is over.
		res.Steady.Deadline = fail.At.Add(state.Backoff).Unix()
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
func (e *Engine) steady(in Input, start time.Time, path string, active *state.Snapshot, changes map[string]*string, user *dirconfig.UserConfig) *shellgen.Facts {
	mark, err := state.Mark(in.PID, start)
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
	f := &shellgen.Facts{File: path, Deadline: never, Mark: mark,
		Watch: append([]string{user.Path}, dirconfig.TrustDirs()...)}
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
		f.Deadline = active.Expiration.Add(-user.RefreshBefore).Unix()
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

// target finds the file for the shell's directory. A file the user has not
// approved counts as none: the shell leaves any role it had, and hears once
// which file is blocked and how to approve it. Its trust is judged on the
// bytes read before anything in them is interpreted (dirconfig.Judge). On
// error, path is the file that failed ("" when none was found) and fail is
// the key of the failure; a panic while reading or judging the file is such
// an error too, so the shell still leaves another project's role.
func (e *Engine) target(in Input, user *dirconfig.UserConfig, act *transition.Active) (path string, t transition.Target, cfg *dirconfig.Config, fail state.Failure, err error) {
	path, err = dirconfig.Find(in.PWD)
	if err != nil {
		return "", t, nil, state.Failure{PWD: in.PWD, File: "find"}, err
	}
	if path == "" {
		return "", t, nil, fail, nil
	}
	var j *dirconfig.Judged
	func() {
		defer Catch(&err)
		j, err = dirconfig.Judge(path, user)
	}()
	switch {
	case err != nil && j == nil:
		return path, t, nil, state.Failure{PWD: in.PWD, File: path, Hash: statKey(path)}, err
	case err != nil:
		return path, t, nil, state.Failure{PWD: in.PWD, File: path, Hash: "judge:" + j.Hash}, err
	}
	switch j.Trust {
	case dirconfig.TrustAllowed:
		cfg = j.Config
		if !e.approved(in, cfg, act) {
			return path, transition.Target{}, nil, fail, nil
		}
		return path, transition.Target{Dir: cfg.Dir, File: cfg.Path, Hash: cfg.Hash}, cfg, fail, nil
	case dirconfig.TrustDenied:
		e.once(in, j, fmt.Sprintf("%s is denied; to use it, run: awsrole allow %s", j.Path, quoted(j.Dir)))
	default:
		e.once(in, j, fmt.Sprintf("%s is not allowed yet%s; check its content, then run: awsrole allow %s", j.Path, notTrustedDir(j), quoted(j.Dir)))
	}
	return path, transition.Target{}, nil, fail, nil
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
func (e *Engine) once(in Input, j *dirconfig.Judged, msg string) {
	n := state.Notice{PWD: in.PWD, File: j.Path, Hash: j.Hash, Kind: state.Blocked}
	if state.Noticed(in.PID, n) {
		return
	}
	state.RecordNotice(in.PID, n, e.Now())
	fmt.Fprintf(e.Notice, "awsrole: %s\n", termsafe.String(msg))
}

// backoff records a failure so the next prompts stay quiet for a while, and
// returns err, or errReported when the same failure was already reported.
func (e *Engine) backoff(in Input, f state.Failure, err error) error {
	f.At = e.Now()
	if state.Repeated(in.PID, f) {
		return errReported
	}
	if err != nil {
		f.Error = credcache.OneLine(err.Error())
	}
	state.RecordFailure(in.PID, f)
	return err
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
