package dirconfig

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

const goodFile = `role_arn = "arn:aws:iam::123456789012:role/deploy"` + "\n"

func mkfile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustFind(t *testing.T, dir string) string {
	t.Helper()
	got, err := Find(dir)
	if err != nil {
		t.Fatalf("Find(%q): %v", dir, err)
	}
	return got
}

// skipIfAncestorHasFile skips when a stray FileName above the temp dir
// would make "nothing found" untestable.
func skipIfAncestorHasFile(t *testing.T, dir string) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, FileName)); err == nil {
			t.Skipf("%s exists above the test directory", filepath.Join(d, FileName))
		}
		if d == filepath.Dir(d) {
			return
		}
	}
}

func TestFindNearestWins(t *testing.T) {
	root := t.TempDir()
	outer := filepath.Join(root, FileName)
	inner := filepath.Join(root, "a", FileName)
	mkfile(t, outer, goodFile)
	mkfile(t, inner, goodFile)
	if err := os.MkdirAll(filepath.Join(root, "a", "b", "c"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]string{
		root:                                  outer,
		filepath.Join(root, "x"):              outer,
		filepath.Join(root, "a"):              inner,
		filepath.Join(root, "a", "b", "c"):    inner,
		root + "/a/b/../b/./c/":               inner, // cleaned
		filepath.Join(root, "a", "gone", "x"): inner, // a vanished directory is not an error
	} {
		if got := mustFind(t, dir); got != want {
			t.Errorf("Find(%q) = %q, want %q", dir, got, want)
		}
	}
}

func TestFindNothingUpToRoot(t *testing.T) {
	root := t.TempDir()
	skipIfAncestorHasFile(t, root)
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := mustFind(t, deep); got != "" {
		t.Errorf("Find = %q, want nothing", got)
	}
	if got := mustFind(t, "/"); got != "" {
		t.Errorf(`Find("/") = %q, want nothing`, got)
	}
}

func TestFindRelative(t *testing.T) {
	root := t.TempDir()
	mkfile(t, filepath.Join(root, FileName), goodFile)
	if err := os.MkdirAll(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(root, "sub"))
	for _, dir := range []string{".", "", "../sub"} {
		if got, want := mustFind(t, dir), filepath.Join(root, FileName); got != want {
			t.Errorf("Find(%q) = %q, want %q", dir, got, want)
		}
	}
}

// TestFindAnythingCounts: Find reports whatever sits at the name, and Load
// then says what is wrong with it.
func TestFindAnythingCounts(t *testing.T) {
	setups := map[string]func(path string) error{
		"directory":        func(p string) error { return os.Mkdir(p, 0o755) },
		"dangling symlink": func(p string) error { return os.Symlink("nowhere", p) },
		"symlink loop":     func(p string) error { return os.Symlink(FileName, p) },
		"fifo":             func(p string) error { return syscall.Mkfifo(p, 0o644) },
	}
	for name, setup := range setups {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			path := filepath.Join(root, FileName)
			if err := setup(path); err != nil {
				t.Skip(err)
			}
			sub := filepath.Join(root, "sub")
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			if got := mustFind(t, sub); got != path {
				t.Errorf("Find = %q, want %q", got, path)
			}
		})
	}
}

// TestFindHostileNames runs Find and Load in directories named the way
// direnv's scenario tests name them, and worse.
func TestFindHostileNames(t *testing.T) {
	names := []string{
		"space dir", `quote'd "dir"`, "$test", "$(touch pwned)", "`x`", "utf-8 ✓ ü 日本",
		"new\nline", "tab\there", "back\\slash", "-dash", "*glob?[x]", "semi;colon&amp", "\x1b[31mred",
	}
	for _, name := range names {
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			root := t.TempDir()
			project := filepath.Join(root, name)
			path := filepath.Join(project, FileName)
			mkfile(t, path, goodFile)
			deep := filepath.Join(project, name, "src")
			if err := os.MkdirAll(deep, 0o755); err != nil {
				t.Fatal(err)
			}
			if got := mustFind(t, deep); got != path {
				t.Fatalf("Find = %q, want %q", got, path)
			}
			c, err := loadWithin(t, path, timeoutLoad)
			if err != nil {
				t.Fatal(err)
			}
			if c.Dir != project {
				t.Errorf("Dir = %q, want %q", c.Dir, project)
			}
			// A broken file there still gives a one-line error that starts
			// with the (possibly quoted) path.
			mkfile(t, path, "regoin = 1\n")
			_, err = loadWithin(t, path, timeoutLoad)
			checkErr(t, path, err, []string{"PATH:1: regoin: unknown key; did you mean region?"})
		})
	}
}

// BenchmarkFind measures the hook's hot path: the file sits at the top of
// the temporary tree and the walk starts depth levels below it.
func BenchmarkFind(b *testing.B) {
	for _, depth := range []int{1, 64} {
		root := b.TempDir()
		mkfile(b, filepath.Join(root, FileName), goodFile)
		dir := root
		for range depth {
			dir = filepath.Join(dir, "d")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		b.Run("depth="+strconv.Itoa(depth), func(b *testing.B) {
			for b.Loop() {
				if p, err := Find(dir); err != nil || p == "" {
					b.Fatal(p, err)
				}
			}
		})
	}
}
