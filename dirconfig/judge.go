package dirconfig

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/awsrole/awsrole/internal/privfile"
)

// Raw is a project file as read, before anything in it is interpreted: its
// bytes, read once, their hash, and what the open descriptor said of it.
type Raw struct {
	Path     string // absolute, as found
	RealPath string // with every symlink resolved: where trust is judged
	Dir      string // the directory of Path
	Data     []byte
	Hash     string // hex sha256 of Data
	info     fs.FileInfo
}

// ReadRaw reads the project file at path once, as every file awsrole reads:
// bounded, a regular file only (never a directory, FIFO or device), never
// waiting, and the same file that path names once read.
func ReadRaw(path string) (*Raw, error) {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	data, fi, err := readChecked(path, MaxFileSize, nil)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil || !privfile.SameFile(fi, real) {
		return nil, &Error{Path: path, Msg: "changed while it was read; run the command again"}
	}
	sum := sha256.Sum256(data)
	return &Raw{Path: path, RealPath: real, Dir: filepath.Dir(path), Data: data, Hash: hex.EncodeToString(sum[:]), info: fi}, nil
}

// parse interprets r: Parse, then the policy_file's bytes, read but not yet
// read as a policy (checkPolicy does that once they are trusted).
func (r *Raw) parse() (*Config, []byte, error) {
	c, err := Parse(r.Path, r.Data)
	if err != nil {
		return nil, nil, err
	}
	c.RealPath = r.RealPath
	owned := []ownedFile{{r.RealPath, r.info}}
	var policy []byte
	if c.PolicyFile != "" {
		// The policy is part of what the user approves: its content goes
		// into the hash and the allow key, so editing it revokes trust.
		var fi fs.FileInfo
		if policy, fi, err = c.loadPolicyFile(); err != nil {
			return nil, nil, err
		}
		sum := sha256.Sum256(withPolicy(r.Data, policy))
		c.Hash = hex.EncodeToString(sum[:])
		owned = append(owned, ownedFile{filepath.Join(c.Dir, c.PolicyFile), fi})
	}
	c.approval = approvalOf(r.RealPath, r.Data, policy)
	c.approval.owned = owned
	return c, policy, nil
}

// Judged is a project file whose trust was decided on the bytes read.
type Judged struct {
	*Raw
	Trust Trust
	gate  string // the allow key of the file's own bytes, as judged (TrustStore.Watch)
	// NotTrustedDir says why trusted_dirs, which names the file's
	// directory, does not vouch for it (nil: it does, or names none).
	NotTrustedDir error
	// Config is the file parsed and validated, with its policy_file: only
	// when Trust is TrustAllowed.
	Config *Config
}

// Judge reads the project file at path once and decides its trust on
// exactly the bytes read, before anything in them is interpreted: a file
// that is not allowed is never parsed. An allowed one is then parsed and
// validated; its policy_file's bytes are judged with it before they are
// read as a policy. On error the Judged is what was found so far (nil when
// the file could not be read).
func (s TrustStore) Judge(path string, u *UserConfig) (*Judged, error) {
	r, err := ReadRaw(path)
	if err != nil {
		return nil, err
	}
	j := &Judged{Raw: r}
	gate := approvalOf(r.RealPath, r.Data, nil)
	gate.owned = []ownedFile{{r.RealPath, r.info}}
	j.gate = gate.gate
	if j.Trust, j.NotTrustedDir, err = s.judge(gate, u); err != nil || j.Trust != TrustAllowed {
		return j, err
	}
	c, policy, err := r.parse()
	if err != nil {
		return j, err
	}
	if c.PolicyFile != "" {
		if j.Trust, j.NotTrustedDir, err = s.judge(c.approval, u); err != nil || j.Trust != TrustAllowed {
			return j, err
		}
		j.Hash = c.Hash
	}
	if err := c.checkPolicy(policy); err != nil {
		return j, err
	}
	j.Config = c
	return j, nil
}

// approval is what an allow entry approves, by the names of the entries.
type approval struct {
	path   string // where trust is judged: the file's real path
	key    string // v2 key of the file's content and its policy_file's
	gate   string // v2 key of the file's own content (key, without a policy_file)
	legacy string // the key before v2 of the same
	owned  []ownedFile
}

// ownedFile is a file trusted_dirs vouches for only if it is the user's.
type ownedFile struct {
	path string
	info fs.FileInfo // from the descriptor it was read through; nil: stat it
}

func approvalOf(path string, data, policy []byte) approval {
	gate := allowKey(path, data, nil)
	key := gate
	if policy != nil {
		key = allowKey(path, data, policy)
	}
	return approval{path: path, key: key, gate: gate,
		legacy: legacyAllowKey(path, data, policy), owned: []ownedFile{{path: path}}}
}

// checkOwned says why trusted_dirs may not vouch for files (nil: it may):
// each must be owned by the user or root and writable by nobody else, and
// so must its directory and those above it (privfile.CheckParents): in a
// directory another user can write, that user decides what the file says.
func checkOwned(files []ownedFile) error {
	for _, f := range files {
		fi := f.info
		if fi == nil {
			var err error
			if fi, err = os.Stat(f.path); err != nil {
				return err
			}
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() && st.Uid != 0 {
			return fmt.Errorf("%s is owned by uid %d, not by you or root", displayPath(f.path), st.Uid)
		}
		if perm := fi.Mode().Perm(); perm&0o022 != 0 {
			return fmt.Errorf("%s is writable by group or others (mode %04o)", displayPath(f.path), perm)
		}
		real := f.path
		if r, err := filepath.EvalSymlinks(f.path); err == nil {
			real = r
		}
		if err := privfile.CheckParents(filepath.Dir(real)); err != nil {
			return err
		}
	}
	return nil
}
