package shellgen

import (
	"fmt"
	"strings"
	"time"

	"github.com/awsrole/awsrole/internal/transition"
)

// elvish renders `set-env NAME VALUE` and `unset-env NAME` lines; its hook
// (hooks/awsrole.elvish) runs from edit:before-readline and after-chdir,
// loaded from $XDG_CONFIG_HOME/elvish/rc.elv.
type elvish struct{}

// Steady implements Shell: the leave code, which the hook runs when it
// leaves every project or a call fails outside AWSROLE_DIR, and the facts
// its fast path checks (hooks/CONTRACT.md) as one map, __awsrole_steady.
// elvish 0.19 (Debian's) has no stat builtin that gives an mtime and no
// clock: the deadline is on the boot clock of /proc/uptime, as in fish,
// and each watched path is compared by what it holds (prints). Where
// that cannot be had (no boot clock, no mark, a server with no start time
// to check: elvish has no kill builtin), there are no facts and the hook
// asks at every prompt. The answer is evaluated in a namespace of its own;
// the hook takes both variables from it.
func (elvish) Steady(f Facts) (string, error) {
	leave, err := leaveCode(f.Leave, elvishQuote, elvishRestore, "unset-env "+transition.StateVar+"\n")
	if err != nil {
		return "", err
	}
	q, err := elvishQuote(leave)
	if err != nil {
		return "", err
	}
	out := "var __awsrole_leave = " + q + "\n"
	mark, ok := markTime(f.Mark)
	if !ok || (f.Server.PID > 0 && f.Server.Start == "") {
		return out, nil
	}
	boot, ok := bootDeadline(f.Deadline, time.Now())
	if !ok {
		return out, nil
	}
	fps, ok := prints(f, mark, true)
	if !ok {
		return out, nil
	}
	// quoted is ws quoted for elvish, space-separated.
	quoted := func(ws ...string) (string, error) {
		qs := make([]string, len(ws))
		for i, w := range ws {
			if qs[i], err = elvishQuote(w); err != nil {
				return "", err
			}
		}
		return strings.Join(qs, " "), nil
	}
	// watch: [path kind] each, which the hook's readers take; files: the
	// regular files among them, whose kind the hook checks before it reads
	// them (never a FIFO); prints: what the readers give, one flat list: a
	// file its bytes, a directory $true (path:is-dir) and its entries,
	// anything else $false $false (path:is-regular, path:is-dir: elvish's
	// builtins tell it from nothing there no more than the walk does). The
	// hook compares whole lists (one output capture each: in elvish 0.19 a
	// capture costs more than the stats it holds), so the facts give them
	// ready to compare.
	var watch, files, flat []string
	for _, p := range fps {
		var print string
		switch p.kind {
		case "file", "dir":
			if print, err = quoted(p.value...); err != nil {
				return "", err
			}
		default:
			p.kind = "none"
		}
		path, err := quoted(p.path)
		if err != nil {
			return "", err
		}
		watch = append(watch, "["+path+" "+p.kind+"]")
		switch p.kind {
		case "file":
			files = append(files, path)
			flat = append(flat, print)
		case "dir":
			flat = append(flat, strings.TrimSpace("$true "+print))
		default:
			flat = append(flat, "$false $false")
		}
	}
	// The server, when there is one to check, as a list of one: the hook
	// loops over it, which costs no capture.
	server := "[]"
	if f.Server.PID > 0 {
		if server, err = quoted(procWords(f.Server)...); err != nil {
			return "", err
		}
		server = "[[" + server + "]]"
	}
	var fields []string
	for _, kv := range [][2]string{{"file", f.File}, {"state", f.State}, {"mark", f.Mark}} {
		q, err := elvishQuote(kv[1])
		if err != nil {
			return "", err
		}
		fields = append(fields, "&"+kv[0]+"="+q)
	}
	// regular: what the mark and each of files give path:is-regular.
	regular := strings.TrimSpace(strings.Repeat(" $true", 1+len(files)))
	return out + fmt.Sprintf("var __awsrole_steady = [%s &boot=%d &server=%s &watch=[%s] &files=[%s] &ok=[%s] &prints=[%s]]\n",
		strings.Join(fields, " "), boot, server, strings.Join(watch, " "), strings.Join(files, " "), regular, strings.Join(flat, " ")), nil
}

// elvishRestore is restoreCode for elvish (and/or stop at the first value
// that decides, so get-env never sees an unset name).
func elvishRestore(name string, set, original *string) string {
	cond := "(not (has-env " + name + "))"
	if set != nil {
		cond = fmt.Sprintf("(and (has-env %s) (eq (get-env %s) %s))", name, name, *set)
	}
	action := "unset-env " + name
	if original != nil {
		action = fmt.Sprintf("set-env %s %s", name, *original)
	}
	return fmt.Sprintf("if %s { %s }\n", cond, action)
}

// Name implements Shell.
func (elvish) Name() string { return "elvish" }

// Uses implements Shell.
func (elvish) Uses() Use { return UseHook | UseExport | UseInstall | UsePrompt }

// Export implements Shell.
func (elvish) Export(changes []Change) (string, error) {
	return statements(changes, elvishQuote,
		func(name, q string) string { return "set-env " + name + " " + q + "\n" },
		func(name string) string { return "unset-env " + name + "\n" })
}

// Quote implements Shell.
func (elvish) Quote(s string) (string, error) { return elvishQuote(s) }

// Install implements Shell: one eval line in rc.elv.
func (e elvish) Install(bin string, env func(string) string) (Install, error) {
	q, err := e.Quote(bin)
	if err != nil {
		return Install{}, fmt.Errorf("rc line: binary path: %w", err)
	}
	file, err := configFile(env, "elvish", "rc.elv")
	return Install{File: file, Block: "eval (" + q + " hook elvish | slurp)"}, err
}

// elvishQuote puts printable ASCII in single quotes (where only ' is
// special, doubled); a string with any other byte becomes one ASCII line in
// double quotes, where elvish reads \xNN as that byte, valid UTF-8 or not.
// Double quotes never interpolate in elvish.
func elvishQuote(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", errNUL
	}
	plain := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			plain = false
			break
		}
	}
	if plain {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			writeHexEscape(&b, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}
