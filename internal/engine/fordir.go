package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/state"
	"github.com/awsrole/awsrole/internal/transition"
)

// Role is a directory's role with fresh credentials, for one process rather
// than a shell: what `exec` and `credential-process` hand out.
type Role struct {
	*Project
	Credentials credcache.Credentials
	Active      *transition.Active // what the calling shell has active, if anything
	Originals   map[string]*string // the user's own values of the managed variables (nil: unset)
	Desired     map[string]*string // the variables a shell in the directory would hold
}

// freshMargin is how much of a fresh session a caller's minLeft may not
// claim: a fetched session is handed out for at least this long before the
// next fetch (and clocks may disagree by some of it). At the shortest
// duration, 15 minutes, credential-process's 16 minutes become 11, above
// botocore's mandatory refresh (10).
const freshMargin = 4 * time.Minute

// ForDir fetches the role of the file that applies to dir, from the user's
// own credentials: the calling shell's originals if it has a role active.
//
// minLeft is how long the credentials must still last (at least the
// user's refresh window), as far as the duration allows with freshMargin
// to spare: credential-process hands out credentials that outlast the
// SDKs' own refresh windows.
func (e *Engine) ForDir(ctx context.Context, dir string, env map[string]string, minLeft time.Duration) (*Role, error) {
	role, _, err := e.forDir(ctx, dir, env, minLeft)
	return role, err
}

// forDir is ForDir, also returning the user config it read.
func (e *Engine) forDir(ctx context.Context, dir string, env map[string]string, minLeft time.Duration) (*Role, *dirconfig.UserConfig, error) {
	user, err := dirconfig.LoadUserConfig()
	if err != nil {
		return nil, nil, err
	}
	path, err := dirconfig.Find(dir)
	if err != nil {
		return nil, nil, err
	}
	if path == "" {
		return nil, nil, fmt.Errorf("no %s in %s or any directory above it", dirconfig.FileName, dir)
	}
	j, err := dirconfig.Judge(path, user)
	if err != nil {
		return nil, nil, err
	}
	cfg := j.Config
	switch j.Trust {
	case dirconfig.TrustAllowed:
	case dirconfig.TrustDenied:
		return nil, nil, fmt.Errorf("%s is denied; to use it, run: awsrole allow %s", j.Path, quoted(j.Dir))
	default:
		return nil, nil, fmt.Errorf("%s is not allowed yet%s; check its content, then run: awsrole allow %s", j.Path, notTrustedDir(j), quoted(j.Dir))
	}
	if err := e.ConfirmOnce(cfg); err != nil {
		return nil, nil, err
	}
	role, err := e.ForConfig(ctx, cfg, user, env, minLeft)
	return role, user, err
}

// ForConfig fetches cfg's role from the user's own credentials in env; cfg
// must already be trusted.
func (e *Engine) ForConfig(ctx context.Context, cfg *dirconfig.Config, user *dirconfig.UserConfig, env map[string]string, minLeft time.Duration) (*Role, error) {
	var act *transition.Active
	if p := env[transition.StateVar]; p != "" {
		snap, err := state.Load(p)
		if err != nil {
			return nil, err
		}
		act = &snap.Active
	}
	originals := transition.Originals(act, env)
	proj, err := NewProject(cfg, user, originals)
	if err != nil {
		return nil, err
	}
	// Fresh credentials must outlast minLeft by freshMargin, or every
	// call would fetch; the duration is never raised for it.
	proj.Request.Window = max(proj.Request.Window, min(minLeft, proj.Duration-freshMargin))
	c, err := e.Creds.Get(ctx, proj.Request, proj.Source, originals)
	if err != nil {
		return nil, err
	}
	return &Role{Project: proj, Credentials: c, Active: act, Originals: originals, Desired: proj.Desired(c, originals)}, nil
}
