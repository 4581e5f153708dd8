package shellgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// jsonDialect renders one object {"NAME":"value","OTHER":null}, keys sorted,
// null meaning unset. JSON strings hold Unicode text only, so a value that is
// not valid UTF-8 is an error rather than silently replaced by U+FFFD.
type jsonDialect struct{ noSteady }

// Name implements Shell.
func (jsonDialect) Name() string { return "json" }

// Uses implements Shell: json is for `awsrole export` only (the nushell
// hook reads it).
func (jsonDialect) Uses() Use { return UseExport }

// Install implements Shell: json has no hook.
func (jsonDialect) Install(string, func(string) string) (Install, error) {
	return Install{}, errors.New("json has no hook to install")
}

// Export implements Shell.
func (jsonDialect) Export(changes []Change) (string, error) {
	sorted, err := sortedChanges(changes)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, c := range sorted {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + c.Name + `":`)
		if c.Value == nil {
			b.WriteString("null")
			continue
		}
		q, err := jsonQuote(*c.Value)
		if err != nil {
			return "", fmt.Errorf("value of %s: %w", c.Name, err)
		}
		b.WriteString(q)
	}
	b.WriteString("}\n")
	return b.String(), nil
}

// Quote implements Shell.
func (jsonDialect) Quote(s string) (string, error) { return jsonQuote(s) }

func jsonQuote(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", errNUL
	}
	if !utf8.ValidString(s) {
		return "", errors.New("string is not valid UTF-8, which JSON cannot carry")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}
