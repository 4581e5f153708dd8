// Package testrig holds what the end-to-end and reliability suites both
// need to run the real binaries: building them, a process environment from
// layered variables, and fixture files.
package testrig

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
)

// Build builds awsrole and awsrole-sts (which awsrole finds beside it) into
// dir and returns awsrole's path.
func Build(dir string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	build := exec.Command(goTool, "build", "-o", dir+string(filepath.Separator),
		"github.com/awsrole/awsrole/cmd/awsrole", "github.com/awsrole/awsrole/cmd/awsrole-sts")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/awsrole ./cmd/awsrole-sts: %v\n%s", err, out)
	}
	return filepath.Join(dir, "awsrole"), nil
}

// Environ is a sorted process environment from layers of variables, later
// layers winning; a nil value leaves the variable unset.
func Environ(layers ...map[string]*string) []string {
	m := map[string]*string{}
	for _, layer := range layers {
		for k, v := range layer {
			m[k] = v
		}
	}
	var out []string
	for k, v := range m {
		if v != nil {
			out = append(out, k+"="+*v)
		}
	}
	sort.Strings(out)
	return out
}

// Write writes content to rel under base (or to rel if absolute), making
// the directories, and returns the path.
func Write(t testing.TB, base, rel, content string) string {
	t.Helper()
	p := rel
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, rel)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
