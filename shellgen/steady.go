package shellgen

import (
	"fmt"
	"strings"
)

// Steady renders, for a bash or zsh hook, the shell variables (not
// exported) that let it skip the next calls with builtins only: the nearest
// file, the AWSROLE_STATE it goes with, the mark file, the unix deadline and
// the files whose change means "call again". See the hook scripts.
func Steady(dialect, file, state, mark string, deadline int64, watch []string) (string, error) {
	if dialect != "bash" && dialect != "zsh" {
		return "", fmt.Errorf("steady-state variables are for bash and zsh, not %s", dialect)
	}
	var b strings.Builder
	for _, v := range []struct{ name, value string }{
		{"__awsrole_file", file}, {"__awsrole_state", state}, {"__awsrole_mark", mark},
	} {
		q, err := Quote(dialect, v.value)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s=%s;\n", v.name, q)
	}
	fmt.Fprintf(&b, "__awsrole_deadline=%d;\n__awsrole_watch=(", deadline)
	for i, w := range watch {
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
