package privfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/awsrole/awsrole/internal/termsafe"
)

// CheckOwner refuses a file or directory that is not the user's own or that
// group or others may write: whoever can write it decides what awsrole does.
// fi should come from the open descriptor (or an Lstat) of path.
func CheckOwner(path string, fi fs.FileInfo) error {
	if uid, ok := ownerOf(fi); ok && uid != os.Geteuid() {
		return fmt.Errorf("%s is owned by %s, not by you; not trusting it: chown %s %s",
			show(path), ownerDesc(uid), userName(os.Geteuid()), shellWord(path))
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %04o); not trusting it: chmod go-w %s",
			show(path), perm, shellWord(path))
	}
	return nil
}

// CheckDir checks that dir is a directory of the user's own that nobody else
// can write, and that so are its parents up to $HOME (or "/"), as CheckParents
// says. Nothing is remembered: a long-lived process (the credential
// endpoint) sees a directory given to someone else at its next check.
func CheckDir(dir string) error {
	dir = filepath.Clean(dir)
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link; awsrole keeps its files only in a directory of its own: remove the link", show(dir))
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory; remove it", show(dir))
	}
	if err := CheckOwner(dir, fi); err != nil {
		return err
	}
	return CheckParents(filepath.Dir(dir))
}

// CheckParents checks dir and each directory above it, up to and including
// $HOME when dir is under it and up to "/" otherwise, the way OpenSSH's
// StrictModes checks ~/.ssh: each must be owned by the user or by root, and
// not writable by group or others, unless it has the sticky bit (like
// /tmp), where nobody can rename or remove what is not theirs. Directories
// that do not exist yet pass: awsrole creates them, as its own. Each costs
// a stat (a few under $HOME: microseconds), and nothing is remembered. A
// directory on the way that is a symbolic link is judged where it lands,
// with the directories above its target.
func CheckParents(dir string) error {
	dir = filepath.Clean(dir)
	if !filepath.IsAbs(dir) {
		return nil
	}
	stop := walkStop(dir)
	for d := dir; ; d = filepath.Dir(d) {
		last := d == stop || d == filepath.Dir(d)
		err := checkParent(d)
		if err == nil && !last {
			err = checkLinkTarget(d)
		}
		if err != nil || last {
			return err
		}
	}
}

// walkStop is where a walk up from dir ends: $HOME when dir is under it,
// as written or where it really is (a home on a linked path), else "/".
//
// $HOME is read here, where it decides something, and not passed in: it
// bounds the ownership walk under every private file awsrole reads or
// writes (state, credential cache, trust store, tokens, endpoint), so an
// explicit value would travel through every call of every store. It is
// one of the environment reads the architecture allows outside cmd and
// xdgdir (issue #18).
func walkStop(dir string) string {
	home := os.Getenv("HOME")
	if !filepath.IsAbs(home) {
		return string(filepath.Separator)
	}
	home = filepath.Clean(home)
	if under(dir, home) {
		return home
	}
	if real, err := filepath.EvalSymlinks(home); err == nil && real != home && under(dir, real) {
		return real
	}
	return string(filepath.Separator)
}

func under(dir, top string) bool {
	return dir == top || strings.HasPrefix(dir, strings.TrimSuffix(top, string(filepath.Separator))+string(filepath.Separator))
}

// checkLinkTarget checks where d points, one link at a time, when d is a
// symbolic link: that place and the directories above it, since whoever
// could replace one of them could replace what is under it. ($HOME
// itself, where the walk stops, is not followed: what is above it is not
// the user's business.) A loop of links fails checkParent's stat first.
func checkLinkTarget(d string) error {
	fi, err := os.Lstat(d)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return nil
	}
	hop, err := os.Readlink(d)
	if err != nil {
		return nil
	}
	if !filepath.IsAbs(hop) {
		// Relative to where the link really is: a ".." in it climbs
		// from there, not from the path as written.
		base, err := filepath.EvalSymlinks(filepath.Dir(d))
		if err != nil {
			base = filepath.Dir(d)
		}
		hop = filepath.Join(base, hop)
	}
	return CheckParents(hop)
}

func checkParent(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("cannot check %s: %w", show(dir), cause(err))
	}
	uid, ok := ownerOf(fi)
	if !ok {
		return nil
	}
	if uid != os.Geteuid() && uid != 0 {
		return fmt.Errorf("%s is owned by %s, not by you or root; not trusting what is under it: chown %s %s",
			show(dir), ownerDesc(uid), userName(os.Geteuid()), shellWord(dir))
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("%s is writable by group or others (mode %04o); not trusting what is under it: chmod go-w %s",
			show(dir), perm, shellWord(dir))
	}
	return nil
}

func ownerOf(fi fs.FileInfo) (int, bool) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), true
	}
	return 0, false
}

// ownerDesc is "name (uid N)", or "uid N" for a uid without a name.
func ownerDesc(uid int) string {
	if n := userName(uid); n != strconv.Itoa(uid) {
		return fmt.Sprintf("%s (uid %d)", n, uid)
	}
	return fmt.Sprintf("uid %d", uid)
}

// userName is the login name of uid, or the number for a uid without one.
func userName(uid int) string {
	id := strconv.Itoa(uid)
	if u, err := user.LookupId(id); err == nil && u.Username != "" {
		return termsafe.String(u.Username)
	}
	return id
}

// show makes a path safe to print.
func show(path string) string { return termsafe.String(path) }

// shellWord makes path one word for a POSIX shell command line, shown
// terminal-safe.
func shellWord(path string) string {
	safe := path != ""
	for _, r := range path {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+,:@%=", r)) {
			safe = false
			break
		}
	}
	if safe {
		return path
	}
	return termsafe.String("'" + strings.ReplaceAll(path, "'", `'\''`) + "'")
}
