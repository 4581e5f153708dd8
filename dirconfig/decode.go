package dirconfig

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// doc is one decoded TOML file: its top-level keys in file order, with
// enough of the parser's metadata to find each key's line.
type doc struct {
	path  string
	text  string // content without a leading BOM
	md    toml.MetaData
	prims map[string]toml.Primitive
	keys  []string            // top-level keys, in the order they first appear
	first map[string][]string // first full key under each top-level key
}

var utf8BOM = []byte("\uFEFF")

// decode checks that data is UTF-8 TOML text and parses it. Errors are
// *Error values naming path and, where known, the line.
func decode(path string, data []byte) (*doc, error) {
	if len(data) > MaxFileSize {
		return nil, tooBig(path, int64(len(data)), MaxFileSize)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return nil, &Error{Path: path, Line: 1, Msg: "is UTF-16 text; save it as UTF-8"}
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return nil, &Error{Path: path, Line: lineAt(data, i),
			Msg: "contains a NUL byte; this looks like a binary file, not TOML text"}
	}
	if !utf8.Valid(data) {
		i := invalidUTF8At(data)
		return nil, &Error{Path: path, Line: lineAt(data, i),
			Msg: fmt.Sprintf("is not valid UTF-8 (byte 0x%02x); save it as UTF-8 text", data[i])}
	}
	if line, msg := precheck(data); msg != "" {
		return nil, &Error{Path: path, Line: line, Msg: msg}
	}
	d := &doc{path: path, text: string(data), first: map[string][]string{}}
	md, err := toml.Decode(d.text, &d.prims)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{Path: path, Line: pe.Position.Line, Msg: "invalid TOML: " + tomlMessage(pe.Message, pe.LastKey)}
		}
		return nil, &Error{Path: path, Msg: "invalid TOML" + notRepeated}
	}
	d.md = md
	for _, k := range md.Keys() {
		if _, seen := d.first[k[0]]; !seen {
			d.first[k[0]] = k
			d.keys = append(d.keys, k[0])
		}
	}
	return d, nil
}

var dupKey = regexp.MustCompile(`^Key '(.*)' has already been defined\.?$`)

// notRepeated ends a parse error whose wording would have quoted the file.
const notRepeated = " (the text is not repeated here: a file at this path may hold a secret); put strings in quotes, one key = value a line"

// tomlMessage rewords the parser's message about the value of key (""
// when not at one) so that it repeats nothing of the file but a key's
// name: whatever a key looks like, its value may be a secret (a
// .awsrole.toml can be a link to any file the user can read, and CI logs
// are public). What the parser says of the text it choked on is dropped;
// what is left is kept only if it quotes nothing but TOML's punctuation
// and holds no digit, else it becomes a plain "not valid TOML".
func tomlMessage(m, key string) string {
	if s := dupKey.FindStringSubmatch(m); s != nil {
		return "key " + quote(s[1]) + " is set more than once; keep one"
	}
	at := ""
	if key != "" {
		at = " in the value of " + displayKey(key)
	}
	switch {
	case m == `expected value but found '\n' instead`:
		return "nothing after =; give a value, e.g. a string in quotes"
	case strings.HasPrefix(m, "expected value but found") && key != "":
		return "the value of " + displayKey(key) + " is not a TOML value" + notRepeated
	case strings.HasPrefix(m, "expected value but found"):
		return "expected a value" + notRepeated
	case strings.HasPrefix(m, "invalid escape in string"):
		return "invalid escape in a string" + at + " (the text is not repeated here: a file at this path may hold a secret); write \\\\ for a backslash"
	case strings.HasPrefix(m, "TOML files cannot contain control characters"):
		return "TOML files cannot contain control characters; remove them"
	}
	for _, tail := range []string{", but got ", " but got "} {
		if i := strings.Index(m, tail); i >= 0 {
			m = m[:i]
		}
	}
	if quotesText(m) {
		return "not valid TOML" + at + notRepeated
	}
	return strings.TrimSuffix(m, ".")
}

// quotesText reports whether a parser message may repeat the file: it holds
// a digit, or quotes anything but TOML's punctuation.
func quotesText(m string) bool {
	quoted := false
	for _, r := range m {
		switch {
		case r == '\'' || r == '"':
			quoted = !quoted
		case unicode.IsDigit(r), quoted && !strings.ContainsRune(".=[]{},'\"", r):
			return true
		}
	}
	return false
}

func lineAt(data []byte, off int) int { return 1 + bytes.Count(data[:off], []byte("\n")) }

func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return 0
}

// value returns the decoded value of a top-level key: string, int64,
// float64, bool, time.Time, []any, []map[string]any or map[string]any.
func (d *doc) value(key string) any {
	var v any
	if err := d.md.PrimitiveDecode(d.prims[key], &v); err != nil {
		return nil
	}
	return v
}

// errLineProbe is what lineProbe answers the decoder with: the decoder wraps
// it in a toml.ParseError carrying the position of the key being decoded.
var errLineProbe = errors.New("line probe")

type lineProbe struct{}

func (lineProbe) UnmarshalTOML(any) error { return errLineProbe }

// line returns the 1-based line where key is set, 0 if unknown. The parser
// keeps each key's position private but reports it in decode errors, so the
// key is decoded into a value that always fails. The position is where the
// value starts, which is on the key's line.
func (d *doc) line(key string) int {
	full := d.first[key]
	prim, ok := d.prims[key]
	for i := 1; ok && i < len(full); i++ {
		var sub map[string]toml.Primitive
		if d.md.PrimitiveDecode(prim, &sub) != nil {
			return 0
		}
		prim, ok = sub[full[i]]
	}
	if !ok {
		return 0
	}
	var pe toml.ParseError
	if !errors.As(d.md.PrimitiveDecode(prim, lineProbe{}), &pe) || pe.Position.Line == 0 {
		return 0
	}
	if s := pe.Position.Start; s >= 0 && s <= len(d.text) {
		return 1 + strings.Count(d.text[:s], "\n")
	}
	return pe.Position.Line
}

// keyErr is a problem with the value of key.
func (d *doc) keyErr(key string, err error) *Error {
	return &Error{Path: d.path, Line: d.line(key), Key: key, Msg: err.Error()}
}

// tomlType names the TOML type of a decoded value, for "wrong type" errors.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date/time"
	case []map[string]any:
		return "an array of tables"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("a %T", v)
}

// Limits on the shape of a config file, checked before parsing. Real files
// have a handful of flat keys; the TOML parser is super-linear in nesting
// depth, dotted-key length and item count, and a file in a cloned repository
// must not be able to stall the prompt.
const (
	maxDepth = 8   // nested [ and {
	maxDots  = 8   // dots on one line, outside strings and comments
	maxItems = 256 // '=' (keys), ',' (array items) and table headers
)

// The lexer states of precheck.
const (
	inNormal = iota
	inComment
	inBasic     // "..."
	inLiteral   // '...'
	inMLBasic   // """..."""
	inMLLiteral // '''...'''
)

// shapeScan is precheck's lexer: where it is in data and what it has
// counted so far.
type shapeScan struct {
	data                      []byte
	state, depth, dots, items int
	line                      int
}

// precheck scans data like a TOML lexer, skipping strings and comments, and
// reports the first line where the file goes beyond the limits above.
func precheck(data []byte) (line int, msg string) {
	s := shapeScan{data: data, line: 1}
	for i := 0; i < len(data); i++ {
		if data[i] == '\n' {
			s.line++
			s.dots = 0
			if s.state != inMLBasic && s.state != inMLLiteral {
				s.state = inNormal // a comment ends; an unterminated string is the parser's to report
			}
			continue
		}
		switch s.state {
		case inComment:
		case inBasic, inMLBasic:
			i = s.basic(i)
		case inLiteral:
			if data[i] == '\'' {
				s.state = inNormal
			}
		case inMLLiteral:
			if bytes.HasPrefix(data[i:], []byte("'''")) {
				s.state = inNormal
				i += closeLen(data[i:], '\'')
			}
		default:
			if i, msg = s.normal(i); msg != "" {
				return s.line, msg
			}
		}
	}
	return 0, ""
}

// basic steps over data[i] inside a basic string, single- or multi-line,
// and returns the index of the last byte consumed.
func (s *shapeScan) basic(i int) int {
	c := s.data[i]
	switch {
	case c == '\\':
		if i+1 < len(s.data) && s.data[i+1] != '\n' {
			i++
		}
	case c == '"' && s.state == inBasic:
		s.state = inNormal
	case c == '"' && bytes.HasPrefix(s.data[i:], []byte(`"""`)):
		s.state = inNormal
		i += closeLen(s.data[i:], '"')
	}
	return i
}

// normal steps over data[i] outside strings and comments, counting what
// the limits bound; it returns the index of the last byte consumed and, once
// a limit is passed, what to say.
func (s *shapeScan) normal(i int) (int, string) {
	switch c := s.data[i]; c {
	case '#':
		s.state = inComment
	case '"', '\'':
		i = s.open(i, c)
	case '[', '{':
		if s.depth == 0 && c == '[' {
			s.items++ // a table header, or an array value (counted once)
		}
		if s.depth++; s.depth > maxDepth {
			return i, fmt.Sprintf("nested more than %d levels deep; an awsrole config file holds flat keys", maxDepth)
		}
	case ']', '}':
		s.depth = max(s.depth-1, 0)
	case '.':
		if s.dots++; s.dots > maxDots {
			return i, fmt.Sprintf("more than %d dots on one line outside strings; an awsrole config file holds flat keys", maxDots)
		}
	case '=', ',':
		s.items++
	}
	if s.items > maxItems {
		return i, fmt.Sprintf("more than %d keys and values; an awsrole config file holds a handful", maxItems)
	}
	return i, ""
}

// open starts a string at data[i], quoted with q, single- or multi-line.
func (s *shapeScan) open(i int, q byte) int {
	multi := bytes.HasPrefix(s.data[i:], []byte{q, q, q})
	switch {
	case q == '"' && multi:
		s.state = inMLBasic
	case q == '"':
		s.state = inBasic
	case multi:
		s.state = inMLLiteral
	default:
		s.state = inLiteral
	}
	if multi {
		i += 2
	}
	return i
}

// closeLen is how far past data[0] the closing delimiter of a multi-line
// string reaches: up to two quotes of content may come before the triple
// quote, so a run of up to five quotes all belongs to the string.
func closeLen(data []byte, q byte) int {
	n := 3
	for n < 5 && n < len(data) && data[n] == q {
		n++
	}
	return n - 1
}
