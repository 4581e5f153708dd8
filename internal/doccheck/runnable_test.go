package doccheck

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/testrig"
	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

// runsInCI is the first line of a shell code block that CI runs.
const runsInCI = "# runs-in-ci"

// block is one runnable code block: where it is and its lines.
type block struct {
	where string
	lines []string
}

var shellFence = regexp.MustCompile("^```(sh|bash|console|shell)\\s*$")

// runnableBlocks are the shell blocks of every Markdown file whose first
// line is runsInCI.
func runnableBlocks(t *testing.T) []block {
	t.Helper()
	var out []block
	for _, file := range markdownFiles(t) {
		b, err := os.ReadFile(filepath.Join(repoRoot, file))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		for i := 0; i < len(lines); i++ {
			if !shellFence.MatchString(strings.TrimSpace(lines[i])) {
				continue
			}
			start := i + 1
			end := start
			for end < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[end]), "```") {
				end++
			}
			if start < end && strings.TrimSpace(lines[start]) == runsInCI {
				out = append(out, block{where: file + ":" + itoa(start+1), lines: lines[start+1 : end]})
			}
			i = end
		}
	}
	return out
}

// expectation is the text a line's "# -> TEXT" comment says the block's
// output holds, cut at the placeholders ("...", "<you>") into the parts
// that must appear as written.
var (
	arrow       = regexp.MustCompile(`#\s*->\s*(.*)$`)
	placeholder = regexp.MustCompile(`\.\.\.|…|<[^>]*>`)
)

func expectations(lines []string) []string {
	var out []string
	for _, l := range lines {
		m := arrow.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		for _, part := range placeholder.Split(m[1], -1) {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// TestRunnableBlocks runs each block marked "# runs-in-ci" the way a user
// types it: line by line into an interactive bash with the hook installed
// (so the hook runs before every line, as before every prompt), in a
// throwaway HOME whose AWS is the local STS stand-in. Every line must
// succeed, and the output must hold what its "# -> …" comments say.
func TestRunnableBlocks(t *testing.T) {
	blocks := runnableBlocks(t)
	if len(blocks) == 0 {
		t.Fatal("no block is marked " + runsInCI + ": README's 30-second example should be")
	}
	testrig.Slow(t)
	bash := testrig.Tool(t, "bash", "install bash")
	testrig.Tool(t, "aws", ".ci/run says how to install the aws CLI")
	bin := t.TempDir()
	if _, err := testrig.Build(bin); err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		t.Run(b.where, func(t *testing.T) {
			w := hermetic.NewT(t, hermetic.Options{
				User:    hermetic.User{Key: "AKIAIOSFODNN7EXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ARN: "arn:aws:iam::111111111111:user/alice"},
				Session: true,
				BinDir:  bin,
			})
			install := exec.Command(filepath.Join(bin, "awsrole"), "install", "bash")
			install.Dir, install.Env = w.Home, w.Environ()
			if out, err := install.CombinedOutput(); err != nil {
				t.Fatalf("awsrole install bash: %v\n%s", err, out)
			}
			script := "trap 'echo \"runs-in-ci: failed: $BASH_COMMAND\" >&2; exit 1' ERR\n" +
				strings.Join(b.lines, "\n") + "\nexit 0\n"
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			sh := exec.CommandContext(ctx, bash, "--noediting", "-i")
			sh.Dir, sh.Env = w.Home, w.Environ()
			sh.Stdin = strings.NewReader(script)
			var stdout, stderr bytes.Buffer
			sh.Stdout, sh.Stderr = &stdout, &stderr
			if err := sh.Run(); err != nil {
				t.Fatalf("the block at %s failed (%v)\nstdout:\n%s\nstderr:\n%s", b.where, err, stdout.String(), stderr.String())
			}
			for _, want := range expectations(b.lines) {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("the block at %s printed no %q, which a \"# ->\" comment promises\nstdout:\n%s\nstderr:\n%s", b.where, want, stdout.String(), stderr.String())
				}
			}
		})
	}
}

// TestExpectations pins how a "# -> …" comment becomes what the output
// must hold.
func TestExpectations(t *testing.T) {
	got := expectations([]string{
		"aws sts get-caller-identity   # -> ...:assumed-role/deploy/awsrole-<you>",
		"cd ~   # your own variables back",
	})
	if len(got) != 1 || got[0] != ":assumed-role/deploy/awsrole-" {
		t.Errorf("expectations = %q", got)
	}
}
