package hooks

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/awsrole/awsrole/internal/privfile"
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
	f, err := privfile.ReadUserFile(rcPath)
	if err != nil {
		return Outcome{File: rcPath}, err
	}
	blocks, err := findBlocks(f.Content, rcPath)
	if err != nil {
		return Outcome{File: rcPath}, err
	}
	change := added(rcPath)
	block := StartMarker + "\n" + lines + "\n" + EndMarker
	var out []byte
	if len(blocks) == 0 {
		out = append([]byte(nil), f.Content...)
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
		out = append([]byte(nil), f.Content[:first.start]...)
		out = append(out, block...)
		out = append(out, f.Content[first.contentEnd:first.end]...)
		out = append(out, removeBlocks(f.Content[first.end:], shiftBlocks(blocks[1:], -first.end))...)
		change = updated(rcPath)
		if bytes.Equal(out, f.Content) {
			return alreadyPresent(rcPath), nil
		}
	}
	if err := f.Replace(out); err != nil {
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
	f, err := privfile.ReadUserFile(rcPath)
	if err != nil {
		return Outcome{File: rcPath}, err
	}
	blocks, err := findBlocks(f.Content, rcPath)
	if err != nil {
		return Outcome{File: rcPath}, err
	}
	if len(blocks) == 0 {
		return notPresent(rcPath), nil
	}
	out := removeBlocks(f.Content, blocks)
	if len(out) == 0 && owned && !isSymlink(rcPath) {
		if err := os.Remove(rcPath); err != nil {
			return Outcome{File: rcPath}, fmt.Errorf("uninstall: %w", err)
		}
		return removed(rcPath), nil
	}
	if err := f.Replace(out); err != nil {
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
