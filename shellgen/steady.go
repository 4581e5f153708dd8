package shellgen

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/awsrole/awsrole/internal/transition"
)

// FastPathVersion is the version of the fast-path contract (hooks/CONTRACT.md)
// that Facts and the hooks implement; every hook script names it.
const FastPathVersion = 2

// Facts are what a hook (every shell's has a fast path) checks, with builtins only, to skip
// starting a process: while the nearest .awsrole.toml is still File,
// neither it nor any of Watch is newer than Mark, AWSROLE_STATE is still
// State, the clock is before Deadline (unix seconds) and Server (when the
// shell holds the credential endpoint's URI) still runs, another call would
// change nothing. When the shell leaves every project while Leave is set, it
// runs Leave's restores itself; so does every hook when a call fails
// outside AWSROLE_DIR. Each shell's Steady renders them as its hook reads
// them (nushell's and elvish's read some facts differently). hooks/CONTRACT.md is
// the contract in full, with where the hooks' walk and dirconfig.Find differ.
type Facts struct {
	File, State, Mark string
	Deadline          int64
	Watch             []string
	Leave             []Restore
	Server            Process
}

// Process is one process as a hook can check it with builtins: PID (0: no
// process to check) and, on Linux, Start, its start time (field 22 of
// /proc/PID/stat, clock ticks since boot). A dead process whose pid was
// given to another one has another start time; a killed one nobody has
// reaped yet (a zombie, where init does not reap) has state Z. Where there
// is no /proc, Start is "" and bash and zsh ask `kill -0`; fish, with no
// kill builtin, asks the binary.
type Process struct {
	PID   int
	Start string
}

// ProcessOf is pid as a hook checks it.
func ProcessOf(pid int) Process {
	p := Process{PID: pid}
	if pid <= 0 {
		return Process{}
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return p
	}
	// pid (comm) state ppid ... : the fields after comm, which may hold
	// spaces, start at the state (field 3); the start time is field 22.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return p
	}
	if f := strings.Fields(s[i+1:]); len(f) > 19 {
		if _, err := strconv.ParseUint(f[19], 10, 64); err == nil {
			p.Start = f[19]
		}
	}
	return p
}

// joinWords is words (digits only: no quoting) each after a space.
func joinWords(words []string) string {
	var b strings.Builder
	for _, w := range words {
		b.WriteString(" " + w)
	}
	return b.String()
}

// procWords is Server as the hooks hold it: PID and Start, none when no
// server is to be checked.
func procWords(p Process) []string {
	switch {
	case p.PID <= 0:
		return nil
	case p.Start == "":
		return []string{strconv.Itoa(p.PID)}
	}
	return []string{strconv.Itoa(p.PID), p.Start}
}

// Restore puts Name back to Original (nil: unset) if it still holds Set
// (nil: unset), the value awsrole gave it.
type Restore struct {
	Name          string
	Set, Original *string
}

// posixSteady renders f as bash/zsh variables (not exported) for the hook;
// watch renders the array __awsrole_watch from f.
func posixSteady(f Facts, watch func(Facts) ([]string, error)) (string, error) {
	leave, err := leaveCode(f.Leave, posixQuote, posixRestore, "\\builtin unset -v "+transition.StateVar+"\n")
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, v := range []struct{ name, value string }{
		{"__awsrole_file", f.File}, {"__awsrole_state", f.State}, {"__awsrole_mark", f.Mark}, {"__awsrole_leave", leave},
	} {
		q, err := posixQuote(v.value)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s=%s;\n", v.name, q)
	}
	words, err := watch(f)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "__awsrole_deadline=%d;\n__awsrole_server=(%s);\n__awsrole_watch=(", f.Deadline, strings.TrimPrefix(joinWords(procWords(f.Server)), " "))
	for i, w := range words {
		q, err := posixQuote(w)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(q)
	}
	b.WriteString(");\n")
	return b.String(), nil
}

// watchList is __awsrole_watch as zsh's hook tests it: the watched files,
// one by one against the mark.
func watchList(f Facts) ([]string, error) { return f.Watch, nil }

// watchTest is __awsrole_watch as the bash and fish hooks test it: the
// arguments of one `test` call that succeeds while neither File nor any of Watch is
// newer than Mark (one builtin call costs less than a loop).
// Every path is absolute, so no path reads as an operator.
func watchTest(f Facts) ([]string, error) {
	files := f.Watch
	if f.File != "" {
		files = append([]string{f.File}, files...)
	}
	words := []string{}
	for _, p := range append(files, f.Mark) {
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("steady state: %q is not an absolute path", p)
		}
	}
	for _, p := range files {
		words = append(words, "!", p, "-nt", f.Mark, "-a")
	}
	return append(words, "-n", "x"), nil
}

// restoreCode renders one restore: put name back to original (nil: unset)
// if it still holds set (nil: unset); the values come quoted.
type restoreCode func(name string, set, original *string) string

// posixRestore is restoreCode for bash and zsh.
func posixRestore(name string, set, original *string) string {
	cond := fmt.Sprintf("[[ -z ${%s+x} ]]", name)
	if set != nil {
		cond = fmt.Sprintf("[[ ${%s+x} == x && ${%s} == %s ]]", name, name, *set)
	}
	action := "\\builtin unset -v " + name
	if original != nil {
		action = fmt.Sprintf("\\builtin export %s=%s", name, *original)
	}
	return fmt.Sprintf("if %s; then %s; fi\n", cond, action)
}

// leaveCode is the code that leaves a role without a process: each variable
// goes back to its original only if it still holds the value awsrole set,
// so a value changed by hand is left alone; "" when no role is active.
// Only the variables awsrole manages are ever restored: a name such as
// BASH_ENV or LD_PRELOAD (from a snapshot someone else wrote) is refused.
// unsetState, the code that unsets the state variable, comes last.
func leaveCode(restores []Restore, quote func(string) (string, error), restore restoreCode, unsetState string) (string, error) {
	if len(restores) == 0 {
		return "", nil
	}
	managed := transition.Managed()
	var b strings.Builder
	for _, r := range restores {
		if !slices.Contains(managed, r.Name) {
			return "", fmt.Errorf("%q is not a variable awsrole restores", r.Name)
		}
		set, err := quoteOpt(r.Set, quote)
		if err != nil {
			return "", err
		}
		orig, err := quoteOpt(r.Original, quote)
		if err != nil {
			return "", err
		}
		b.WriteString(restore(r.Name, set, orig))
	}
	b.WriteString(unsetState)
	return b.String(), nil
}

func quoteOpt(v *string, quote func(string) (string, error)) (*string, error) {
	if v == nil {
		return nil, nil
	}
	q, err := quote(*v)
	return &q, err
}

// markTime is the mark's mtime; false when there is no mark to compare
// with.
func markTime(mark string) (time.Time, bool) {
	if mark == "" {
		return time.Time{}, false
	}
	info, err := os.Stat(mark)
	if err != nil {
		return time.Time{}, false
	}
	return info.ModTime(), true
}

// watched is File (when set) and Watch: what check 4 of the contract
// compares with the mark.
func watched(f Facts) []string {
	if f.File == "" {
		return slices.Clone(f.Watch)
	}
	return append([]string{f.File}, f.Watch...)
}

// nuAmiss reports whether nushell would not look at p as written: a
// component of three dots or more, which its path commands read as that
// many levels up, or an escape or other control character but tab and
// newline, which its `ls` and `cd` drop as if part of a colour code.
func nuAmiss(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if len(part) >= 3 && strings.Trim(part, ".") == "" {
			return true
		}
	}
	return strings.ContainsFunc(p, func(r rune) bool {
		return r != '\t' && r != '\n' && unicode.IsControl(r)
	})
}

// maxPrint bounds the size of a file the nushell and elvish hooks compare
// by content.
const maxPrint = 64 << 10

// fingerprint is a watched path as the nushell and elvish hooks see it
// with builtins (nushell's `ls`, the one that gives an mtime, starts a
// thread per path; elvish 0.19 has no such builtin): a regular file (its
// symlinks followed: real is its own path) by its bytes, a directory by
// the sorted paths of its entries (a glob; only when names is set),
// anything else as "other" (elvish: "none"), nothing there as "none".
type fingerprint struct {
	path, real, kind string
	value            []string
}

// prints are the fingerprints of what f watches, read after the mark:
// false when a path cannot be read, a file is larger than maxPrint, or
// something changed after the mark (mtime), when what is read now is
// perhaps not what the call read.
func prints(f Facts, mark time.Time, names bool) ([]fingerprint, bool) {
	var out []fingerprint
	for _, p := range watched(f) {
		info, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ELOOP):
			out = append(out, fingerprint{path: p, kind: "none"})
			continue
		case err != nil:
			return nil, false
		case info.Mode().IsRegular():
			if info.Size() > maxPrint {
				return nil, false
			}
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				return nil, false
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, false
			}
			out = append(out, fingerprint{path: p, real: real, kind: "file", value: []string{string(data)}})
		case info.IsDir():
			fp := fingerprint{path: p, kind: "dir"}
			if names {
				entries, err := os.ReadDir(p)
				if err != nil || len(entries) > 4096 {
					return nil, false
				}
				for _, e := range entries {
					fp.value = append(fp.value, p+"/"+e.Name())
				}
				sort.Strings(fp.value)
			}
			out = append(out, fp)
		default:
			// elvish tells it from nothing there (none); nushell does not.
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				return nil, false
			}
			out = append(out, fingerprint{path: p, real: real, kind: "other"})
		}
		// Read after the mark: unchanged since, or the hook asks again.
		if after, err := os.Stat(p); err != nil || after.ModTime().After(mark) {
			return nil, false
		}
	}
	return out, true
}
