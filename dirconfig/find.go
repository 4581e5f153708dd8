package dirconfig

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Find returns the path of the nearest FileName in dir or an ancestor, up to
// and including "/", or "" if there is none. It costs one Lstat per level
// and does not judge what it finds: anything at that name (a directory, a
// dangling symlink, a FIFO) is returned for Load to report on.
// The hooks walk the same levels at a prompt with test -e, which differs
// for a dangling symlink and an unsearchable level (hooks/CONTRACT.md).
func Find(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		p := dir + string(filepath.Separator) + FileName
		if os.IsPathSeparator(dir[len(dir)-1]) {
			p = dir + FileName
		}
		_, err := os.Lstat(p)
		switch {
		case err == nil:
			return p, nil
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
			// Nothing here (or dir itself is gone): keep walking up.
		default:
			return "", statError(p, err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}
