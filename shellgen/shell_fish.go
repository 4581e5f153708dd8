package shellgen

import "strings"

// fish renders `set -gx NAME VALUE;` and `set -e -g NAME;` lines.
//
// Unsetting touches only the global scope: a plain `set -e` would erase a
// universal variable of the same name, which persists across every fish
// session on the machine. The flip side: a universal variable (`set -Ux`)
// stays visible after awsrole unsets its global shadow.
//
// fish treats variables whose names end in PATH as colon-separated lists;
// such a value still round-trips through the environment and "$NAME".
type fish struct{}

// Name implements Dialect.
func (fish) Name() string { return "fish" }

// Export implements Dialect.
func (fish) Export(changes []Change) (string, error) {
	return statements(changes, fishQuote,
		func(name, q string) string { return "set -gx " + name + " " + q + ";\n" },
		// Erasing a variable that is not set prints nothing (status 4).
		func(name string) string { return "set -e -g " + name + ";\n" })
}

func (fish) quote(s string) (string, error) { return fishQuote(s) }

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
