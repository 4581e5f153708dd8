// Package state keeps each shell's saved originals in snapshot files under
// the XDG state dir (a Store, given its directory once). The shell's environment points at its snapshot
// (AWSROLE_STATE); a transition writes a new snapshot instead of changing one
// that a nested shell may still point at, and snapshots no live shell can be
// using are pruned.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/transition"
)

// version is the snapshot format; a snapshot of another version is refused
// rather than guessed at.
const version = 1

// grace is how long a superseded or orphaned snapshot is kept, so a shell
// started from another one has time to reach its first prompt and adopt it.
const grace = time.Minute

// Snapshot is what one shell has active.
type Snapshot struct {
	Version int `json:"version"`
	PID     int `json:"pid"` // the shell that owns this snapshot
	transition.Active
}

// Store is awsrole's directory under the XDG state dir (xdgdir.Dirs.State):
// the snapshots, failure records and marks of every shell.
type Store struct {
	Dir string
}

func (st Store) snapshotDir() string { return filepath.Join(st.Dir, "snapshots") }

// Save writes s as a new snapshot and returns its path.
func (st Store) Save(s *Snapshot, now time.Time) (string, error) {
	s.Version = version
	data, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	path := filepath.Join(st.snapshotDir(), fmt.Sprintf("%d-%d.json", s.PID, now.UnixNano()))
	if err := privfile.Write(path, data); err != nil {
		return "", fmt.Errorf("save state: %w", err)
	}
	st.Prune(now)
	return path, nil
}

// ErrGone is in Load's error for a snapshot that is not there (any more).
var ErrGone = errors.New("is gone")

// Load reads the snapshot at path, which must be one of ours.
func (st Store) Load(path string) (*Snapshot, error) {
	if filepath.Dir(path) != st.snapshotDir() {
		return nil, fmt.Errorf("saved state %s is not under %s; your variables were left as they are (open a new shell to start afresh)", path, st.snapshotDir())
	}
	data, err := privfile.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("saved state %s %w; your variables were left as they are (open a new shell to start afresh)", path, ErrGone)
	}
	if err != nil {
		return nil, fmt.Errorf("saved state: %w; your variables were left as they are", err)
	}
	var s Snapshot
	if err := json.Unmarshal(data, &s); err != nil || s.Version != version || s.File == "" || s.Originals == nil ||
		!onlyManaged(s.Originals) || !onlyManaged(s.Applied) {
		return nil, fmt.Errorf("saved state %s is damaged; your variables were left as they are (open a new shell to start afresh)", path)
	}
	return &s, nil
}

// managed is the set of names a snapshot may save or restore.
var managed = func() map[string]bool {
	m := make(map[string]bool)
	for _, name := range transition.Managed() {
		m[name] = true
	}
	return m
}()

// onlyManaged reports whether every name in m is one awsrole manages: a
// snapshot naming others (BASH_ENV, LD_PRELOAD) was not written by awsrole,
// and restoring from it would set them in the shell.
func onlyManaged[V any](m map[string]V) bool {
	for name := range m {
		if !managed[name] {
			return false
		}
	}
	return true
}

// Alive reports whether process pid exists.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Prune removes snapshots that no live shell can be using: those of
// processes that are gone, and those a live shell has superseded, once they
// are older than the grace period. A live shell's newest snapshot stays.
func (st Store) Prune(now time.Time) {
	entries, err := os.ReadDir(st.snapshotDir())
	if err != nil {
		return
	}
	type snap struct {
		name    string
		created int64
	}
	byPID := make(map[int][]snap)
	for _, e := range entries {
		pid, created, ok := parseName(e.Name())
		if !ok {
			continue
		}
		byPID[pid] = append(byPID[pid], snap{e.Name(), created})
	}
	cutoff := now.Add(-grace).UnixNano()
	for pid, snaps := range byPID {
		alive := Alive(pid)
		newest := snaps[0].created
		for _, s := range snaps {
			newest = max(newest, s.created)
		}
		for _, s := range snaps {
			if s.created > cutoff || (alive && s.created == newest) {
				continue
			}
			os.Remove(filepath.Join(st.snapshotDir(), s.name))
		}
	}
	st.pruneFailures()
	st.pruneMarks()
	for _, dir := range []string{st.snapshotDir(), st.failureDir(), st.markDir()} {
		privfile.CleanTemp(dir, grace)
	}
}

func parseName(name string) (pid int, created int64, ok bool) {
	base, found := strings.CutSuffix(name, ".json")
	p, c, found2 := strings.Cut(base, "-")
	if !found || !found2 {
		return 0, 0, false
	}
	pid, err1 := strconv.Atoi(p)
	created, err2 := strconv.ParseInt(c, 10, 64)
	return pid, created, err1 == nil && err2 == nil
}

func (st Store) markDir() string { return filepath.Join(st.Dir, "marks") }

// Mark records, as the mtime of a per-shell file, a moment just before a
// hook call began reading anything: a hook with a fast path compares files
// against it (`-nt` in bash and zsh, `path mtime` in fish) to know whether
// anything changed since, without starting a process. A second earlier, so
// that shells comparing whole seconds (fish) still see a change made during
// the call.
func (st Store) Mark(pid int, start time.Time) (string, error) {
	// The directory is checked even when the mark exists: in a directory
	// someone else can write, the mark could be a link, and Chtimes follows
	// links.
	if err := privfile.Dir(st.markDir()); err != nil {
		return "", err
	}
	path := filepath.Join(st.markDir(), strconv.Itoa(pid))
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return "", fmt.Errorf("mark %s is not a regular file", path)
	} else if err != nil {
		if err := privfile.Write(path, nil); err != nil {
			return "", err
		}
	}
	t := start.Add(-time.Second)
	if err := os.Chtimes(path, t, t); err != nil {
		return "", fmt.Errorf("mark %s: %w", path, err)
	}
	return path, nil
}

func (st Store) pruneMarks() {
	entries, err := os.ReadDir(st.markDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && !Alive(pid) {
			os.Remove(filepath.Join(st.markDir(), e.Name()))
		}
	}
}
