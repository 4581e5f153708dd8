package shellgen

import "strings"

// bash renders `export NAME=VALUE;` and `unset -v NAME;` lines; its hook
// (hooks/awsrole.bash) runs from PROMPT_COMMAND, loaded from ~/.bashrc.
type bash struct{}

// Name implements Shell.
func (bash) Name() string { return "bash" }

// Uses implements Shell.
func (bash) Uses() Use { return UseHook | UseExport | UseInstall | UsePrompt }

// Export implements Shell.
func (bash) Export(changes []Change) (string, error) { return posixExport(changes) }

// Quote implements Shell.
func (bash) Quote(s string) (string, error) { return posixQuote(s) }

// Steady implements Shell.
func (bash) Steady(f Facts) (string, error) { return posixSteady(f, watchTest) }

// Install implements Shell: one eval line in ~/.bashrc.
func (b bash) Install(bin string, env func(string) string) (Install, error) {
	line, err := evalLine(b, bin)
	if err != nil {
		return Install{}, err
	}
	file, err := homeFile(env, ".bashrc")
	return Install{File: file, Block: line}, err
}

// posixExport is shared by bash and zsh, which read the same syntax here.
// `unset -v` because a plain `unset` of a name with no variable removes a
// function of that name in bash.
func posixExport(changes []Change) (string, error) {
	return statements(changes, posixQuote,
		func(name, q string) string { return "export " + name + "=" + q + ";\n" },
		func(name string) string { return "unset -v " + name + ";\n" })
}

// statements renders changes sorted by name, one statement a line: set for
// a value (quoted with quote), unset for nil.
func statements(changes []Change, quote func(string) (string, error), set func(name, q string) string, unset func(name string) string) (string, error) {
	sorted, err := sortedChanges(changes)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, c := range sorted {
		if c.Value == nil {
			b.WriteString(unset(c.Name))
			continue
		}
		q, err := quote(*c.Value)
		if err != nil {
			return "", err
		}
		b.WriteString(set(c.Name, q))
	}
	return b.String(), nil
}

// posixQuote quotes s for bash and zsh. Safe strings go in single quotes
// (never bare: zsh expands `=cmd` after `=` and `:` in assignments). Anything
// else becomes one ASCII line in $'…', so the output means the same in every
// locale and nothing in it is a newline:
//   - bytes outside printable ASCII become \xNN (\t, \n, \r by name),
//   - \ and ' are escaped as \\ and \',
//   - ! becomes \x21 so no interactive shell's history expansion can see it,
//     not even bash versions whose history scanner misreads \' in $'…'.
func posixQuote(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", errNUL
	}
	if s == "" {
		return "''", nil
	}
	if safe(s) {
		return "'" + s + "'", nil
	}
	var b strings.Builder
	b.Grow(len(s) + 3)
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\'':
			b.WriteString(`\'`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '!' || c < 0x20 || c >= 0x7f:
			writeHexEscape(&b, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String(), nil
}

// writeHexEscape writes \xNN: exactly two digits, which bash, zsh and fish
// all stop at, so a following hex digit is never swallowed.
func writeHexEscape(b *strings.Builder, c byte) {
	const digits = "0123456789abcdef"
	b.WriteString(`\x`)
	b.WriteByte(digits[c>>4])
	b.WriteByte(digits[c&0xf])
}
