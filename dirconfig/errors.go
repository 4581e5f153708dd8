package dirconfig

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/awsrole/awsrole/internal/suggest"
	"github.com/awsrole/awsrole/internal/termsafe"
)

// Error is a problem with one config file, printed as a single line:
// "PATH[:LINE]: [KEY: ]MESSAGE".
type Error struct {
	Path string // file the problem is in
	Line int    // 1-based line, 0 when unknown or not about one line
	Key  string // top-level TOML key, "" when not about one key
	Msg  string // what is wrong and what to do about it
	Err  error  // underlying cause (e.g. a *fs.PathError's errno), may be nil
}

// Error renders the problem on one line, whatever bytes the path, key or
// message hold, so that it can be printed after "awsrole: " safely.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(displayPath(e.Path))
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(displayKey(e.Key))
		b.WriteString(": ")
	}
	b.WriteString(oneLine(truncate(e.Msg, maxMessage)))
	return b.String()
}

// maxMessage bounds a message: whatever it quotes of the input, a line
// stays readable (a 1 MB value does not become a 1 MB line).
const maxMessage = 300

// truncate cuts s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// Unwrap gives the underlying cause, so errors.Is(err, fs.ErrNotExist) works.
func (e *Error) Unwrap() error { return e.Err }

// maxQuoted bounds how much of a user's value an error message repeats.
const maxQuoted = 64

// quote shows a user-supplied value in a message: quoted, escaped, truncated.
func quote(s string) string {
	if utf8.RuneCountInString(s) > maxQuoted {
		n := 0
		for i := range s {
			if n == maxQuoted {
				s = s[:i] + "…"
				break
			}
			n++
		}
	}
	return strconv.Quote(s)
}

// displayPath shows a path as is, unless it holds bytes that would break the
// one-line rule or confuse a terminal; then it is quoted like a Go string.
func displayPath(p string) string {
	if needsQuoting(p) {
		return quote(p)
	}
	return p
}

// displayKey shows a bare TOML key as is and anything else quoted.
func displayKey(k string) string {
	if k == "" {
		return `""`
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return quote(k)
		}
	}
	if len(k) > maxQuoted {
		return quote(k)
	}
	return k
}

func needsQuoting(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			return true
		}
	}
	return false
}

// oneLine escapes control characters (newlines above all), bidi controls
// and invalid UTF-8 in a message, as termsafe.String does.
func oneLine(s string) string {
	if !needsQuoting(s) {
		return termsafe.String(s)
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case !unicode.IsPrint(r) && r != ' ':
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// describeRune names a character for "character not allowed" messages.
func describeRune(r rune) string {
	switch r {
	case ' ':
		return "a space"
	case '\t':
		return "a tab"
	case '\n':
		return "a newline"
	case '\r':
		return "a carriage return"
	case 0:
		return "a NUL character"
	}
	if r < 0x20 || r == 0x7f {
		return fmt.Sprintf("control character U+%04X", r)
	}
	return strconv.QuoteRune(r)
}

// suggestKey returns the known key closest to key (ignoring case and -/_
// differences) if it is at most two edits away, else "".
func suggestKey(key string, known []string) string {
	n := normalizeKey(key)
	best, bestD := "", 3
	for _, k := range known {
		if d := abs(len(n) - len(k)); d >= bestD {
			continue
		}
		if d := suggest.Distance(n, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// normalizeKey folds case and the separators people mix up (- . space) to
// the lowercase snake_case of the known keys.
func normalizeKey(k string) string {
	return keySeparators.Replace(strings.ToLower(k))
}

var keySeparators = strings.NewReplacer("-", "_", " ", "_", ".", "_")

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
