package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/transition"
)

// Role is a directory's role with fresh credentials, for one process rather
// than a shell: what `exec` and `credential-process` hand out.
type Role struct {
	*Project
	Credentials credcache.Credentials
	Active      *transition.Active // what the calling shell has active, if anything
	Originals   map[string]*string // the user's own values of the managed variables (nil: unset)
	User        *dirconfig.UserConfig
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
	return e.ForResolution(ctx, e.Resolve(dir, env), minLeft)
}

// ForResolution is ForDir of a resolution.
func (e *Engine) ForResolution(ctx context.Context, r *Resolution, minLeft time.Duration) (*Role, error) {
	cfg, err := r.Allowed()
	if err != nil {
		return nil, err
	}
	if err := e.ConfirmOnce(cfg); err != nil {
		return nil, err
	}
	return e.ForConfig(ctx, r, cfg, minLeft)
}

// Allowed is the config of the file that applies when it is allowed and
// valid, or why there is none to use: the error of the first stage that
// failed, no file, or a file not allowed (saying how to allow it).
func (r *Resolution) Allowed() (*dirconfig.Config, error) {
	switch {
	case r.UserErr != nil:
		return nil, r.UserErr
	case r.FindErr != nil:
		return nil, r.FindErr
	case r.Path == "":
		return nil, fmt.Errorf("no %s in %s or any directory above it", dirconfig.FileName, r.Dir)
	case r.JudgeErr != nil:
		return nil, r.JudgeErr
	}
	switch j := r.Judged; j.Trust {
	case dirconfig.TrustAllowed:
		return j.Config, nil
	case dirconfig.TrustDenied:
		return nil, fmt.Errorf("%s is denied; to use it, run: awsrole allow %s", j.Path, quoted(j.Dir))
	default:
		return nil, fmt.Errorf("%s is not allowed yet%s; check its content, then run: awsrole allow %s", j.Path, notTrustedDir(j), quoted(j.Dir))
	}
}

// ForConfig fetches cfg's role from the user's own credentials in r's
// environment, with r's user config; cfg must already be trusted (the
// file r found, or direnv's inline one).
func (e *Engine) ForConfig(ctx context.Context, r *Resolution, cfg *dirconfig.Config, minLeft time.Duration) (*Role, error) {
	switch {
	case r.UserErr != nil:
		return nil, r.UserErr
	case r.SnapshotErr != nil:
		return nil, r.SnapshotErr
	}
	proj, err := r.ProjectOf(cfg)
	if err != nil {
		return nil, err
	}
	// Fresh credentials must outlast minLeft by freshMargin, or every
	// call would fetch; the duration is never raised for it.
	proj.Request.Window = max(proj.Request.Window, min(minLeft, proj.Duration-freshMargin))
	c, err := e.Creds.Get(ctx, proj.Request, proj.Source, r.Originals)
	if err != nil {
		return nil, err
	}
	return &Role{Project: proj, User: r.User, Credentials: c, Active: r.Active, Originals: r.Originals, Desired: proj.Desired(c, r.Originals)}, nil
}
