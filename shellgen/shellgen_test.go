package shellgen_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/shellgen"
)

func ptr(s string) *string { return &s }

func TestLookup(t *testing.T) {
	for _, name := range shellgen.Names(shellgen.UseExport) {
		d, err := shellgen.Lookup(name)
		if err != nil {
			t.Fatalf("Lookup(%q): %v", name, err)
		}
		if d.Name() != name {
			t.Errorf("Lookup(%q).Name() = %q", name, d.Name())
		}
	}
	_, err := shellgen.Lookup("tcsh")
	if err == nil || !strings.Contains(err.Error(), strings.Join(shellgen.Names(shellgen.UseExport), ", ")) {
		t.Errorf("Lookup(tcsh) error = %v, want one listing the valid names", err)
	}
}

func TestExport(t *testing.T) {
	changes := []shellgen.Change{
		{Name: "B_UNSET", Value: nil},
		{Name: "A_SAFE", Value: ptr("AKIA/x+y=z:1,2@3%4.5-6_7")},
		{Name: "C_HOSTILE", Value: ptr("it's $(x) \\ \"q\"!\n\té")},
		{Name: "D_EMPTY", Value: ptr("")},
	}
	tests := []struct {
		dialect, want string
	}{
		{"bash", "export A_SAFE='AKIA/x+y=z:1,2@3%4.5-6_7';\n" +
			"unset -v B_UNSET;\n" +
			`export C_HOSTILE=$'it\'s $(x) \\ "q"\x21\n\t\xc3\xa9';` + "\n" +
			"export D_EMPTY='';\n"},
		{"zsh", "export A_SAFE='AKIA/x+y=z:1,2@3%4.5-6_7';\n" +
			"unset -v B_UNSET;\n" +
			`export C_HOSTILE=$'it\'s $(x) \\ "q"\x21\n\t\xc3\xa9';` + "\n" +
			"export D_EMPTY='';\n"},
		{"fish", "set -gx A_SAFE 'AKIA/x+y=z:1,2@3%4.5-6_7';\n" +
			"set -e -g B_UNSET;\n" +
			`set -gx C_HOSTILE 'it\'s $(x) \\ "q"!'\x0a\x09\xc3\xa9;` + "\n" +
			"set -gx D_EMPTY '';\n"},
		{"json", `{"A_SAFE":"AKIA/x+y=z:1,2@3%4.5-6_7","B_UNSET":null,"C_HOSTILE":"it's $(x) \\ \"q\"!\n\té","D_EMPTY":""}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.dialect, func(t *testing.T) {
			d, err := shellgen.Lookup(tt.dialect)
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.Export(changes)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Export() =\n%s\nwant\n%s", got, tt.want)
			}
			if changes[0].Name != "B_UNSET" {
				t.Error("Export reordered the caller's slice")
			}
			env := map[string]*string{}
			for _, c := range changes {
				env[c.Name] = c.Value
			}
			rendered, err := shellgen.Render(tt.dialect, env)
			if err != nil || rendered != got {
				t.Errorf("Render() = %q, %v; want the same as Export", rendered, err)
			}
		})
	}
}

func TestExportEmpty(t *testing.T) {
	for dialect, want := range map[string]string{"bash": "", "zsh": "", "fish": "", "json": "{}\n"} {
		got, err := shellgen.Render(dialect, nil)
		if err != nil || got != want {
			t.Errorf("Render(%s, nil) = %q, %v; want %q", dialect, got, err, want)
		}
	}
}

func TestExportErrors(t *testing.T) {
	tests := []struct {
		name    string
		changes []shellgen.Change
		wantErr string
	}{
		{"empty name", []shellgen.Change{{Name: "", Value: ptr("x")}}, "invalid variable name"},
		{"leading digit", []shellgen.Change{{Name: "1A", Value: ptr("x")}}, "invalid variable name"},
		{"dash", []shellgen.Change{{Name: "A-B", Value: nil}}, "invalid variable name"},
		{"injection in name", []shellgen.Change{{Name: "A=$(x)", Value: ptr("x")}}, "invalid variable name"},
		{"non-ascii name", []shellgen.Change{{Name: "É", Value: ptr("x")}}, "invalid variable name"},
		{"nul in value", []shellgen.Change{{Name: "A", Value: ptr("a\x00b")}}, "NUL"},
		{"duplicate", []shellgen.Change{{Name: "A", Value: ptr("x")}, {Name: "A", Value: nil}}, "given twice"},
	}
	for _, tt := range tests {
		for _, dialect := range shellgen.Names(shellgen.UseExport) {
			t.Run(tt.name+"/"+dialect, func(t *testing.T) {
				d, _ := shellgen.Lookup(dialect)
				out, err := d.Export(tt.changes)
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Export() = %q, %v; want error containing %q", out, err, tt.wantErr)
				}
				if err != nil && err.Error() != strings.ToLower(err.Error()[:1])+err.Error()[1:] {
					t.Errorf("error %q should start lowercase", err)
				}
			})
		}
	}
	if _, err := shellgen.Render("json", map[string]*string{"A": ptr("\xff")}); err == nil {
		t.Error("json: invalid UTF-8 was accepted; it would come back as U+FFFD")
	}
}

func TestJSONDecodes(t *testing.T) {
	env := map[string]*string{"A": ptr("<&>\u2028\"\\\n"), "B": nil, "C": ptr("é✓😀")}
	out, err := shellgen.Render("json", env)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]*string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || *got["A"] != *env["A"] || got["B"] != nil || *got["C"] != *env["C"] {
		t.Errorf("json round trip: got %v from %s", got, out)
	}
	if strings.Contains(out, `\u003c`) {
		t.Errorf("json output escapes HTML needlessly: %s", out)
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ dialect, in, want string }{
		{"bash", "", "''"},
		{"bash", "/usr/local/bin/awsrole", "'/usr/local/bin/awsrole'"},
		{"bash", "/opt/my tools/it's/awsrole", `$'/opt/my tools/it\'s/awsrole'`},
		{"zsh", "=ls", "'=ls'"},
		{"fish", "/opt/my tools/it's/awsrole", `'/opt/my tools/it\'s/awsrole'`},
		{"fish", "a\nb", `'a'\x0a'b'`},
		{"fish", "\xff", `\xff`},
		{"json", "a\"b", `"a\"b"`},
		{"elvish", "it's $x", `'it''s $x'`},
		{"elvish", "a\nb\"\\\xff", `"a\x0ab\"\\\xff"`},
		{"nu", "it's \"$x\"\\\n", `"it's \"$x\"\\\u{a}"`},
	}
	for _, tt := range tests {
		got, err := shellgen.Quote(tt.dialect, tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Quote(%s, %q) = %s, %v; want %s", tt.dialect, tt.in, got, err, tt.want)
		}
	}
	for _, dialect := range shellgen.Names(shellgen.UseHook | shellgen.UseExport) {
		if _, err := shellgen.Quote(dialect, "a\x00"); err == nil {
			t.Errorf("Quote(%s) accepted a NUL byte", dialect)
		}
	}
	if _, err := shellgen.Quote("csh", "x"); err == nil {
		t.Error("Quote(csh) did not fail")
	}
}

// badBinPaths are binary paths neither a hook nor an rc line is made for.
var badBinPaths = []string{"", "-awsrole", "bin/awsrole", "./awsrole", "/a\x00b"}

func TestHook(t *testing.T) {
	const bin = "/opt/my tools/it's/awsrole"
	for _, shell := range shellgen.Names(shellgen.UsePrompt) {
		hook, err := shellgen.Hook(shell, bin)
		if err != nil {
			t.Fatal(err)
		}
		q, _ := shellgen.Quote(shell, bin)
		if strings.Contains(hook, "__AWSROLE_BIN__") || !strings.Contains(hook, q) || !strings.Contains(hook, " export ") {
			t.Errorf("Hook(%s) does not call %s export:\n%s", shell, q, hook)
		}
	}
	for _, shell := range []string{"json", "tcsh"} {
		if _, err := shellgen.Hook(shell, bin); err == nil {
			t.Errorf("Hook(%s) did not fail", shell)
		}
	}
	for _, bad := range badBinPaths {
		if _, err := shellgen.Hook("bash", bad); err == nil {
			t.Errorf("Hook with binary path %q did not fail", bad)
		}
	}
}

func TestRCLine(t *testing.T) {
	const bin = "/opt/my tools/it's/awsrole"
	for _, bad := range badBinPaths {
		if _, err := shellgen.RCLine("bash", bad); err == nil {
			t.Errorf("RCLine with binary path %q did not fail", bad)
		}
	}
	if got, err := shellgen.RCLine("zsh", "awsrole"); err != nil || got != `eval "$('awsrole' hook zsh)"` {
		t.Errorf("RCLine with a bare name = %s, %v", got, err)
	}
	for shell, want := range map[string]string{
		"bash":   `eval "$($'/opt/my tools/it\'s/awsrole' hook bash)"`,
		"zsh":    `eval "$($'/opt/my tools/it\'s/awsrole' hook zsh)"`,
		"fish":   `'/opt/my tools/it\'s/awsrole' hook fish | source`,
		"elvish": `eval ('/opt/my tools/it''s/awsrole' hook elvish | slurp)`,
	} {
		got, err := shellgen.RCLine(shell, bin)
		if err != nil || got != want {
			t.Errorf("RCLine(%s) = %s, %v; want %s", shell, got, err, want)
		}
	}
}
