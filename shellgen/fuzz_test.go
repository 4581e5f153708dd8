package shellgen_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/shellgen"
)

// Setting AWSROLE_FUZZ_REAL_SHELL=1 makes the fuzz targets also run every
// input through the real shell (slow, but the strongest oracle).
const realShellEnv = "AWSROLE_FUZZ_REAL_SHELL"

// corpusDirs hold fuzz inputs in the `go test fuzz v1` format: the curated
// corpus shared by all dialects, and what the fuzzer saved for each target.
var corpusDirs = []string{
	"../testdata/shellgen/fuzz",
	"testdata/fuzz",
}

// corpusValues returns the seeds and every stored corpus value.
func corpusValues(t testing.TB) []string {
	t.Helper()
	values := hostileValues()
	for _, root := range corpusDirs {
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			v, err := readCorpusFile(path)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			values = append(values, v)
			return nil
		})
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	return values
}

// readCorpusFile reads a one-value corpus file: a header line, then one
// string("…") or []byte("…") line holding a Go string literal.
func readCorpusFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	if !sc.Scan() || sc.Text() != "go test fuzz v1" {
		return "", errors.New("missing header \"go test fuzz v1\"")
	}
	if !sc.Scan() {
		return "", errors.New("missing value line")
	}
	line := strings.TrimSpace(sc.Text())
	for _, prefix := range []string{"string(", "[]byte("} {
		if lit, ok := strings.CutPrefix(line, prefix); ok {
			return strconv.Unquote(strings.TrimSuffix(lit, ")"))
		}
	}
	return "", fmt.Errorf("value line %q is not string(…) or []byte(…)", line)
}

func fuzzQuote(f *testing.F, dialect string, decode func(string) (string, error)) {
	for _, v := range corpusValues(f) {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, s string) { checkQuote(t, dialect, decode, s) })
}

// checkQuote: s quoted for dialect is printable ASCII (but for json) and
// decodes to s again; a NUL byte is refused, and so is invalid UTF-8 for
// the dialects that cannot hold it. With the real-shell variable set, the
// shells read it back too.
func checkQuote(t *testing.T, dialect string, decode func(string) (string, error), s string) {
	q, err := shellgen.Quote(dialect, s)
	if strings.Contains(s, "\x00") {
		if err == nil {
			t.Fatalf("Quote(%q) = %s, want an error for the NUL byte", s, q)
		}
		return
	}
	if (dialect == "json" || dialect == "nu") && err != nil && !isUTF8(s) {
		return
	}
	if err != nil {
		t.Fatalf("Quote(%q): %v", s, err)
	}
	if i := strings.IndexFunc(q, func(r rune) bool { return r < 0x20 || r >= 0x7f }); dialect != "json" && i >= 0 {
		t.Fatalf("Quote(%q) = %q: byte %#x is not printable ASCII", s, q, q[i])
	}
	got, err := decode(q)
	if err != nil {
		t.Fatalf("Quote(%q) = %s: %v", s, q, err)
	}
	if got != s {
		t.Fatalf("Quote(%q) = %s, which decodes to %q", s, q, got)
	}
	realShellRoundTrip(t, dialect, s)
}

// realShellRoundTrip has the dialect's shells read s back, when the
// real-shell variable asks for it.
func realShellRoundTrip(t *testing.T, dialect, s string) {
	if os.Getenv(realShellEnv) == "" || dialect == "json" {
		return
	}
	for _, r := range shellRunners() {
		if r.dialect == dialect && !r.stdin {
			roundTrip(t, r, []string{s})
		}
	}
}

func isUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func FuzzQuoteBash(f *testing.F) { fuzzQuote(f, "bash", decodePosix) }

func FuzzQuoteZsh(f *testing.F) { fuzzQuote(f, "zsh", decodePosix) }

func FuzzQuoteFish(f *testing.F) { fuzzQuote(f, "fish", decodeFish) }

func FuzzQuoteElvish(f *testing.F) { fuzzQuote(f, "elvish", decodeElvish) }

func FuzzQuoteNu(f *testing.F) { fuzzQuote(f, "nu", decodeNu) }

// decodeElvish is a strict model of the two forms elvishQuote emits:
// '…' with ” for a quote, or "…" with \\, \" and \xNN.
func decodeElvish(q string) (string, error) {
	if len(q) >= 2 && q[0] == '\'' && q[len(q)-1] == '\'' {
		return decodeElvishSingle(q)
	}
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", fmt.Errorf("not quoted: %s", q)
	}
	return decodeElvishDouble(q)
}

// decodeElvishDouble decodes elvish's "…" form, with \\, \" and \xNN.
func decodeElvishDouble(q string) (string, error) {
	var b strings.Builder
	body := q[1 : len(q)-1]
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '"':
			return "", fmt.Errorf("unescaped \" in %s", q)
		case c != '\\':
			b.WriteByte(c)
		case i+1 < len(body) && (body[i+1] == '\\' || body[i+1] == '"'):
			b.WriteByte(body[i+1])
			i++
		case i+3 < len(body) && body[i+1] == 'x':
			h, err := hexByte(body[i+2 : i+4])
			if err != nil {
				return "", err
			}
			b.WriteByte(h)
			i += 3
		default:
			return "", fmt.Errorf("bad escape in %s", q)
		}
	}
	return b.String(), nil
}

// decodeElvishSingle decodes elvish's '…' form, where two quotes stand for one.
func decodeElvishSingle(q string) (string, error) {
	body := q[1 : len(q)-1]
	if strings.Contains(strings.ReplaceAll(body, "''", ""), "'") {
		return "", fmt.Errorf("lone quote in %s", q)
	}
	return strings.ReplaceAll(body, "''", "'"), nil
}

// decodeNu is a strict model of nuQuote: "…" with \\, \" and \u{X…}.
func decodeNu(q string) (string, error) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", fmt.Errorf("not quoted: %s", q)
	}
	var b strings.Builder
	body := q[1 : len(q)-1]
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '"':
			return "", fmt.Errorf("unescaped \" in %s", q)
		case c != '\\':
			b.WriteByte(c)
		case i+1 < len(body) && (body[i+1] == '\\' || body[i+1] == '"'):
			b.WriteByte(body[i+1])
			i++
		case strings.HasPrefix(body[i:], `\u{`):
			end := strings.IndexByte(body[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated \\u{ in %s", q)
			}
			n, err := strconv.ParseUint(body[i+3:i+end], 16, 32)
			if err != nil {
				return "", err
			}
			b.WriteRune(rune(n))
			i += end
		default:
			return "", fmt.Errorf("bad escape in %s", q)
		}
	}
	return b.String(), nil
}

func FuzzQuoteJSON(f *testing.F) {
	fuzzQuote(f, "json", func(q string) (string, error) {
		var s string
		err := json.Unmarshal([]byte(q), &s)
		return s, err
	})
}

// decodePosix is a strict model of what bash and zsh make of the two forms
// posixQuote emits; the round-trip tests check the model against the shells.
func decodePosix(q string) (string, error) {
	if inner, ok := strings.CutPrefix(q, "'"); ok {
		inner, ok = strings.CutSuffix(inner, "'")
		if !ok || strings.ContainsAny(inner, `'\`) {
			return "", errors.New("malformed single-quoted word")
		}
		return inner, nil
	}
	inner, ok := strings.CutPrefix(q, "$'")
	if !ok {
		return "", errors.New("neither '…' nor $'…'")
	}
	inner, ok = strings.CutSuffix(inner, "'")
	if !ok {
		return "", errors.New("$'…' not closed at the end")
	}
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		switch c {
		case '\'', '!':
			return "", fmt.Errorf("unescaped %q inside $'…'", c)
		case '\\':
		default:
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(inner) {
			return "", errors.New("trailing backslash")
		}
		c, n, err := posixEscape(inner[i+1:])
		if err != nil {
			return "", err
		}
		b.WriteByte(c)
		i += n
	}
	return b.String(), nil
}

// posixEscape decodes the escape after a backslash in $'…' (esc starts
// just after it): the byte, and how many bytes of esc it took.
func posixEscape(esc string) (byte, int, error) {
	switch esc[0] {
	case '\\', '\'':
		return esc[0], 1, nil
	case 't':
		return '\t', 1, nil
	case 'n':
		return '\n', 1, nil
	case 'r':
		return '\r', 1, nil
	case 'x':
		v, err := hexByte(esc[1:])
		return v, 3, err
	}
	return 0, 0, fmt.Errorf("unexpected escape \\%c", esc[0])
}

// decodeFish models fish's reading of single-quoted runs joined to unquoted
// \xNN escapes.
func decodeFish(q string) (string, error) {
	if q == "''" {
		return "", nil
	}
	var b strings.Builder
	for i := 0; i < len(q); {
		switch {
		case q[i] == '\'':
			i++
			for {
				if i >= len(q) {
					return "", errors.New("unclosed single quote")
				}
				c := q[i]
				if c == '\'' {
					i++
					break
				}
				if c == '\\' {
					if i+1 >= len(q) || (q[i+1] != '\\' && q[i+1] != '\'') {
						return "", errors.New("backslash in quotes must escape \\ or '")
					}
					i++
					c = q[i]
				}
				b.WriteByte(c)
				i++
			}
		case strings.HasPrefix(q[i:], `\x`):
			v, err := hexByte(q[i+2:])
			if err != nil {
				return "", err
			}
			b.WriteByte(v)
			i += 4
		default:
			return "", fmt.Errorf("unexpected %q outside quotes", q[i])
		}
	}
	return b.String(), nil
}

func hexByte(s string) (byte, error) {
	if len(s) < 2 {
		return 0, errors.New("short \\x escape")
	}
	v, err := strconv.ParseUint(s[:2], 16, 8)
	if err != nil {
		return 0, fmt.Errorf("bad \\x escape: %w", err)
	}
	return byte(v), nil
}
