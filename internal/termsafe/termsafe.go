// Package termsafe makes text that a stranger may have chosen (a directory
// name from a git clone, an ARN, an error message from STS or the SSO
// portal) safe to print on a terminal: nothing in it can move the cursor,
// erase a line, set a title, write the clipboard or reorder what is shown.
package termsafe

import (
	"strings"
	"unicode/utf8"
)

// String returns s with every character a terminal would act on instead of
// show written out visibly:
//
//   - C0 controls, DEL and invalid UTF-8 bytes as \xNN (\t, \n, \r by name),
//   - C1 controls (U+0080–U+009F) as \u0080…\u009f,
//   - bidirectional overrides, embeddings, isolates and marks (U+202A–U+202E,
//     U+2066–U+2069, U+200E, U+200F, U+061C) and the line and paragraph
//     separators (U+2028, U+2029) as \uXXXX.
//
// Everything else, backslashes included, is kept as it is, so String of its
// own output changes nothing and text that was already escaped (a $'…' shell
// word) is not escaped twice.
func String(s string) string {
	i := unsafeAt(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			writeByte(&b, s[i])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			writeByte(&b, byte(r))
		case unsafeRune(r):
			writeRune(&b, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// Safe reports whether s prints as itself: String(s) == s.
func Safe(s string) bool { return unsafeAt(s) < 0 }

// JSON escapes, inside JSON text that encoding/json produced, the runes
// String would escape and the encoder leaves raw (DEL, C1, bidi controls),
// as \uXXXX: the decoded values stay exactly the same.
func JSON(data []byte) []byte {
	s := string(data)
	if Safe(s) {
		return data
	}
	var b strings.Builder
	for _, r := range s {
		if r == 0x7f || unsafeRune(r) {
			writeRune(&b, r)
			continue
		}
		b.WriteRune(r)
	}
	return []byte(b.String())
}

// unsafeAt is the offset of the first byte String must escape, or -1.
func unsafeAt(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 || unsafeRune(r) {
			return i
		}
		i += n
	}
	return -1
}

// unsafeRune reports the non-ASCII runes a terminal acts on.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f: // C1: CSI, OSC, NEL, ...
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200e, r == 0x200f, r == 0x061c, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

const hexDigits = "0123456789abcdef"

func writeByte(b *strings.Builder, c byte) {
	b.WriteString(`\x`)
	b.WriteByte(hexDigits[c>>4])
	b.WriteByte(hexDigits[c&0xf])
}

func writeRune(b *strings.Builder, r rune) {
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[(r>>uint(shift))&0xf])
	}
}
