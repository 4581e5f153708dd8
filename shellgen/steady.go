package shellgen

import (
	"fmt"
	"slices"
	"strings"

	"github.com/awsrole/awsrole/internal/transition"
)

// Facts are what a bash or zsh hook checks, with builtins only, to skip
// starting a process: while the nearest .awsrole.toml is still File,
// neither it nor any of Watch is newer than Mark, AWSROLE_STATE is still
// State and the clock is before Deadline (unix seconds), another call would
// change nothing. When the shell leaves every project while Leave is set, it
// runs Leave's restores itself.
type Facts struct {
	File, State, Mark string
	Deadline          int64
	Watch             []string
	Leave             []Restore
}

// Restore puts Name back to Original (nil: unset) if it still holds Set
// (nil: unset), the value awsrole gave it.
type Restore struct {
	Name          string
	Set, Original *string
}

// Steady renders f as shell variables (not exported) for the hook.
func Steady(dialect string, f Facts) (string, error) {
	if dialect != "bash" && dialect != "zsh" {
		return "", fmt.Errorf("steady-state variables are for bash and zsh, not %s", dialect)
	}
	leave, err := leaveCode(dialect, f.Leave)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, v := range []struct{ name, value string }{
		{"__awsrole_file", f.File}, {"__awsrole_state", f.State}, {"__awsrole_mark", f.Mark}, {"__awsrole_leave", leave},
	} {
		q, err := Quote(dialect, v.value)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s=%s;\n", v.name, q)
	}
	fmt.Fprintf(&b, "__awsrole_deadline=%d;\n__awsrole_watch=(", f.Deadline)
	for i, w := range f.Watch {
		q, err := Quote(dialect, w)
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

// leaveCode is the code that leaves a role without a process: each variable
// goes back to its original only if it still holds the value awsrole set,
// so a value changed by hand is left alone; "" when no role is active.
// Only the variables awsrole manages are ever restored: a name such as
// BASH_ENV or LD_PRELOAD (from a snapshot someone else wrote) is refused.
func leaveCode(dialect string, restores []Restore) (string, error) {
	if len(restores) == 0 {
		return "", nil
	}
	managed := transition.Managed()
	var b strings.Builder
	for _, r := range restores {
		if !slices.Contains(managed, r.Name) {
			return "", fmt.Errorf("%q is not a variable awsrole restores", r.Name)
		}
		cond := fmt.Sprintf("[[ -z ${%s+x} ]]", r.Name)
		if r.Set != nil {
			q, err := Quote(dialect, *r.Set)
			if err != nil {
				return "", err
			}
			cond = fmt.Sprintf("[[ ${%s+x} == x && ${%s} == %s ]]", r.Name, r.Name, q)
		}
		action := "\\builtin unset -v " + r.Name
		if r.Original != nil {
			q, err := Quote(dialect, *r.Original)
			if err != nil {
				return "", err
			}
			action = fmt.Sprintf("\\builtin export %s=%s", r.Name, q)
		}
		fmt.Fprintf(&b, "if %s; then %s; fi\n", cond, action)
	}
	b.WriteString("\\builtin unset -v " + transition.StateVar + "\n")
	return b.String(), nil
}
