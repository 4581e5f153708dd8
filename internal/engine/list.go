package engine

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/termsafe"
)

// Listed is one project file as `awsrole list` shows it; it holds no secret.
type Listed struct {
	Path  string `json:"path"`
	State string `json:"state"` // allowed, denied, not allowed, gone, invalid
	// The role, or the IAM Identity Center account and permission set.
	RoleARN      string    `json:"role_arn,omitempty"`
	Via          []string  `json:"via,omitempty"`
	SSOAccountID string    `json:"sso_account_id,omitempty"`
	SSORoleName  string    `json:"sso_role_name,omitempty"`
	Environment  string    `json:"environment,omitempty"`
	Confirm      bool      `json:"confirm,omitempty"`
	CachedUntil  time.Time `json:"cached_until,omitzero"`
	Error        string    `json:"error,omitempty"`
	FromTrust    bool      `json:"in_trust_store"`
	trustEntries []dirconfig.TrustEntry
}

// Gone is the State of a file the trust store names that no longer exists.
const Gone = "gone"

// maxScan bounds a --scan: files found and directories visited.
const maxScan = 100000

// skipDirs are never descended into by a scan: they hold no projects
// and can be huge.
var skipDirs = map[string]bool{".git": true, "node_modules": true, ".terraform": true, ".venv": true, "vendor": true}

// List describes every project file the trust store names, and those
// found under scan, sorted by path. env is the shell's environment: the
// user's own credentials in it (its originals) find cached credentials.
func (e *Engine) List(scan []string, env map[string]string, now time.Time) ([]*Listed, error) {
	byPath, err := e.trusted()
	if err != nil {
		return nil, err
	}
	for _, root := range scan {
		if err := scanFiles(root, byPath); err != nil {
			return nil, err
		}
	}
	r := e.Resolve("", env)
	if r.UserErr != nil {
		return nil, r.UserErr
	}
	out := make([]*Listed, 0, len(byPath))
	for _, l := range byPath {
		describe(l, r, now)
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// trusted lists the files the trust store names, by path.
func (e *Engine) trusted() (map[string]*Listed, error) {
	byPath := map[string]*Listed{}
	entries, err := e.Trust.Entries()
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		l := byPath[e.Path]
		if l == nil {
			l = &Listed{Path: e.Path, FromTrust: true}
			byPath[e.Path] = l
		}
		l.trustEntries = append(l.trustEntries, e)
	}
	return byPath, nil
}

// scanFiles adds the project files under root to byPath, by their real
// paths, skipping skipDirs and stopping after maxScan entries.
func scanFiles(root string, byPath map[string]*Listed) error {
	visited := 0
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable: skip it
		}
		if visited++; visited > maxScan {
			return filepath.SkipAll
		}
		if d.IsDir() && p != root && skipDirs[d.Name()] {
			return filepath.SkipDir
		}
		if d.Name() == dirconfig.FileName && d.Type().IsRegular() {
			abs, _ := filepath.Abs(p)
			if real, err := filepath.EvalSymlinks(abs); err == nil {
				abs = real
			}
			if byPath[abs] == nil {
				byPath[abs] = &Listed{Path: abs}
			}
		}
		return nil
	})
}

// describe fills in what l's file says and its trust and cache state; a
// file that cannot be described, even by a panic, says so in its own row.
func describe(l *Listed, r *Resolution, now time.Time) {
	if err := guarded(func() { describeFile(l, r, now) }); err != nil {
		l.State, l.Error = "invalid", oneLineErr(err)
	}
}

// guarded runs f, a panic in it coming back as an error (Catch).
func guarded(f func()) (err error) {
	defer Catch(&err)
	f()
	return nil
}

func describeFile(l *Listed, r *Resolution, now time.Time) {
	if _, err := os.Lstat(l.Path); errors.Is(err, fs.ErrNotExist) {
		l.State = Gone
		return
	}
	cfg, err := dirconfig.Load(l.Path)
	if err != nil {
		l.State, l.Error = "invalid", oneLineErr(err)
		for _, e := range l.trustEntries {
			if e.Denied {
				l.State = dirconfig.TrustDenied.String()
			}
		}
		return
	}
	l.RoleARN, l.Via, l.SSOAccountID, l.SSORoleName = cfg.RoleARN, cfg.Via, cfg.SSOAccountID, cfg.SSORoleName
	l.Environment, l.Confirm = cfg.Environment, cfg.Confirm
	trust, err := r.stores.Trust.Of(cfg, r.User)
	if err != nil {
		l.State, l.Error = "invalid", oneLineErr(err)
		return
	}
	l.State = trust.String()
	// Where the credentials would be cached, from the user's own
	// environment; nothing is fetched.
	if p, err := r.ProjectOf(cfg); err == nil {
		if c, ok := credcache.Lookup(r.stores.Cache.Final(p.Request, p.Source), 0, now, nil); ok {
			l.CachedUntil = c.Expiration.UTC()
		}
	}
}

// oneLineErr shows err on one line, a newline in a path as \n.
func oneLineErr(err error) string { return termsafe.String(strings.TrimSpace(err.Error())) }

// Prune removes the trust entries of the listed files that are gone, and
// returns their paths.
func Prune(list []*Listed) ([]string, error) {
	var removed []string
	for _, l := range list {
		if l.State != Gone || len(l.trustEntries) == 0 {
			continue
		}
		for _, e := range l.trustEntries {
			if err := e.Remove(); err != nil {
				return removed, err
			}
		}
		removed = append(removed, l.Path)
	}
	return removed, nil
}
