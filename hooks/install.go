package hooks

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/termsafe"
)

// The marker lines around the block Install writes; Uninstall removes
// everything from the start line to the end line.
const (
	StartMarker = "# >>> awsrole >>>"
	EndMarker   = "# <<< awsrole <<<"
)

// Outcome is what Install or Uninstall did to one rc file, or found it
// need not do.
type Outcome struct {
	File string
	// Action is the message for the user, e.g. "added hook to /home/a/.zshrc"
	// or "hook already present in /home/a/.zshrc".
	Action string
	// Changed reports whether the file was written (or removed).
	Changed bool
}

// The outcomes Install and Uninstall report.
func added(file string) Outcome   { return Outcome{file, "added hook to " + file, true} }
func updated(file string) Outcome { return Outcome{file, "updated hook in " + file, true} }
func removed(file string) Outcome { return Outcome{file, "removed hook from " + file, true} }
func alreadyPresent(file string) Outcome {
	return Outcome{file, "hook already present in " + file, false}
}
func notPresent(file string) Outcome { return Outcome{file, "hook not present in " + file, false} }

// Install puts lines (one or more, without a final newline) between the
// marker lines in rcPath: it appends the block, replaces a block whose
// content differs, or leaves an identical one alone. A missing file (and its
// directory) is created; an existing one keeps its mode and is replaced
// atomically, through symlinks.
func Install(rcPath, lines string) (Outcome, error) {
	if err := checkLines(lines); err != nil {
		return Outcome{File: rcPath}, fmt.Errorf("install into %s: %w", rcPath, err)
	}
	f, err := readRC(rcPath)
	if err != nil {
		return Outcome{File: rcPath}, err
	}
	blocks, err := findBlocks(f.content, rcPath)
	if err != nil {
		return Outcome{File: rcPath}, err
	}
	change := added(rcPath)
	block := StartMarker + "\n" + lines + "\n" + EndMarker
	var out []byte
	if len(blocks) == 0 {
		out = append([]byte(nil), f.content...)
		if len(out) == 0 || out[len(out)-1] == '\n' {
			out = append(out, block+"\n"...)
		} else {
			// The file lacks a final newline: the block starts on a new line
			// and lacks one in turn, so Uninstall can restore the file exactly.
			out = append(out, "\n"+block...)
		}
	} else {
		// Replace the first block in place (keeping its line ending), drop
		// any other, and keep everything around them.
		first := blocks[0]
		out = append([]byte(nil), f.content[:first.start]...)
		out = append(out, block...)
		out = append(out, f.content[first.contentEnd:first.end]...)
		out = append(out, removeBlocks(f.content[first.end:], shiftBlocks(blocks[1:], -first.end))...)
		change = updated(rcPath)
		if bytes.Equal(out, f.content) {
			return alreadyPresent(rcPath), nil
		}
	}
	if err := writeRC(f, out); err != nil {
		return Outcome{File: rcPath}, err
	}
	return change, nil
}

// Uninstall removes every awsrole block from rcPath, leaving the rest of the
// file byte for byte as it was before Install. A missing file or one without
// a block is left alone. A file of awsrole's own (owned: fish's conf.d file,
// the direnv library) is deleted once empty; a user's rc file is kept even
// then (zsh would start its new-user wizard without a .zshrc).
func Uninstall(rcPath string, owned bool) (Outcome, error) {
	f, err := readRC(rcPath)
	if err != nil {
		return Outcome{File: rcPath}, err
	}
	blocks, err := findBlocks(f.content, rcPath)
	if err != nil {
		return Outcome{File: rcPath}, err
	}
	if len(blocks) == 0 {
		return notPresent(rcPath), nil
	}
	out := removeBlocks(f.content, blocks)
	if len(out) == 0 && owned && !isSymlink(rcPath) {
		if err := os.Remove(rcPath); err != nil {
			return Outcome{File: rcPath}, fmt.Errorf("uninstall: %w", err)
		}
		return removed(rcPath), nil
	}
	if err := writeRC(f, out); err != nil {
		return Outcome{File: rcPath}, err
	}
	return removed(rcPath), nil
}

// checkLines accepts a non-empty block with no carriage return, no final
// newline and no line that is a marker.
func checkLines(lines string) error {
	if lines == "" || strings.ContainsRune(lines, '\r') || strings.HasSuffix(lines, "\n") {
		return fmt.Errorf("the hook block must be non-empty lines without a final newline, got %q", lines)
	}
	for _, l := range strings.Split(lines, "\n") {
		if isMarker(l) {
			return fmt.Errorf("the hook block must not contain a marker line, got %q", l)
		}
	}
	return nil
}

// block is one marker block: content[start:end] is everything Uninstall
// removes, content[start:contentEnd] the lines from the start marker through
// the end marker without the end marker's line ending.
type block struct {
	start, contentEnd, end int
}

func isSymlink(path string) bool {
	info, err := os.Lstat(path)
	return err == nil && info.Mode()&fs.ModeSymlink != 0
}

func isMarker(line string) bool {
	line = strings.TrimRight(line, " \t\r")
	return line == StartMarker || line == EndMarker
}

// findBlocks finds the marker blocks in content. A start marker without an
// end marker is an error: guessing where the block ends could eat user lines.
func findBlocks(content []byte, name string) ([]block, error) {
	var blocks []block
	open := -1
	lineNo, openLine := 0, 0
	for off := 0; off < len(content); {
		lineNo++
		next := len(content)
		if i := bytes.IndexByte(content[off:], '\n'); i >= 0 {
			next = off + i + 1
		}
		line := strings.TrimRight(string(content[off:next]), " \t\r\n")
		switch {
		case line == StartMarker && open >= 0:
			return nil, fmt.Errorf("%s:%d: awsrole block started again before the one at line %d ended; remove the awsrole lines by hand", name, lineNo, openLine)
		case line == StartMarker:
			open, openLine = off, lineNo
		case line == EndMarker && open >= 0:
			contentEnd := off + len(EndMarker)
			blocks = append(blocks, block{start: open, contentEnd: contentEnd, end: next})
			open = -1
		}
		off = next
	}
	if open >= 0 {
		return nil, fmt.Errorf("%s:%d: awsrole block has no %q line; remove the awsrole lines by hand", name, openLine, EndMarker)
	}
	return blocks, nil
}

func shiftBlocks(blocks []block, by int) []block {
	shifted := make([]block, len(blocks))
	for i, b := range blocks {
		shifted[i] = block{start: b.start + by, contentEnd: b.contentEnd + by, end: b.end + by}
	}
	return shifted
}

// removeBlocks returns content without blocks. A block ending the file
// without a newline also takes the newline before it, which Install added.
func removeBlocks(content []byte, blocks []block) []byte {
	var out []byte
	prev := 0
	for _, b := range blocks {
		start := b.start
		if b.end == len(content) && (b.end == 0 || content[b.end-1] != '\n') && start > 0 && content[start-1] == '\n' && start-1 >= prev {
			start--
		}
		out = append(out, content[prev:start]...)
		prev = b.end
	}
	return append(out, content[prev:]...)
}

// rcFile is an rc file as read: target is the path after symlinks, so that
// replacing the file keeps a dotfiles symlink pointing at it.
type rcFile struct {
	target  string
	exists  bool
	mode    fs.FileMode
	content []byte
}

func readRC(path string) (rcFile, error) {
	f := rcFile{target: path, mode: 0o644}
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
			f.target = dest
		}
		return f, nil
	case err != nil:
		return f, fmt.Errorf("read %s: %w", path, err)
	}
	f.target = target
	info, err := os.Stat(target)
	if err != nil {
		return f, fmt.Errorf("read %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return f, fmt.Errorf("%s is not a regular file; add the hook line by hand", path)
	}
	f.exists, f.mode = true, info.Mode().Perm()
	if f.content, err = os.ReadFile(target); err != nil {
		return f, fmt.Errorf("read %s: %w", path, err)
	}
	return f, nil
}

// checkLinks refuses a path that leads through a symbolic link (the file
// or any directory on the way, at any hop of a chain) owned by anyone but
// root, for awsrole run as root: `sudo awsrole install` with another
// user's HOME would otherwise write, as root, wherever that user's link
// points (a root-only file). Links are followed one hop at a time, each
// relative to where it really is.
func checkLinks(path string, hops int) error {
	if hops > 40 {
		return fmt.Errorf("%s: too many levels of symbolic links", termsafe.String(path))
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
				termsafe.String(next), uidDesc(int(st.Uid)))
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

// uidDesc is "name (uid N)", or "uid N" for a uid without a name.
func uidDesc(uid int) string {
	id := strconv.Itoa(uid)
	if u, err := user.LookupId(id); err == nil && u.Username != "" {
		return fmt.Sprintf("%s (uid %d)", termsafe.String(u.Username), uid)
	}
	return "uid " + id
}

// writeRC replaces f's content atomically, keeping its mode (a new file
// gets 0644: rc files are not secrets).
func writeRC(f rcFile, content []byte) error {
	return privfile.WriteMode(f.target, content, f.mode)
}
