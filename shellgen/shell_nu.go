package shellgen

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// nu is nushell. Its hook (hooks/awsrole.nu) reads `awsrole export nu`
// from an env_change.PWD and a pre_prompt hook, loads the values with
// load-env and hides the variables the answer sets to null; so what nu
// evaluates is JSON, and Export renders that. nushell cannot eval code it
// did not parse with its config, so `awsrole install nu` writes the hook
// itself into an autoload file of awsrole's own.
type nu struct{}

// Name implements Shell.
func (nu) Name() string { return "nu" }

// Uses implements Shell: the hook calls `awsrole export nu`.
func (nu) Uses() Use { return UseHook | UseExport | UseInstall | UsePrompt }

// Export implements Shell: the JSON the hook loads.
func (nu) Export(changes []Change) (string, error) { return jsonDialect{}.Export(changes) }

// Answer is what the nushell hook reads from `awsrole export nu`: one JSON
// object on one line, {"env": the changes as json renders them, "leave":
// the restores of f, "end": true}. "leave" is there only with facts (the
// hook then replaces the list it keeps); the hook runs it when a call fails
// outside AWSROLE_DIR. An answer cut short does not parse or has no "end".
func (nu) Answer(changes []Change, f *Facts) (string, error) {
	env, err := jsonDialect{}.Export(changes)
	if err != nil {
		return "", err
	}
	out := `{"env":` + strings.TrimSuffix(env, "\n")
	if f != nil {
		restores, err := leaveCode(f.Leave, jsonQuote, jsonRestore, "")
		if err != nil {
			return "", err
		}
		out += `,"leave":[` + strings.TrimSuffix(restores, ",") + `]`
		steady, err := nu{}.Steady(*f)
		if err != nil {
			return "", err
		}
		if steady != "" {
			out += `,"steady":` + steady
		}
	}
	return out + `,"end":true}` + "\n", nil
}

// Steady implements Shell: the facts as one JSON object for the hook's
// __awsrole_steady (hooks/CONTRACT.md), "" when the hook is to ask at
// every prompt: no mark, a server with no start time to check (nushell's
// kill starts a process), or a path nushell cannot carry or check as
// written (nuAmiss). nushell's `ls`, its one builtin that gives an mtime,
// starts a thread per path; so a watched file is compared by the SHA-256
// of what it holds ("prints": [path, "file", digest], the path with its
// symlinks resolved now; [path, "other", ""]: there, neither a file nor a
// directory; or [path, "none", ""]: not there yet), read after
// the mark (prints); only directories go to "stat", none newer than the
// mark (`ls -D`), whose mtime is "mark_ns" (nanoseconds since the epoch,
// as nushell's into int reads a date). "deadline" is in unix seconds
// (date now).
func (nu) Steady(f Facts) (string, error) {
	// The leave list goes in the answer beside it (Answer); refused here too.
	if _, err := leaveCode(f.Leave, jsonQuote, jsonRestore, ""); err != nil {
		return "", err
	}
	mark, ok := markTime(f.Mark)
	if !ok || (f.Server.PID > 0 && f.Server.Start == "") || nuAmiss(f.Mark) {
		return "", nil
	}
	fps, ok := prints(f, mark, false)
	if !ok {
		return "", nil
	}
	stat, printed := []string{}, [][3]string{}
	for _, p := range fps {
		switch p.kind {
		case "file":
			sum := sha256.Sum256([]byte(p.value[0]))
			printed = append(printed, [3]string{p.real, "file", hex.EncodeToString(sum[:])})
		case "dir":
			stat = append(stat, p.path)
		case "other":
			printed = append(printed, [3]string{p.real, "other", ""})
		default:
			printed = append(printed, [3]string{p.path, "none", ""})
		}
	}
	for _, p := range append(watched(f), f.Mark) {
		if !filepath.IsAbs(p) || nuAmiss(p) || !utf8.ValidString(p) {
			return "", nil
		}
	}
	for _, p := range printed {
		if nuAmiss(p[0]) || !utf8.ValidString(p[0]) {
			return "", nil
		}
	}
	server := []string{}
	if f.Server.PID > 0 {
		server = []string{strconv.Itoa(f.Server.PID), f.Server.Start}
	}
	if !utf8.ValidString(f.State) || !utf8.ValidString(f.File) {
		return "", nil
	}
	data, err := json.Marshal(struct {
		File     string      `json:"file"`
		State    string      `json:"state"`
		Mark     string      `json:"mark"`
		Deadline int64       `json:"deadline"`
		MarkNS   int64       `json:"mark_ns"`
		Prints   [][3]string `json:"prints"`
		Stat     []string    `json:"stat"`
		Server   []string    `json:"server"`
	}{f.File, f.State, f.Mark, f.Deadline, mark.UnixNano(), printed, stat, server})
	if err != nil {
		return "", err
	}
	return string(data), nil
}

// jsonRestore is restoreCode for the nushell hook: one object, and a comma.
func jsonRestore(name string, set, original *string) string {
	null := func(v *string) string {
		if v == nil {
			return "null"
		}
		return *v
	}
	return `{"name":"` + name + `","set":` + null(set) + `,"original":` + null(original) + `},`
}

// Quote implements Shell: a double-quoted nushell string (no interpolation
// without a leading $), with \" \\ escaped and every other character outside
// printable ASCII as \u{…}, so the output is one ASCII line. nushell strings
// are UTF-8, so a string that is not is an error.
func (nu) Quote(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", errNUL
	}
	if !utf8.ValidString(s) {
		return "", errors.New("string is not valid UTF-8, which nushell cannot carry")
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r >= 0x7f:
			fmt.Fprintf(&b, `\u{%x}`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

// Install implements Shell: the whole hook, in
// $XDG_CONFIG_HOME/nushell/autoload/awsrole.nu, which nushell (0.101 and
// later) sources after config.nu.
func (n nu) Install(bin string, env func(string) string) (Install, error) {
	code, err := renderHook(n, bin)
	if err != nil {
		return Install{}, err
	}
	file, err := configFile(env, "nushell", "autoload", "awsrole.nu")
	return Install{File: file, Block: strings.TrimRight(code, "\n"), Owned: true}, err
}
