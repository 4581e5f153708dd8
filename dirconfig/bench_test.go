package dirconfig_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

// The rest of what one `awsrole export` does with the directory's file on
// every call the shell's own check cannot decide: BenchmarkFind (in
// find_test.go) covers the walk with a file at depth 1 and 64; these cover a
// walk that finds nothing, and reading, validating and trusting the file.

const benchFile = `# deploy role for payments
role_arn     = "arn:aws:iam::222222222222:role/deploy"
region       = "eu-west-1"
session_name = "alice-payments"
duration     = "1h"
`

// benchHome points the XDG directories at a fresh temporary tree.
func benchHome(b *testing.B) string {
	b.Helper()
	home := b.TempDir()
	for _, kv := range [][2]string{
		{"HOME", home},
		{"XDG_CONFIG_HOME", filepath.Join(home, ".config")},
		{"XDG_DATA_HOME", filepath.Join(home, ".local", "share")},
		{"XDG_STATE_HOME", filepath.Join(home, ".local", "state")},
		{"XDG_CACHE_HOME", filepath.Join(home, ".cache")},
	} {
		b.Setenv(kv[0], kv[1])
	}
	return home
}

// BenchmarkFindNone is the walk from a directory with no file anywhere
// above it up to "/" (cd between ordinary directories when the shell has to
// ask the binary).
func BenchmarkFindNone(b *testing.B) {
	for _, depth := range []int{1, 64} {
		dir := b.TempDir()
		for range depth {
			dir = filepath.Join(dir, "d")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		if p, err := dirconfig.Find(dir); err != nil || p != "" {
			b.Skipf("a %s above the temporary directory (%q, %v): cannot measure a walk that finds nothing", dirconfig.FileName, p, err)
		}
		b.Run("depth="+strconv.Itoa(depth), func(b *testing.B) {
			for b.Loop() {
				if _, err := dirconfig.Find(dir); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoad reads, parses and validates a typical file.
func BenchmarkLoad(b *testing.B) {
	path := filepath.Join(b.TempDir(), dirconfig.FileName)
	if err := os.WriteFile(path, []byte(benchFile), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dirconfig.Load(path); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse is Load without the read.
func BenchmarkParse(b *testing.B) {
	path := filepath.Join(b.TempDir(), dirconfig.FileName)
	data := []byte(benchFile)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dirconfig.Parse(path, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadUserConfig is the common case: no user config, defaults.
func BenchmarkLoadUserConfig(b *testing.B) {
	benchHome(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dirconfig.LoadUserConfig(dirconfig.UserConfigPath(xdgdir.FromEnv(os.Getenv).Config)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrustOf checks an allowed file (two stats at most).
func BenchmarkTrustOf(b *testing.B) {
	home := benchHome(b)
	dir := filepath.Join(home, "src", "payments")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, dirconfig.FileName)
	if err := os.WriteFile(path, []byte(benchFile), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, err := dirconfig.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	dirs := xdgdir.FromEnv(os.Getenv)
	store := dirconfig.TrustStore{Dir: dirs.Data}
	if err := store.Allow(cfg); err != nil {
		b.Fatal(err)
	}
	user, err := dirconfig.LoadUserConfig(dirconfig.UserConfigPath(dirs.Config))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if t, _ := store.Of(cfg, user); t != dirconfig.TrustAllowed {
			b.Fatal(t)
		}
	}
}
