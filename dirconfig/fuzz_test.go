package dirconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// FuzzParse: Parse and ParseUserConfig never panic; an error is always one
// printable line starting with the path; a success is always valid.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.toml"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		goodFile,
		"\uFEFF" + goodFile,
		goodFile + "duration = 900\nregion = \"eu-west-1\"\nmfa_serial = \"GAHT12345678\"\n",
		"refresh_before = \"5m\"\ntrusted_dirs = [\"~/w\"]\n",
		"a.b.c = 1\n[x.y]\n[[z]]\n",
		"\"\\u2028\" = 1",
		"role_arn = \"arn:aws:iam::123456789012:role/\\u2028\"",
	} {
		f.Add([]byte(s))
	}
	const path = "/fuzz/proj/" + FileName
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(path, data)
		checkFuzzErr(t, path, err)
		if err == nil {
			if verr := ValidateRoleARN(c.RoleARN); verr != nil {
				t.Errorf("accepted role_arn %q: %v", c.RoleARN, verr)
			}
			if c.Duration != 0 && (c.Duration < roleDuration.min || c.Duration > roleDuration.max) {
				t.Errorf("accepted duration %v", c.Duration)
			}
			if c.Path != path || c.Dir != "/fuzz/proj" || len(c.Hash) != 64 {
				t.Errorf("Path, Dir, Hash = %q, %q, %q", c.Path, c.Dir, c.Hash)
			}
		}
		_, err = ParseUserConfig(path, data)
		checkFuzzErr(t, path, err)
	})
}

func checkFuzzErr(t *testing.T, path string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, path+":") {
		t.Errorf("error does not start with the path: %q", msg)
	}
	if i := strings.IndexFunc(msg, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }); i >= 0 {
		t.Errorf("error is not one printable line: %q", msg)
	}
}
