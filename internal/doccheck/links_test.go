package doccheck

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// repoRoot is the module's root, from this package's directory.
const repoRoot = "../.."

// markdownFiles are the repository's *.md files, relative to its root,
// without the tools .ci/run installs and hidden directories.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, p)
		if d.IsDir() && rel != "." && (strings.HasPrefix(d.Name(), ".") && rel != ".ci" || rel == filepath.Join(".ci", "tools") || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no Markdown files found under", repoRoot)
	}
	return out
}

var (
	fence      = regexp.MustCompile("^\\s*(```|~~~)")
	codeSpan   = regexp.MustCompile("`+[^`]*`+")
	inlineLink = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]+)\)`)
	heading    = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
)

// prose is the file's lines outside fenced code blocks, inline code spans
// blanked, so that a link written as an example in code is not checked.
func prose(text string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		if fence.MatchString(line) {
			in = !in
			out = append(out, "")
			continue
		}
		if in {
			out = append(out, "")
			continue
		}
		out = append(out, line)
	}
	return out
}

// anchors are the heading ids GitHub gives a Markdown file: the heading's
// text lowercased, spaces as hyphens, punctuation dropped, a repeated id
// suffixed -1, -2….
func anchors(text string) map[string]bool {
	ids := map[string]bool{}
	seen := map[string]int{}
	for _, line := range prose(text) {
		m := heading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		title := inlineLink.ReplaceAllString(m[2], "$1")
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-':
				b.WriteRune(r)
			case r == ' ':
				b.WriteByte('-')
			}
		}
		id := b.String()
		if n := seen[id]; n > 0 {
			seen[id]++
			id = id + "-" + itoa(n)
		} else {
			seen[id] = 1
		}
		ids[id] = true
	}
	return ids
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// TestRelativeLinksResolve checks every link in every Markdown file that
// is not a URL: the file or directory must exist, and a #heading must be
// one of the target's headings.
func TestRelativeLinksResolve(t *testing.T) {
	texts := map[string]string{}
	read := func(rel string) string {
		if s, ok := texts[rel]; ok {
			return s
		}
		b, err := os.ReadFile(filepath.Join(repoRoot, rel))
		if err != nil {
			t.Fatal(err)
		}
		texts[rel] = string(b)
		return texts[rel]
	}
	checked := 0
	for _, file := range markdownFiles(t) {
		for i, line := range prose(read(file)) {
			line = codeSpan.ReplaceAllString(line, "``")
			for _, m := range inlineLink.FindAllStringSubmatch(line, -1) {
				target := m[2]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				checked++
				where := file + ":" + itoa(i+1)
				path, frag, _ := strings.Cut(target, "#")
				dest := file
				if path != "" {
					dest = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
					if _, err := os.Stat(filepath.Join(repoRoot, dest)); err != nil {
						t.Errorf("%s: link %q: %s does not exist", where, target, dest)
						continue
					}
				}
				if frag == "" {
					continue
				}
				if !strings.HasSuffix(dest, ".md") {
					t.Errorf("%s: link %q: a #heading in a file that is not Markdown", where, target)
					continue
				}
				if !anchors(read(dest))[frag] {
					t.Errorf("%s: link %q: %s has no heading whose id is %q", where, target, dest, frag)
				}
			}
		}
	}
	if checked == 0 {
		t.Error("no relative links found: the link pattern is broken")
	}
}

// TestAnchors pins the heading ids the link check expects.
func TestAnchors(t *testing.T) {
	got := anchors("# Where credentials come from\n## IAM Identity Center (SSO)\n```\n# not a heading\n```\n## `.awsrole.toml`\n## Trust: which files count\n## MFA\n## MFA\n## [Link](x.md) text\n")
	for _, id := range []string{"where-credentials-come-from", "iam-identity-center-sso", "awsroletoml", "trust-which-files-count", "mfa", "mfa-1", "link-text"} {
		if !got[id] {
			t.Errorf("no id %q in %v", id, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("a comment in a code block counted as a heading")
	}
}

// TestArchitectureListsEveryPackage checks that docs/architecture.md
// names, in code, every directory of the module that holds Go files.
func TestArchitectureListsEveryPackage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	dirs := map[string]bool{}
	err = filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && p != repoRoot || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") {
			rel, _ := filepath.Rel(repoRoot, filepath.Dir(p))
			dirs[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 10 {
		t.Fatalf("found only %d package directories: %v", len(dirs), dirs)
	}
	for dir := range dirs {
		if dir == "." {
			t.Errorf("Go files at the module root: architecture.md has no row for them")
			continue
		}
		if !strings.Contains(page, "| `"+dir+"` |") {
			t.Errorf("docs/architecture.md has no row for package %s: add | `%s` | what it owns |", dir, dir)
		}
	}
}

// TestReadmeIsANewcomersPage checks that README.md stays short enough to
// read in five minutes and keeps the two commands a newcomer runs on a
// fresh machine: the demo and the test command CI runs.
func TestReadmeIsANewcomersPage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	if n := strings.Count(readme, "\n"); n > 300 {
		t.Errorf("README.md has %d lines, over 300: move the detail to a page under docs/", n)
	}
	for _, cmd := range []string{"\ngo run ./internal/demo ", "\n./.ci/run "} {
		if !strings.Contains(readme, cmd) {
			t.Errorf("README.md no longer shows %q at the start of a line: a newcomer's first two commands are the demo and the tests", strings.TrimSpace(cmd))
		}
	}
}
