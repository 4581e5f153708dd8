package dirconfig

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// readFile returns the bytes of the regular file at path (following
// symlinks), refusing anything else before opening or reading it: files
// over MaxFileSize, directories, FIFOs (it never blocks on one), sockets and
// devices. Every failure is an *Error naming path.
func readFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, statError(path, err)
	}
	if err := checkRegular(path, fi); err != nil {
		return nil, err
	}
	// O_NONBLOCK: if a FIFO was swapped in after the Stat, open must not
	// wait for a writer; the Fstat below then refuses it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, statError(path, err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, statError(path, err)
	}
	if err := checkRegular(path, fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, statError(path, err)
	}
	if len(data) > MaxFileSize {
		return nil, tooBig(path, int64(len(data)))
	}
	return data, nil
}

// checkRegular refuses what is not a regular file of a sane size.
func checkRegular(path string, fi fs.FileInfo) error {
	m := fi.Mode()
	var what string
	switch {
	case m.IsRegular():
		if fi.Size() > MaxFileSize {
			return tooBig(path, fi.Size())
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

func tooBig(path string, size int64) error {
	return &Error{Path: path, Msg: fmt.Sprintf(
		"file is %d bytes, over the %d-byte limit; a config file is a few short lines, so this is probably not one",
		size, MaxFileSize)}
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
