// Package privfile reads and writes the files that hold credentials and
// saved environments: 0600 files in 0700 directories owned by the user,
// written atomically, and refused when someone else could have written them.
package privfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// MaxSize bounds what Read accepts; state and cache files are a few KiB.
const MaxSize = 1 << 20

// Dir creates dir (0700) if needed and checks that it is a directory of ours
// that nobody else can write to.
func Dir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == dir {
			err = pe.Err
		}
		return fmt.Errorf("create %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link; awsrole keeps these files only in a directory of its own: remove the link", dir)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory; remove it", dir)
	}
	return checkOwner(dir, fi)
}

func checkOwner(path string, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s is owned by uid %d, not you; not using it", path, st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %04o); not using it: chmod go-w %q", path, fi.Mode().Perm(), path)
	}
	return nil
}

// Write replaces path with data atomically (temp file + rename), 0600.
func Write(path string, data []byte) error {
	if err := Dir(filepath.Dir(path)); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), tempPattern)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, cause(err))
	}
	tmp := f.Name()
	// No fsync: the rename alone makes a killed process leave the old file
	// or the new one, and what is written here (a shell's snapshot, cached
	// credentials) matters no longer than the machine stays up; the sync
	// cost milliseconds at every entry.
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, cause(err))
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

// Read returns the content of a regular file of ours that only we can write.
func Read(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, err
		case errors.Is(err, syscall.ELOOP):
			return nil, fmt.Errorf("%s is a symbolic link, not a file of ours; not following it", path)
		}
		return nil, fmt.Errorf("read %s: %w", path, cause(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file; remove it", path)
	}
	if err := checkOwner(path, fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s is larger than %d bytes; remove it", path, MaxSize)
	}
	return data, nil
}
