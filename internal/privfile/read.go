package privfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// ErrWouldBlock is returned by ReadLimited for a file whose read would wait
// (a pollable special file that looks like a regular one, such as
// /proc/kmsg): awsrole never waits on a read.
var ErrWouldBlock = errors.New("reading it would block")

// TooBigError is returned by ReadLimited for a file over the limit.
type TooBigError struct{ Size int64 }

func (e *TooBigError) Error() string { return fmt.Sprintf("file is %d bytes", e.Size) }

// NotRegularError is returned by ReadLimited for anything but a regular file.
type NotRegularError struct{ Mode fs.FileMode }

func (e *NotRegularError) Error() string { return "not a regular file" }

// ReadLimited reads the regular file at path, bounded in size and in time:
// it opens without blocking (O_NONBLOCK, so a FIFO swapped in does not wait
// for a writer; O_NOCTTY, so a tty does not become the controlling
// terminal; O_NOFOLLOW too when follow is false), checks on the open
// descriptor that it is a regular file of at most limit bytes that passes
// check (nil: no check), and reads with plain read calls, never through
// Go's poller, so that a file that would block fails with ErrWouldBlock
// instead of waiting. Open errors are *fs.PathError values.
func ReadLimited(path string, limit int64, follow bool, check func(fs.FileInfo) error) ([]byte, fs.FileInfo, error) {
	flags := syscall.O_RDONLY | syscall.O_NONBLOCK | syscall.O_NOCTTY | syscall.O_CLOEXEC
	if !follow {
		flags |= syscall.O_NOFOLLOW
	}
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, flags, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	fi := &statInfo{name: path, st: st}
	if !fi.Mode().IsRegular() {
		return nil, fi, &NotRegularError{Mode: fi.Mode()}
	}
	if fi.Size() > limit {
		return nil, fi, &TooBigError{Size: fi.Size()}
	}
	if check != nil {
		if err := check(fi); err != nil {
			return nil, fi, err
		}
	}
	data, err := readFD(fd, path, fi.Size(), limit)
	return data, fi, err
}

// readFD reads fd, which says it holds size bytes, to its end with plain
// read calls: ErrWouldBlock instead of waiting, a *TooBigError past limit.
// Files under /proc and /sys say size 0 and hold more: it reads to the
// limit whatever the size says, one byte over to tell.
func readFD(fd int, path string, size, limit int64) ([]byte, error) {
	chunk := make([]byte, min(limit+1, max(size+1, 4096)))
	data := []byte{}
	for {
		n, err := syscall.Read(fd, chunk)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return nil, ErrWouldBlock
		case err != nil:
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		case n == 0:
			return data, nil
		}
		data = append(data, chunk[:n]...)
		if int64(len(data)) > limit {
			return nil, &TooBigError{Size: int64(len(data))}
		}
	}
}

// statInfo is an fs.FileInfo from an fstat of an open descriptor.
type statInfo struct {
	name string
	st   syscall.Stat_t
}

func (s *statInfo) Name() string       { return s.name }
func (s *statInfo) Size() int64        { return s.st.Size }
func (s *statInfo) ModTime() time.Time { return mtime(&s.st) }
func (s *statInfo) IsDir() bool        { return s.Mode().IsDir() }
func (s *statInfo) Sys() any           { return &s.st }

func (s *statInfo) Mode() fs.FileMode {
	m := fs.FileMode(s.st.Mode & 0o777)
	switch s.st.Mode & syscall.S_IFMT {
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if s.st.Mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if s.st.Mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if s.st.Mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// SameFile reports whether fi (from ReadLimited) and the file now at path
// are one file.
func SameFile(fi fs.FileInfo, path string) bool {
	a, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	now, err := os.Stat(path)
	if err != nil {
		return false
	}
	b, ok := now.Sys().(*syscall.Stat_t)
	return ok && a.Dev == b.Dev && a.Ino == b.Ino
}
