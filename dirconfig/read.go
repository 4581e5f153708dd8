package dirconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/awsrole/awsrole/internal/privfile"
)

// readFile returns the bytes of the regular file at path (following
// symlinks), refusing anything else before opening or reading it: files
// over MaxFileSize, directories, FIFOs, sockets and devices; what passes the
// first stat is checked again on the open descriptor, and read without ever
// waiting (privfile.ReadLimited). Every failure is an *Error naming path.
func readFile(path string) ([]byte, error) {
	data, _, err := readChecked(path, MaxFileSize, nil)
	return data, err
}

// readChecked is readFile with a size limit and a further check of the open
// file (nil: none), returning what fstat said of it.
func readChecked(path string, limit int64, check func(fs.FileInfo) error) ([]byte, fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, statError(path, err)
	}
	if err := checkRegular(path, fi, limit); err != nil {
		return nil, nil, err
	}
	data, fi, err := privfile.ReadLimited(path, limit, true, check)
	var nr *privfile.NotRegularError
	var big *privfile.TooBigError
	switch {
	case err == nil:
		return data, fi, nil
	case errors.As(err, &nr):
		return nil, nil, checkRegular(path, fi, limit)
	case errors.As(err, &big):
		return nil, nil, tooBig(path, big.Size, limit)
	case errors.Is(err, privfile.ErrWouldBlock):
		return nil, nil, &Error{Path: path, Msg: "is a special file (reading it would wait), not a regular file; remove or rename it"}
	case errors.As(err, new(*fs.PathError)):
		return nil, nil, statError(path, err)
	}
	return nil, nil, err // check's own, already naming path
}

// checkRegular refuses what is not a regular file of a sane size.
func checkRegular(path string, fi fs.FileInfo, limit int64) error {
	m := fi.Mode()
	var what string
	switch {
	case m.IsRegular():
		if fi.Size() > limit {
			return tooBig(path, fi.Size(), limit)
		}
		return nil
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeDevice != 0:
		what = "a device"
	default:
		what = "not a regular file"
		return &Error{Path: path, Msg: what + "; remove or rename it"}
	}
	return &Error{Path: path, Msg: "is " + what + ", not a regular file; remove or rename it"}
}

func tooBig(path string, size, limit int64) error {
	what := "a config file is a few short lines, so this is probably not one"
	if limit != MaxFileSize {
		what = "this is not the file meant"
	}
	return &Error{Path: path, Msg: fmt.Sprintf("file is %d bytes, over the %d-byte limit; %s", size, limit, what)}
}

// statError turns an error from stat, open or read into a one-line *Error
// that says what to do, keeping the errno for errors.Is.
func statError(path string, err error) error {
	cause := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		cause = pe.Err
	}
	e := &Error{Path: path, Err: cause}
	switch {
	case errors.Is(cause, syscall.ELOOP):
		e.Msg = "symlink loop; fix or remove the link"
	case errors.Is(cause, fs.ErrNotExist):
		e.Msg = "does not exist"
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(path)
			e.Msg = "is a dangling symlink (its target " + quote(target) + " does not exist); fix or remove the link"
		}
	case errors.Is(cause, syscall.ENOTDIR):
		e.Msg = "a parent of this path is not a directory"
	case errors.Is(cause, fs.ErrPermission):
		e.Msg = "cannot read it: permission denied; check the permissions of the file and its directories"
	case errors.Is(cause, syscall.EISDIR):
		e.Msg = "is a directory, not a regular file; remove or rename it"
	case errors.Is(cause, syscall.ENXIO):
		e.Msg = "is a socket or device, not a regular file; remove or rename it"
	default:
		e.Msg = "cannot read it: " + cause.Error()
	}
	return e
}
