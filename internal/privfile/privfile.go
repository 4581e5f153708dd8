// Package privfile reads and writes the files that hold credentials and
// saved environments: 0600 files in 0700 directories owned by the user,
// written atomically, and refused when someone else could have written them.
// It is awsrole's one atomic writer: the user's rc files go through it too
// (WriteMode), with their own mode, in a directory that is the user's own
// business.
package privfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// MaxSize bounds what Read accepts; state and cache files are a few KiB.
const MaxSize = 1 << 20

// Dir creates dir (0700) if needed and checks that it is a directory of ours
// that nobody else can write to, under parents that pass CheckParents.
func Dir(dir string) error { return makeDir(dir, 0o700) }

func makeDir(dir string, mode fs.FileMode) error {
	if err := CheckParents(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, mode); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == dir {
			err = pe.Err
		}
		return fmt.Errorf("create %s: %w", show(dir), err)
	}
	return CheckDir(dir)
}

// Write replaces path with data atomically (temp file + rename), 0600, in
// a directory of ours (Dir).
func Write(path string, data []byte) error {
	if err := Dir(filepath.Dir(path)); err != nil {
		return err
	}
	// No fsync: the rename alone makes a killed process leave the old file
	// or the new one, and what is written here (a shell's snapshot, cached
	// credentials) matters no longer than the machine stays up; the sync
	// cost milliseconds at every entry.
	return replace(path, data, 0o600, tempPattern, false)
}

// WriteMode replaces path, a file of the user's that is not secret (a
// shell rc file), with data atomically, with mode perm; a missing directory
// is created with perm's read bits as search bits (0644: 0755). Unlike
// Write's, the directory is the user's own business: a group-writable
// ~/.config (umask 002) is where rc files live on many systems. The data is
// synced before the rename: unlike Write's files, this one must outlive a
// crash of the machine.
func WriteMode(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700|(perm&0o044)>>2|perm&0o044); err != nil {
		return fmt.Errorf("create %s: %w", show(dir), cause(err))
	}
	// The temporary file says whose it is: it sits among the user's own.
	return replace(path, data, perm.Perm(), "."+filepath.Base(path)+".awsrole-*", true)
}

// replace writes data to a temporary file named after pattern next to
// path, gives it perm and renames it over path.
func replace(path string, data []byte, perm fs.FileMode, pattern string, sync bool) error {
	f, err := os.CreateTemp(filepath.Dir(path), pattern)
	if err != nil {
		return fmt.Errorf("write %s: %w", show(path), cause(err))
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil && perm != 0o600 {
		// CreateTemp made it 0600.
		err = f.Chmod(perm)
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", show(path), cause(err))
	}
	return nil
}

// cause drops the path an *fs.PathError or *os.LinkError repeats: the
// temporary file's name only makes a message longer.
func cause(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

// tempPattern names Write's temporary files.
const tempPattern = ".tmp-*"

// CleanTemp removes temporary files that a Write killed between creating and
// renaming them left in dir, once they are older than age (a younger one may
// be another process's write in progress). Nothing else reads them; this
// only keeps them from piling up.
func CleanTemp(dir string, age time.Duration) {
	names, err := filepath.Glob(filepath.Join(dir, tempPattern))
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-age)
	for _, p := range names {
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && fi.ModTime().Before(cutoff) {
			os.Remove(p)
		}
	}
}

// ErrNotExist is returned by Read for a missing file.
var ErrNotExist = fs.ErrNotExist

// Read returns the content of a regular file of ours that only we can write,
// in a directory of ours (CheckDir); it never follows a symlink at path and
// never blocks.
func Read(path string) ([]byte, error) {
	data, _, err := ReadLimited(path, MaxSize, false, func(fi fs.FileInfo) error { return CheckOwner(path, fi) })
	var nr *NotRegularError
	var big *TooBigError
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		return nil, err
	case errors.Is(err, syscall.ELOOP):
		return nil, fmt.Errorf("%s is a symbolic link, not a file of ours; not following it", show(path))
	case errors.As(err, &nr), errors.Is(err, ErrWouldBlock):
		return nil, fmt.Errorf("%s is not a regular file; remove it", show(path))
	case errors.As(err, &big):
		return nil, fmt.Errorf("%s is larger than %d bytes; remove it", show(path), MaxSize)
	case errors.As(err, new(*fs.PathError)):
		return nil, fmt.Errorf("read %s: %w", show(path), cause(err))
	default:
		return nil, err
	}
	if err := CheckDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return data, nil
}
