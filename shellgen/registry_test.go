package shellgen_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/shellgen"
)

// TestNoShellListOutsideTheRegistry fails when Go code anywhere in the
// module spells out a list of shell names (quoted names joined by commas,
// or names joined by a bar in one string) instead of reading
// shellgen.Names: such a list is one more place to forget when a shell is
// added. Tables keyed by shell name are fine.
func TestNoShellListOutsideTheRegistry(t *testing.T) {
	all := shellgen.Names(shellgen.UseHook | shellgen.UseExport | shellgen.UseInstall | shellgen.UsePrompt)
	if len(all) < 7 {
		t.Fatalf("registry names: %v", all)
	}
	name := "(?:" + strings.Join(all, "|") + ")"
	list := regexp.MustCompile(`"` + name + `"\s*,\s*"` + name + `"|\b` + name + `\|` + name + `\b`)
	root := filepath.Join("..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(data), "\n") {
			if m := list.FindString(line); m != "" {
				t.Errorf("%s:%d: a list of shell names (%s); read shellgen.Names instead", path, i+1, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRegistry checks what the CLI reads from it.
func TestRegistry(t *testing.T) {
	for use, want := range map[shellgen.Use]string{
		shellgen.UseHook:    "bash zsh fish nu elvish direnv",
		shellgen.UseExport:  "bash zsh fish nu elvish json",
		shellgen.UseInstall: "bash zsh fish nu elvish direnv",
		shellgen.UsePrompt:  "bash zsh fish nu elvish",
	} {
		if got := strings.Join(shellgen.Names(use), " "); got != want {
			t.Errorf("Names(%d) = %s, want %s", use, got, want)
		}
	}
	if _, err := shellgen.Get("json", shellgen.UseHook); err == nil {
		t.Error("Get(json, UseHook) did not fail")
	}
	if _, err := shellgen.Get("tcsh", shellgen.UseExport); err == nil || !strings.Contains(err.Error(), "bash, zsh") {
		t.Errorf("Get(tcsh) error = %v, want one listing the valid names", err)
	}
}
