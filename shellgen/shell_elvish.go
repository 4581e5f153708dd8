package shellgen

import (
	"fmt"
	"strings"
)

// elvish renders `set-env NAME VALUE` and `unset-env NAME` lines; its hook
// (hooks/awsrole.elvish) runs from edit:before-readline and after-chdir,
// loaded from $XDG_CONFIG_HOME/elvish/rc.elv.
type elvish struct{ noSteady }

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
