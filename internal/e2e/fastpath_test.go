package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFastPathStartsNoProcess checks, by counting calls of the binary, that
// the bash and zsh hooks start no process for a prompt in the same project,
// for cd between plain directories and for leaving a project, and that they
// still call when something did change: entering, an edit of the file, a
// file appearing, a trust change. The same holds in endpoint mode: the
// URI does not change at prompts.
func TestFastPathStartsNoProcess(t *testing.T) {
	for _, tc := range []struct{ kind, mode string }{{"bash", "env"}, {"zsh", "env"}, {"bash", "endpoint"}, {"zsh", "endpoint"}} {
		kind := tc.kind
		t.Run(kind+"/"+tc.mode, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, nil)
			if tc.mode == "endpoint" {
				r.endpointMode("")
			}
			// A wrapper that logs each call, in place of the binary in the hook.
			log := filepath.Join(r.root, "calls.log")
			wrapper := filepath.Join(r.root, "wrap", "awsrole")
			r.write(wrapper, fmt.Sprintf("#!/bin/sh\necho \"$*\" >> %q\nexec %q \"$@\"\n", log, awsroleBin))
			if err := os.Chmod(wrapper, 0o755); err != nil {
				t.Fatal(err)
			}
			rc := map[string]string{"bash": ".bashrc", "zsh": ".zshrc"}[kind]
			r.appendFile(rc, fmt.Sprintf("eval \"$(%q hook %s | sed 's#%s#%s#')\"\n", awsroleBin, kind, awsroleBin, wrapper))
			proj := r.project("proj", roleDeploy, "e2e-fast", "eu-west-1", true)
			for _, d := range []string{"plain/a", "plain/b", "proj/sub"} {
				if err := os.MkdirAll(filepath.Join(r.home, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			r.settle()
			s := r.startShell(kind, "", nil)
			user := s.Managed()
			calls := func() int {
				data, _ := os.ReadFile(log)
				return strings.Count(string(data), "\n")
			}
			step := func(what, cmd string, want int) {
				t.Helper()
				before := calls()
				s.Run(cmd)
				if got := calls() - before; got != want {
					t.Errorf("%s: %d calls of awsrole, want %d", what, got, want)
				}
			}
			step("prompt at home", "true", 0)
			step("cd between plain dirs", s.Cd(filepath.Join(r.home, "plain", "a")), 0)
			step("cd between plain dirs", s.Cd(filepath.Join(r.home, "plain", "b")), 0)
			step("enter", s.Cd(proj), 1)
			r.settle()
			step("prompt in the project", "true", 0)
			step("cd into a subdir of the project", s.Cd(filepath.Join(proj, "sub")), 0)
			if tc.mode == "endpoint" {
				wantEndpointActive(t, r, "in the project", s.Managed(), roleDeploy, proj)
			} else {
				wantActive(t, r, "in the project", s.Managed(), roleDeploy, proj, "eu-west-1")
			}
			step("leave", s.Cd(r.home), 0)
			wantSame(t, "after leaving without a process", user, s.Managed())
			step("prompt after leaving", "true", 0)
			step("re-enter", s.Cd(proj), 1)
			r.settle()
			r.appendFile("proj/.awsrole.toml", "# edited\n")
			step("after an edit of the file", "true", 1)
			if err := os.WriteFile(filepath.Join(r.home, "plain", "a", ".awsrole.toml"), []byte("role_arn = \"arn:aws:iam::222222222222:role/new\"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			r.settle() // (a file newer than the call's mark is looked at again)
			step("a file appears where the shell goes", s.Cd(filepath.Join(r.home, "plain", "a")), 1)
		})
	}
}
