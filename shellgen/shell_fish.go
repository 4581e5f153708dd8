package shellgen

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/awsrole/awsrole/internal/transition"
)

// fish renders `set -gx NAME VALUE;` and `set -e -g NAME;` lines.
//
// Unsetting touches only the global scope: a plain `set -e` would erase a
// universal variable of the same name, which persists across every fish
// session on the machine. The flip side: a universal variable (`set -Ux`)
// stays visible after awsrole unsets its global shadow.
//
// fish treats variables whose names end in PATH as colon-separated lists;
// such a value still round-trips through the environment and "$NAME".
//
// Its hook (hooks/awsrole.fish) runs on fish_prompt and on PWD changes,
// loaded from $XDG_CONFIG_HOME/fish/conf.d/awsrole.fish.
type fish struct{}

// Name implements Shell.
func (fish) Name() string { return "fish" }

// Uses implements Shell.
func (fish) Uses() Use { return UseHook | UseExport | UseInstall | UsePrompt }

// Install implements Shell: `BIN hook fish | source` in a conf.d file of
// awsrole's own.
func (f fish) Install(bin string, env func(string) string) (Install, error) {
	q, err := f.Quote(bin)
	if err != nil {
		return Install{}, fmt.Errorf("rc line: binary path: %w", err)
	}
	file, err := configFile(env, "fish", "conf.d", "awsrole.fish")
	return Install{File: file, Block: q + " hook fish | source", Owned: true}, err
}

// Steady implements Shell. fish has no clock builtin. On Linux the hook
// reads the boot clock from /proc/uptime (a redirection, no process and no
// pipe), and the renewal deadline is rendered on that clock; elsewhere fish
// ≥ 3.6 has `path mtime --relative`: the hook reads the mark's age and the
// deadline is a time to live from the mark, rendered from the mark's mtime
// in whole seconds (the one read `path mtime` will see). The watched files
// are compared with the mark by `test -nt`, as in bash. Without a readable
// mark nothing is rendered and the hook asks again at the next prompt.
func (fish) Steady(f Facts) (string, error) {
	leave, err := leaveCode(f.Leave, fishQuote, fishRestore, "set -e -g "+transition.StateVar+";\n")
	if err != nil {
		return "", err
	}
	info, err := os.Stat(f.Mark)
	if f.Mark == "" || err != nil {
		return "", nil
	}
	ttl := f.Deadline - info.ModTime().Unix()
	if f.Deadline >= fishNever {
		ttl = fishNever
	}
	var b strings.Builder
	for _, v := range []struct{ name, value string }{
		{"__awsrole_file", f.File}, {"__awsrole_state", f.State}, {"__awsrole_mark", f.Mark}, {"__awsrole_leave", leave},
	} {
		q, err := fishQuote(v.value)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "set -gu %s %s;\n", v.name, q)
	}
	words, err := watchTest(f)
	if err != nil {
		return "", err
	}
	// 0: no boot clock here (the hook reads the mark's age instead).
	boot, _ := bootDeadline(f.Deadline, time.Now())
	fmt.Fprintf(&b, "set -gu __awsrole_ttl %d;\nset -gu __awsrole_boot %d;\nset -gu __awsrole_server%s;\nset -gu __awsrole_watch", ttl, boot, joinWords(procWords(f.Server)))
	for _, w := range words {
		q, err := fishQuote(w)
		if err != nil {
			return "", err
		}
		b.WriteString(" " + q)
	}
	b.WriteString(";\n")
	return b.String(), nil
}

// fishNever is a time to live that does not end (the hook's own constant).
const fishNever = int64(1) << 62

// uptimeFile is the boot clock the fish hook reads on Linux.
const uptimeFile = "/proc/uptime"

// bootHorizon bounds how far ahead a deadline goes on the boot clock, in
// seconds: that clock does not follow the wall clock when it is stepped (a
// VM or WSL resumed, an NTP step), so the hook asks again at least this
// often while a role is active.
const bootHorizon = 5 * 60

// bootDeadline is deadline (unix seconds) on the clock of uptimeFile,
// whole seconds as the hook reads them, a second early so that rounding
// never makes it late, and at most bootHorizon ahead; false where there is
// no such file.
func bootDeadline(deadline int64, now time.Time) (int64, bool) {
	data, err := os.ReadFile(uptimeFile)
	if err != nil {
		return 0, false
	}
	whole, _, _ := strings.Cut(string(data), ".")
	up, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || up < 0 {
		return 0, false
	}
	if deadline >= fishNever {
		return fishNever, true
	}
	return up + min(deadline-now.Unix(), bootHorizon) - 1, true
}

// fishRestore is restoreCode for fish: "x$NAME" is one word even for a
// value that starts with "-" or is "=", which test would read otherwise.
func fishRestore(name string, set, original *string) string {
	cond := "not set -q " + name
	if set != nil {
		cond = fmt.Sprintf("set -q %s; and test \"x$%s\" = x%s", name, name, *set)
	}
	action := "set -e -g " + name
	if original != nil {
		action = fmt.Sprintf("set -gx %s %s", name, *original)
	}
	return fmt.Sprintf("if %s; %s; end;\n", cond, action)
}

// Export implements Shell.
func (fish) Export(changes []Change) (string, error) {
	return statements(changes, fishQuote,
		func(name, q string) string { return "set -gx " + name + " " + q + ";\n" },
		// Erasing a variable that is not set prints nothing (status 4).
		func(name string) string { return "set -e -g " + name + ";\n" })
}

// Quote implements Shell.
func (fish) Quote(s string) (string, error) { return fishQuote(s) }

// fishQuote puts runs of printable ASCII in single quotes (where only \ and '
// are special) and writes every other byte as an unquoted \xNN escape joined
// to them, so the output is one ASCII line. fish 3.6 turns \xNN sequences
// back into the same bytes, valid UTF-8 or not, and exports them unchanged.
func fishQuote(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", errNUL
	}
	if s == "" {
		return "''", nil
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			if quoted {
				b.WriteByte('\'')
				quoted = false
			}
			writeHexEscape(&b, c)
			continue
		}
		if !quoted {
			b.WriteByte('\'')
			quoted = true
		}
		if c == '\\' || c == '\'' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	if quoted {
		b.WriteByte('\'')
	}
	return b.String(), nil
}
