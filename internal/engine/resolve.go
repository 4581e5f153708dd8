package engine

import (
	"path/filepath"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/keyindex"
	"github.com/awsrole/awsrole/internal/state"
	"github.com/awsrole/awsrole/internal/transition"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

// Stores are the files awsrole keeps and reads, given once (cmd builds
// them from the environment with StoresFor) instead of looked up in the
// environment at each use.
type Stores struct {
	State      state.Store     // snapshots, failure records and marks
	UserConfig string          // the user config file
	AWS        awsconfig.Paths // the shared config and credentials files
	Cache      credcache.Cache // the credential cache
	Trust      dirconfig.TrustStore
	Keys       keyindex.Index // the stored keys' ids (awsrole keys), never their secrets
	// UserName is the local user's name, for {user} in source_identity
	// (cmd: the account's name, else $USER); asked only when needed.
	UserName func() string
}

// StoresFor are the stores under dirs, with the AWS files at aws; env
// names the endpoints the credential cache keys by (AWS_ENDPOINT_URL*).
func StoresFor(dirs xdgdir.Dirs, aws awsconfig.Paths, env credreq.Env) Stores {
	return Stores{State: state.Store{Dir: dirs.State}, Trust: dirconfig.TrustStore{Dir: dirs.Data}, UserConfig: dirconfig.UserConfigPath(dirs.Config), AWS: aws,
		Cache: credcache.New(filepath.Join(dirs.Cache, credcache.DirName), env), Keys: keyindex.In(dirs.Data)}
}

// Resolution is what a directory and a shell's environment come to before
// anything is fetched or changed: user config → find → judge (read, trust,
// parse) → the shell's snapshot → its originals, and the project on
// demand. Every command starts here; each stage keeps its own error, so
// each command says what it must of it. A stage whose input failed is left
// zero (no file is judged without the user config that may vouch for it).
type Resolution struct {
	Dir string
	Env map[string]string

	User    *dirconfig.UserConfig
	UserErr error

	// Path is the file that applies to Dir ("" when none, or Dir is "").
	Path    string
	FindErr error
	// Judged is the file read once and judged on those bytes; its Config
	// only when allowed. JudgeErr is a failure to read, trust or validate
	// it, a panic in doing so included.
	Judged   *dirconfig.Judged
	JudgeErr error

	// SnapshotPath is the shell's AWSROLE_STATE, Snapshot what it points
	// at (nil when none or SnapshotErr).
	SnapshotPath string
	Snapshot     *state.Snapshot
	SnapshotErr  error
	// Active is what the shell has active by its snapshot (nil: nothing,
	// or the snapshot failed); Originals are the user's own values of the
	// managed variables (nil: unset).
	Active    *transition.Active
	Originals map[string]*string

	stores     Stores
	project    *Project
	projectErr error
	shown      *dirconfig.Config
	shownErr   error
}

// Resolve resolves dir ("" for a command about no directory: list, serve)
// in the shell environment env.
func (s Stores) Resolve(dir string, env map[string]string) *Resolution {
	r := &Resolution{Dir: dir, Env: env, stores: s}
	r.User, r.UserErr = dirconfig.LoadUserConfig(s.UserConfig)
	if dir != "" {
		r.Path, r.FindErr = dirconfig.Find(dir)
	}
	if r.Path != "" && r.UserErr == nil {
		func() {
			defer Catch(&r.JudgeErr)
			r.Judged, r.JudgeErr = s.Trust.Judge(r.Path, r.User)
		}()
	}
	if r.SnapshotPath = env[transition.StateVar]; r.SnapshotPath != "" {
		if r.Snapshot, r.SnapshotErr = s.State.Load(r.SnapshotPath); r.SnapshotErr == nil {
			r.Active = &r.Snapshot.Active
		}
	}
	r.Originals = transition.Originals(r.Active, env)
	return r
}

// Config is the file's config when it is allowed and valid; nil otherwise.
func (r *Resolution) Config() *dirconfig.Config {
	if r.JudgeErr != nil || r.Judged == nil || r.Judged.Trust != dirconfig.TrustAllowed {
		return nil
	}
	return r.Judged.Config
}

// Project is the allowed file's project in the user's own environment,
// resolved at the first call (it reads the AWS config, which a hook call
// that changes nothing must not).
func (r *Resolution) Project() (*Project, error) {
	if r.project == nil && r.projectErr == nil {
		r.project, r.projectErr = r.ProjectOf(r.Config())
	}
	return r.project, r.projectErr
}

// ProjectOf is cfg's project (cfg: the file found, as Shown, or direnv's
// inline one) with r's user config, in r's environment.
func (r *Resolution) ProjectOf(cfg *dirconfig.Config) (*Project, error) {
	return r.stores.NewProject(cfg, r.User, r.sourceEnv())
}

// sourceEnv is what Resolve picks the source from: the originals of the
// managed variables, and the web identity variables that awsrole never
// sets (GitHub's and GitLab's) as the shell has them.
func (r *Resolution) sourceEnv() map[string]*string {
	env := make(map[string]*string, len(r.Originals)+len(credreq.WebIdentityVars))
	for k, v := range r.Originals {
		env[k] = v
	}
	for _, k := range credreq.WebIdentityVars {
		if _, managed := env[k]; !managed {
			if v, ok := r.Env[k]; ok {
				env[k] = &v
			}
		}
	}
	return env
}

// Shown is the file parsed whatever its trust, with the user config's
// error when it failed (and the file did not): what status shows of a
// file that is not allowed yet.
func (r *Resolution) Shown() (*dirconfig.Config, error) {
	if r.shown == nil && r.shownErr == nil {
		r.shown, r.shownErr = r.Config(), nil
		if r.shown == nil {
			r.shown, r.shownErr = dirconfig.Load(r.Path)
		}
		if r.shownErr == nil && r.UserErr != nil {
			r.shownErr = r.UserErr
		}
	}
	return r.shown, r.shownErr
}
