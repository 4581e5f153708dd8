package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// The man pages live in the repository, generated from the command tree:
// go generate ./cmd/awsrole rewrites them, and TestManPages fails when
// they differ from what the commands say now.
//
//go:generate go test -run ^TestManPages$ -update-man .
var updateMan = flag.Bool("update-man", false, "rewrite man/man1 from the commands")

// manDir is where the pages go, from this package's directory.
const manDir = "../../man/man1"

// manDate is the date in every page's header. It is fixed so that
// regenerating the pages changes nothing unless a command changed; move it
// when a release is made.
var manDate = time.Date(2026, time.December, 6, 0, 0, 0, 0, time.UTC)

// genMan writes the man page of every command that --help lists into dir.
func genMan(dir string) error {
	root := rootCmd()
	root.DisableAutoGenTag = true
	return doc.GenManTree(root, &doc.GenManHeader{
		Title:   "AWSROLE",
		Section: "1",
		Source:  "awsrole",
		Manual:  "awsrole manual",
		Date:    &manDate,
	}, dir)
}

// TestManPages checks man/man1 against the commands (-update-man rewrites
// it: go generate ./cmd/awsrole).
func TestManPages(t *testing.T) {
	fresh := t.TempDir()
	if err := genMan(fresh); err != nil {
		t.Fatal(err)
	}
	want := pages(t, fresh)
	if *updateMan {
		if err := os.MkdirAll(manDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name := range pages(t, manDir) {
			if err := os.Remove(filepath.Join(manDir, name)); err != nil {
				t.Fatal(err)
			}
		}
		for name, content := range want {
			if err := os.WriteFile(filepath.Join(manDir, name), content, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	have := pages(t, manDir)
	const fix = "; regenerate them: go generate ./cmd/awsrole"
	for name, content := range want {
		switch old, ok := have[name]; {
		case !ok:
			t.Errorf("man/man1/%s is missing%s", name, fix)
		case !bytes.Equal(old, content):
			t.Errorf("man/man1/%s is stale%s", name, fix)
		}
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			t.Errorf("man/man1/%s is of no command%s", name, fix)
		}
	}
	if _, ok := want["awsrole.1"]; !ok {
		t.Errorf("no awsrole.1 among %v", slices.Sorted(func(yield func(string) bool) {
			for n := range want {
				if !yield(n) {
					return
				}
			}
		}))
	}
}

// pages are the *.1 files in dir by name (none when dir does not exist).
func pages(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	names, err := filepath.Glob(filepath.Join(dir, "*.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range names {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// TestEveryCommandHasAnExample walks the command tree, hidden commands
// included, and runs each one's --help: it must show an example.
func TestEveryCommandHasAnExample(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := strings.Fields(c.CommandPath())[1:]
		root := rootCmd()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(append(path, "--help"))
		if err := root.Execute(); err != nil {
			t.Errorf("%s --help: %v", c.CommandPath(), err)
		}
		if strings.TrimSpace(c.Example) == "" || !strings.Contains(out.String(), "Examples:\n") {
			t.Errorf("%s --help shows no example: give the command an Example (cobra.Command.Example), one line per use, each starting with two spaces", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(rootCmd())
}
