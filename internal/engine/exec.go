package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/state"
	"github.com/awsrole/awsrole/internal/termsafe"
	"github.com/awsrole/awsrole/internal/transition"
	"github.com/awsrole/awsrole/internal/wire"
)

// ExecOptions is how `awsrole exec` runs its command.
type ExecOptions struct {
	// PID is the process that becomes the command: its snapshot and its
	// registration with the credential endpoint live exactly as long as
	// the command.
	PID int
	// Endpoint asks for the credential endpoint (--endpoint): one that
	// cannot start is an error. Without it the user config's
	// credentials = "endpoint" asks, and a failure falls back to the keys
	// with a notice.
	Endpoint bool
	// Command names the command in that notice.
	Command string
}

// errNoEndpoint is the endpoint's failure when the engine has none (the
// binary could not find its own path to start `awsrole serve`).
var errNoEndpoint = errors.New("no credential endpoint to start")

// Exec fetches the role of the file that applies to dir (as ForDir does)
// for a command that replaces process opts.PID, and returns the command's
// environment: environ moved to what a shell in dir would hold — the keys,
// or the endpoint's URI and token — and pointing at a new snapshot of the
// originals, so that a shell the command starts finds them as a shell
// started inside a project does.
func (e *Engine) Exec(ctx context.Context, dir string, environ []string, opts ExecOptions) ([]string, error) {
	env := envMap(environ)
	r := e.Resolve(dir, env)
	role, err := e.ForResolution(ctx, r, 0)
	if err != nil {
		return nil, err
	}
	user := r.User
	desired := role.Desired
	if opts.Endpoint || user.CredentialsMode == dirconfig.CredentialsEndpoint {
		d, err := e.endpointDesired(opts.PID, role.Project, role.Originals)
		switch {
		case err == nil:
			desired = d
		case opts.Endpoint:
			return nil, fmt.Errorf("credential endpoint: %w", err)
		default:
			fmt.Fprintf(e.Notice, "awsrole: %s; using environment credentials for %s\n",
				termsafe.String(credcache.OneLine(err.Error())), termsafe.String(credcache.OneLine(opts.Command)))
		}
	}
	changes, applied := transition.Plan(role.Active, env, desired, false)
	snap := &state.Snapshot{PID: opts.PID, Active: transition.Active{
		Dir: role.Config.Dir, File: role.Config.Path, Hash: role.Config.Hash, RoleARN: role.Label(),
		Expiration: role.Credentials.Expiration, Originals: role.Originals, Applied: applied,
	}}
	path, err := e.State.Save(snap, e.Now())
	if err != nil {
		e.release(opts.PID)
		return nil, err
	}
	changes[transition.StateVar] = &path
	// The encrypted file keyring's passphrase is for awsrole's own
	// helpers, never for the user's command.
	return wire.WithoutPassphrase(applyChanges(environ, changes)), nil
}

// endpointDesired registers proj with the credential endpoint for process
// pid and returns what the process holds then.
func (e *Engine) endpointDesired(pid int, proj *Project, originals map[string]*string) (map[string]*string, error) {
	if e.Endpoint == nil {
		return nil, errNoEndpoint
	}
	uri, tokenFile, err := e.Endpoint.Serve(proj.Request, proj.Source, proj.Config, pid, originals)
	if err != nil {
		return nil, err
	}
	return proj.DesiredEndpoint(uri, tokenFile, originals), nil
}

// envMap is environ ("NAME=value" entries) as a map (os.Environ has no
// name twice).
func envMap(environ []string) map[string]string {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// applyChanges is environ with changes made (nil: unset): the entries it
// does not change keep their order, and the variables it sets follow,
// sorted.
func applyChanges(environ []string, changes map[string]*string) []string {
	out := make([]string, 0, len(environ)+len(changes))
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := changes[k]; !ok {
			out = append(out, kv)
		}
	}
	names := make([]string, 0, len(changes))
	for name, v := range changes {
		if v != nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		out = append(out, name+"="+*changes[name])
	}
	return out
}
