package hooks_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/awsrole/awsrole/shellgen"
)

// A PWD set by hand to a relative path must not hang the prompt: the walk
// up would never reach "/", so the hooks leave that directory to the binary.
func TestRelativePWDDoesNotHang(t *testing.T) {
	// The shells whose walk runs in shell code a user can fool this way
	// (fish's PWD is read-only), with the flags that run a -c script.
	flags := map[string][]string{
		"bash": {"-c"},
		"zsh":  {"-f", "-c"},
	}
	for shell, flag := range flags {
		t.Run(shell, func(t *testing.T) {
			needShell(t, shell)
			code, err := shellgen.Hook(shell, "/bin/false")
			if err != nil {
				t.Fatal(err)
			}
			hook := filepath.Join(t.TempDir(), "hook")
			if err := os.WriteFile(hook, []byte(code), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			// A state that gets as far as the walk: a mark, a far deadline.
			script := `. "$1"; __awsrole_mark=$1 __awsrole_deadline=4611686018427387904; PWD=relative/dir; _awsrole_hook; echo done`
			cmd := exec.CommandContext(ctx, shell, append(flag, script, "sh", hook)...)
			cmd.Dir = t.TempDir()
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil || err != nil || string(out) != "done\n" {
				t.Errorf("%s with PWD=relative/dir: %q, %v (%v); want done, at once", shell, out, err, ctx.Err())
			}
		})
	}
}
