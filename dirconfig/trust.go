package dirconfig

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/termsafe"
)

// Trust is whether a .awsrole.toml may be acted on.
type Trust int

// The trust states; the zero value is TrustUnknown.
const (
	TrustUnknown Trust = iota // never allowed, or edited since
	TrustAllowed              // allowed with this content, or under a trusted dir
	TrustDenied               // denied by path, whatever the content
)

// String gives the word `awsrole status` prints.
func (t Trust) String() string {
	switch t {
	case TrustAllowed:
		return "allowed"
	case TrustDenied:
		return "denied"
	}
	return "not allowed"
}

// TrustStore is the user's record of approvals. It follows direnv:
// Dir/allow/<allowKey> holds the path of a file allowed with exactly that
// content (allowKey: path and content, each with its length);
// Dir/deny/<sha256(path + "\n")> blocks a path whatever it holds. Dir is
// awsrole's data directory (xdgdir.Dirs.Data), given by the caller.
type TrustStore struct {
	Dir string
}

func (s TrustStore) dir(kind string) string { return filepath.Join(s.Dir, kind) }

// errNoStore is a TrustStore without an absolute Dir: nothing is trusted
// by, or written to, a path relative to wherever awsrole happens to run.
var errNoStore = errors.New("awsrole has no trust store directory (set HOME or XDG_DATA_HOME to an absolute path)")

func (s TrustStore) check() error {
	if !filepath.IsAbs(s.Dir) {
		return errNoStore
	}
	return nil
}

// Dirs are the allow and deny directories: their modification times
// change whenever anything is allowed or denied, so they are what to watch.
func (s TrustStore) Dirs() []string { return []string{s.dir("allow"), s.dir("deny")} }

// Watch are the trust store's entries that decide j's trust: its allow
// entries (the file's own content, and with its policy_file's when it was
// parsed) and its deny entry, each of which may not exist. One of them
// appearing or going away is what allowing or denying j does; entries of
// other files change nothing for j. A hook checks these few files, not
// the directories, whose listing costs more in some shells.
func (s TrustStore) Watch(j *Judged) []string {
	if j == nil || j.Raw == nil {
		return s.Dirs()
	}
	gate := j.gate
	if gate == "" {
		gate = allowKey(j.RealPath, j.Data, nil)
	}
	out := []string{filepath.Join(s.dir("allow"), gate), filepath.Join(s.dir("deny"), denyKey(j.RealPath))}
	if j.Config != nil && j.Config.approval.key != "" && j.Config.approval.key != gate {
		out = append(out, filepath.Join(s.dir("allow"), j.Config.approval.key))
	}
	return out
}

// Of says whether c may be used: denied wins, then trusted_dirs from u
// (which may be nil) for a file that is the user's own (checkOwned), then
// an allow entry for this path and content, all judged on c.RealPath. Only
// the user's own trust store counts: a store, an entry or a parent
// directory that someone else owns or can write is an error
// (privfile.CheckOwner, privfile.CheckDir), never an approval. For a
// Config from Load or Parse it costs a stat and two opens. The hook judges
// a file before parsing it (Judge); this is for commands that show it.
func (s TrustStore) Of(c *Config, u *UserConfig) (Trust, error) {
	a, err := c.approvalFor()
	if err != nil {
		// Unreadable or changed since: only a deny can be said of it.
		a = approval{path: c.realPath(), owned: []ownedFile{{path: c.realPath()}}}
	}
	t, _, err := s.judge(a, u)
	return t, err
}

// judge decides trust for a (see Of), and says why trusted_dirs did
// not vouch for it when it names its directory.
func (s TrustStore) judge(a approval, u *UserConfig) (t Trust, notTrustedDir, err error) {
	if err := s.check(); err != nil {
		return TrustUnknown, nil, err
	}
	store := s.Dir
	if _, err := os.Lstat(store); err == nil {
		if err := privfile.CheckDir(store); err != nil {
			return TrustUnknown, nil, err
		}
	}
	switch denied, err := entry(s.dir("deny"), denyKey(a.path), ""); {
	case err != nil:
		return TrustUnknown, nil, err
	case denied:
		return TrustDenied, nil, nil
	}
	if u != nil && underAny(filepath.Dir(a.path), resolveAll(u.TrustedDirs)) {
		if notTrustedDir = checkOwned(a.owned); notTrustedDir == nil {
			return TrustAllowed, nil, nil
		}
	}
	if a.key == "" {
		return TrustUnknown, notTrustedDir, nil
	}
	switch allowed, err := entry(s.dir("allow"), a.key, a.path); {
	case err != nil:
		return TrustUnknown, notTrustedDir, err
	case allowed:
		return TrustAllowed, nil, nil
	}
	switch allowed, err := s.legacyAllowed(a); {
	case err != nil:
		return TrustUnknown, notTrustedDir, err
	case allowed:
		return TrustAllowed, nil, nil
	}
	return TrustUnknown, notTrustedDir, nil
}

// legacyAllowed reports whether an approval from before v2 keys allows a.
// It is unambiguous for a path without control characters, from an entry
// recording that path: it counts, and is written again as v2 (a path with
// a newline needs a new allow).
func (s TrustStore) legacyAllowed(a approval) (bool, error) {
	if !termsafe.Safe(a.path) {
		return false, nil
	}
	allowed, err := entry(s.dir("allow"), a.legacy, a.path)
	if err == nil && allowed && s.allow(a.path, a.gate) == nil && s.allow(a.path, a.key) == nil {
		os.Remove(filepath.Join(s.dir("allow"), a.legacy))
	}
	return allowed, err
}

// entry reports whether the trust store holds dir/name, checking that it
// and its directory are the user's own and, unless path is "", that it
// records path: an allow entry approves only the path it was made for.
func entry(dir, name, path string) (bool, error) {
	data, err := privfile.Read(filepath.Join(dir, name))
	switch {
	case err == nil:
		return path == "" || string(data) == path+"\n", nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
}

// realPath is where trust is judged for c.
func (c *Config) realPath() string {
	if c.RealPath != "" {
		return c.RealPath
	}
	return c.Path
}

// resolve is path with its symlinks resolved, or cleaned as it is when it
// does not exist.
func resolve(path string) string {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real
	}
	return filepath.Clean(path)
}

func resolveAll(paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		out = append(out, resolve(p))
	}
	return out
}

// Allow records that c's path with c's content may be used, and lifts a
// deny. A file with a policy_file gets two entries: one for its own content,
// which lets the hook parse it (Judge), and one with the policy's.
func (s TrustStore) Allow(c *Config) error {
	a, err := c.approvalFor()
	if err != nil {
		return err
	}
	if a.gate != a.key {
		if err := s.allow(a.path, a.gate); err != nil {
			return err
		}
	}
	return s.allow(a.path, a.key)
}

// DenyPath blocks path, whatever it holds (it need not exist or be valid),
// and forgets allows for it; a path with symlinks is denied where it lands.
func (s TrustStore) DenyPath(path string) error {
	if err := s.check(); err != nil {
		return err
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	path = resolve(path)
	if err := writeEntry(s.dir("deny"), denyKey(path), path); err != nil {
		return err
	}
	return s.removeAllows(path)
}

func (s TrustStore) allow(path, key string) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := writeEntry(s.dir("allow"), key, path); err != nil {
		return err
	}
	err := os.Remove(filepath.Join(s.dir("deny"), denyKey(path)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot lift the deny on %s: %w", displayPath(path), err)
	}
	return nil
}

// approvalFor is what allowing c approves. A Config made by Parse carries
// it; one built by hand is re-read and must still match c.Hash.
func (c *Config) approvalFor() (approval, error) {
	if c.approval.key != "" {
		return c.approval, nil
	}
	data, err := readFile(c.Path)
	if err != nil {
		return approval{}, err
	}
	if c.Hash != "" {
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != c.Hash {
			return approval{}, &Error{Path: c.Path, Msg: "changed since it was read; run the command again"}
		}
	}
	return approvalOf(c.realPath(), data, nil), nil
}

// removeAllows deletes every allow entry recorded for path.
func (s TrustStore) removeAllows(path string) error {
	dir := s.dir("allow")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read the trust store: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		data, err := privfile.Read(p)
		if err != nil || strings.TrimSuffix(string(data), "\n") != path {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot forget the allow for %s: %w", displayPath(path), err)
		}
	}
	return nil
}

// writeEntry atomically writes dir/name holding path: 0600 in a 0700
// directory of the user's own (privfile.Write).
func writeEntry(dir, name, path string) error {
	if err := privfile.Write(filepath.Join(dir, name), []byte(path+"\n")); err != nil {
		return fmt.Errorf("cannot write the trust store: %w", err)
	}
	return nil
}

// Under reports whether dir is prefix or inside it, comparing whole path
// elements (/home/a/work2 is not under /home/a/work); never for prefix "".
func Under(dir, prefix string) bool { return prefix != "" && underAny(dir, []string{prefix}) }

// underAny reports whether dir is one of prefixes or inside one, comparing
// whole path elements.
func underAny(dir string, prefixes []string) bool {
	for _, p := range prefixes {
		if p = filepath.Clean(p); dir == p {
			return true
		}
		if !strings.HasSuffix(p, string(filepath.Separator)) {
			p += string(filepath.Separator)
		}
		if strings.HasPrefix(dir, p) {
			return true
		}
	}
	return false
}

// TrustEntry is one record of the trust store: an allow of one content of
// Path, or a deny of Path.
type TrustEntry struct {
	Path   string
	Denied bool
	file   string
}

// Entries lists the trust store, allows and denies, in no set order.
// Each entry holds the path it was made for, so the store is also the
// list of every project file awsrole was told about.
func (s TrustStore) Entries() ([]TrustEntry, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []TrustEntry
	for _, kind := range []string{"allow", "deny"} {
		dir := s.dir(kind)
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read the trust store: %w", err)
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			p := filepath.Join(dir, e.Name())
			data, err := privfile.Read(p)
			if err != nil {
				continue
			}
			path := strings.TrimSuffix(string(data), "\n")
			if !filepath.IsAbs(path) || strings.ContainsAny(path, "\n\x00") {
				continue
			}
			out = append(out, TrustEntry{Path: path, Denied: kind == "deny", file: p})
		}
	}
	return out, nil
}

// Remove deletes the entry from the trust store.
func (e TrustEntry) Remove() error {
	if err := os.Remove(e.file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot remove the trust entry for %s: %w", displayPath(e.Path), err)
	}
	return nil
}
