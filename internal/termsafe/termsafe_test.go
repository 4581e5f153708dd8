package termsafe

import (
	"encoding/json"
	"testing"
)

func TestString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"/home/alice/src/payments", "/home/alice/src/payments"},
		{"café 日本 ✓", "café 日本 ✓"},
		{`a\x1b b`, `a\x1b b`}, // already escaped: left alone
		{"$'a\\x1bb'", "$'a\\x1bb'"},
		{"\x1b[2K\rgone", `\x1b[2K\rgone`},
		{"\x1b]52;c;aGk=\x07", `\x1b]52;c;aGk=\x07`},
		{"tab\tnl\n", `tab\tnl\n`},
		{"del\x7f", `del\x7f`},
		{"c1 \u009b2J \u0085", `c1 \u009b2J \u0085`},
		{"bidi \u202eevil\u202c \u2066x\u2069 \u200e\u200f\u061c", `bidi \u202eevil\u202c \u2066x\u2069 \u200e\u200f\u061c`},
		{"ls\u2028ps\u2029", `ls\u2028ps\u2029`},
		{"bad \xff\xfe utf8 \xc2", `bad \xff\xfe utf8 \xc2`},
		{"raw c1 byte \x9b", `raw c1 byte \x9b`},
	} {
		got := String(tc.in)
		if got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if again := String(got); again != got {
			t.Errorf("String is not idempotent on %q: %q", got, again)
		}
		if !Safe(got) {
			t.Errorf("String(%q) = %q is not Safe", tc.in, got)
		}
	}
}

func TestJSON(t *testing.T) {
	in := map[string]string{"dir": "/x/\u009b\u202e\x7f\x1bé"}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := JSON(data)
	if !Safe(string(out)) {
		t.Errorf("JSON left unsafe runes: %q", out)
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil || back["dir"] != in["dir"] {
		t.Errorf("JSON changed the value: %q, %v", back["dir"], err)
	}
}
