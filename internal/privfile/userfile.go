package privfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// UserFile is a file of the user's that awsrole edits a block of (a shell
// rc file, the AWS config), as read: Target is the path after symlinks,
// so that replacing the file keeps a dotfiles symlink pointing at it.
type UserFile struct {
	Target  string
	Exists  bool
	Mode    fs.FileMode
	Content []byte
}

// ReadUserFile reads path through its symlinks, at most MaxSize bytes and
// without blocking (a FIFO at the name is refused, never waited on). A
// missing file, or a dangling link, reads as empty, to be created where
// the link points. Run as root, it refuses a path that leads through a
// symbolic link another user owns (checkLinks).
func ReadUserFile(path string) (UserFile, error) {
	f := UserFile{Target: path, Mode: 0o644}
	if os.Geteuid() == 0 {
		if err := checkLinks(path, 0); err != nil {
			return f, err
		}
	}
	target, err := filepath.EvalSymlinks(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Missing file, or a dangling symlink: write to where the link points.
		if dest, lerr := os.Readlink(path); lerr == nil {
			if !filepath.IsAbs(dest) {
				dest = filepath.Join(filepath.Dir(path), dest)
			}
			// Its directory as it really is: a dotfiles link may lead
			// through another link.
			if dir, err := filepath.EvalSymlinks(filepath.Dir(dest)); err == nil {
				dest = filepath.Join(dir, filepath.Base(dest))
			}
			f.Target = dest
		}
		return f, nil
	case err != nil:
		return f, fmt.Errorf("read %s: %w", show(path), cause(err))
	}
	f.Target = target
	data, fi, err := ReadLimited(target, MaxSize, true, nil)
	var nr *NotRegularError
	var big *TooBigError
	switch {
	case errors.As(err, &nr), errors.Is(err, ErrWouldBlock):
		return f, fmt.Errorf("%s is not a regular file; edit it by hand", show(path))
	case errors.As(err, &big):
		return f, fmt.Errorf("%s is larger than %d bytes; edit it by hand", show(path), MaxSize)
	case err != nil:
		return f, fmt.Errorf("read %s: %w", show(path), cause(err))
	}
	f.Exists, f.Mode, f.Content = true, fi.Mode().Perm(), data
	return f, nil
}

// Replace writes content over f atomically at its target, keeping its mode
// (a new file gets 0644: rc files and the AWS config hold no secrets).
func (f UserFile) Replace(content []byte) error {
	return WriteMode(f.Target, content, f.Mode)
}

// checkLinks refuses a path that leads through a symbolic link (the file
// or any directory on the way, at any hop of a chain) owned by anyone but
// root, for awsrole run as root: `sudo awsrole install` with another
// user's HOME would otherwise write, as root, wherever that user's link
// points (a root-only file). Links are followed one hop at a time, each
// relative to where it really is.
func checkLinks(path string, hops int) error {
	if hops > 40 {
		return fmt.Errorf("%s: too many levels of symbolic links", show(path))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(abs, string(filepath.Separator)), string(filepath.Separator))
	cur := string(filepath.Separator)
	for i, name := range parts {
		next := filepath.Join(cur, name)
		fi, err := os.Lstat(next)
		if err != nil {
			return nil // not there yet: created as root's own
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
			return fmt.Errorf("%s is a symbolic link owned by %s; as root, awsrole never writes through another user's link: run awsrole as that user, or replace the link with the file",
				show(next), ownerDesc(int(st.Uid)))
		}
		dest, err := os.Readlink(next)
		if err != nil {
			return nil
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(cur, dest)
		}
		return checkLinks(filepath.Join(append([]string{dest}, parts[i+1:]...)...), hops+1)
	}
	return nil
}
