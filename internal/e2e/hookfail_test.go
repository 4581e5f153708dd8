package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/testrig/ptyshell"

	"github.com/awsrole/awsrole/hooks"
	"github.com/awsrole/awsrole/shellgen"
)

// installHook installs the hook of kind as `awsrole install` does, calling
// bin in place of the binary: the rc line asks the binary for the hook,
// which names the binary's own path, so a shell that loads a hook file
// loads the hook rendered for bin (nushell's install writes it itself).
func (r *rig) installHook(kind, bin string) {
	r.t.Helper()
	in, err := shellgen.InstallFor(kind, bin, func(k string) string {
		if v := r.Env[k]; v != nil {
			return *v
		}
		return ""
	})
	if err != nil {
		r.t.Fatal(err)
	}
	if load := ptyshell.Table[kind].LoadFile; load != "" {
		code, err := shellgen.Hook(kind, bin)
		if err != nil {
			r.t.Fatal(err)
		}
		file := r.write(filepath.Join(r.Root, "hook."+kind), code)
		in.Block = fmt.Sprintf(load, ptyshell.Quote(kind, file))
	}
	if _, err := hooks.Install(in.File, in.Block); err != nil {
		r.t.Fatal(err)
	}
}

// cutAnswers are, by shell, the start of an answer that would set
// AWSROLE_TEST_GARBAGE, without the rest.
var cutAnswers = map[string]string{
	"bash":   "export AWSROLE_TEST_GARBAGE=1;\n",
	"zsh":    "export AWSROLE_TEST_GARBAGE=1;\n",
	"fish":   "set -gx AWSROLE_TEST_GARBAGE 1;\n",
	"elvish": "set-env AWSROLE_TEST_GARBAGE 1\n",
	"nu":     `{"env":{"AWSROLE_TEST_GARBAGE":"1"}`,
}

// noopAnswers are, by shell, a complete answer that changes nothing.
var noopAnswers = map[string]string{
	"bash":   "# awsrole export: end\n",
	"zsh":    "# awsrole export: end\n",
	"fish":   "# awsrole export: end\n",
	"elvish": "# awsrole export: end\n",
	"nu":     `{"env":{},"end":true}`,
}

// brokenBinary writes a wrapper that runs the real binary until the test
// writes a mode into the returned file: then it crashes (SIGSEGV), hangs
// (writing started first, until Ctrl-C), exits 3 with nothing, exits 0
// with an answer cut short (a line the shell could evaluate, without the
// answer's last line), or (noop) answers that nothing changes.
func (r *rig) brokenBinary(kind string) (wrapper, mode, started string) {
	r.t.Helper()
	cut, okCut := cutAnswers[kind]
	noop, okNoop := noopAnswers[kind]
	if !okCut || !okNoop {
		r.t.Fatalf("no cut or no-op answer for %s in cutAnswers/noopAnswers", kind)
	}
	mode = filepath.Join(r.Root, "mode")
	started = filepath.Join(r.Root, "started")
	wrapper = filepath.Join(r.Root, "broken", "awsrole")
	r.write(wrapper, fmt.Sprintf(`#!/bin/sh
case "$(cat %[1]q 2>/dev/null)" in
crash) kill -SEGV $$ ;;
hang) : >%[2]q; exec sleep 600 ;;
fail) exit 3 ;;
cut) printf '%%s' %[3]s; exit 0 ;;
noop) printf '%%s' %[5]s; exit 0 ;;
esac
exec %[4]q "$@"
`, mode, started, shQuote(cut), awsroleBin, shQuote(noop)))
	if err := os.Chmod(wrapper, 0o755); err != nil {
		r.t.Fatal(err)
	}
	return wrapper, mode, started
}

// TestHookFailsClosed: after entering a project with the real binary, a
// binary that crashes, hangs (ended with Ctrl-C), fails with nothing or
// answers with a cut answer keeps the role while the shell stays in the
// project (a failed renewal keeps the credentials), and leaves it, the
// user's own values back byte for byte, once the shell is outside
// AWSROLE_DIR: here in a sibling whose name starts with the project's
// (/home/proj is no prefix directory of /home/projx) and whose unapproved
// file makes the hook call the binary where the fast path would leave
// without one.
func TestHookFailsClosed(t *testing.T) {
	t.Parallel()
	for _, kind := range shellKinds {
		for _, mode := range []string{"crash", "hang", "fail", "cut"} {
			t.Run(kind+"/"+mode, func(t *testing.T) {
				busy.Parallel(t)
				r := newRig(t, nil)
				wrapper, modeFile, started := r.brokenBinary(kind)
				r.installHook(kind, wrapper)
				proj := r.project("proj", roleDeploy, "e2e-failclosed", "eu-west-1", true)
				evil := r.project("projx", roleAudit, "e2e-evil", "", false)
				r.settle()
				s := r.startShell(kind, "", nil)
				before := s.Managed()

				s.Run(s.Cd(proj))
				wantActive(t, r, "in the project", s.Managed(), roleDeploy, proj, "eu-west-1")

				// broken runs cmd with the binary broken, and returns the
				// environment the shell has after the hook's call.
				broken := func(cmd string) map[string]*string {
					t.Helper()
					r.write(modeFile, mode)
					if mode != "hang" {
						s.Run(cmd)
					} else {
						_ = os.Remove(started)
						p := s.Begin(cmd)
						waitFile(t, started)
						// Any call after the hung one (nushell's prompt
						// hook runs again if the Ctrl-C ended its PWD
						// hook) answers that nothing changes: only the
						// interrupted call's fail-closed path can leave.
						r.write(modeFile, "noop")
						s.Interrupt()
						s.WaitPrompt(p)
					}
					// The prompts of the dump call a binary that fails
					// at once; the dump shows the state before them.
					r.write(modeFile, "fail")
					env := s.Env()
					if v := env["AWSROLE_TEST_GARBAGE"]; v != nil {
						t.Errorf("a cut answer was evaluated: AWSROLE_TEST_GARBAGE=%s", *v)
					}
					return pick(env)
				}

				// Inside: the project's file edited (newer than the last
				// call's mark, and other bytes: the elvish hook compares
				// what it holds), so the next prompt calls.
				r.appendFile(filepath.Join(filepath.Base(proj), ".awsrole.toml"), "# edited\n")
				now := time.Now()
				if err := os.Chtimes(filepath.Join(proj, ".awsrole.toml"), now, now); err != nil {
					t.Fatal(err)
				}
				wantActive(t, r, "a failed call inside the project", broken("true"), roleDeploy, proj, "eu-west-1")

				left := broken(s.Cd(evil))
				wantSame(t, "a failed call outside the project", before, left)
				r.noPWNED()
			})
		}
	}
}

// waitFile waits until path exists.
func waitFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(ptyshell.Timeout); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %s", path, ptyshell.Timeout)
		}
	}
}

// TestEndpointServerBackByNextPrompt: in endpoint mode, a server killed
// with kill -9 is running again by the next prompt in bash, zsh and fish
// (a real client works again with the URI and token the shell then
// holds), while steady prompts start no process as long as it lives.
func TestEndpointServerBackByNextPrompt(t *testing.T) {
	t.Parallel()
	for _, kind := range fastPathShells() {
		t.Run(kind, func(t *testing.T) {
			busy.Parallel(t)
			r := newRig(t, nil)
			r.endpointMode("")
			wrapper, log := r.callLogger()
			r.installHook(kind, wrapper)
			proj := r.project("proj", roleDeploy, "e2e-ep-back", "", true)
			r.settle()
			s := r.startShell(kind, "", nil)
			step := countedSteps(t, s, log)
			step("enter", s.Cd(proj), 1)
			r.settle()
			old := r.waitServer(0)
			wantEndpointActive(t, r, "in the project", s.Managed(), roleDeploy, proj)
			for range 5 {
				step("steady prompt while the server lives", "true", 0)
			}

			if err := syscall.Kill(old.PID, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(10 * time.Second); alive(old.PID); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the server %d still runs 10s after kill -9", old.PID)
				}
			}
			step("the prompt after the kill", "true", 1)
			r.waitServer(old.PID)
			wantEndpointActive(t, r, "after the kill", s.Managed(), roleDeploy, proj)
			if got, want := callerArn(s), "arn:aws:sts::222222222222:assumed-role/deploy/e2e-ep-back"; got != want {
				t.Errorf("get-caller-identity after the kill: %q, want %q", got, want)
			}
			for range 5 {
				step("steady prompt while the new server lives", "true", 0)
			}
			if out := s.Transcript(); strings.Contains(out, "Could not connect") {
				t.Errorf("a client failed to connect:\n%s", s.Tail())
			}
		})
	}
}

// shQuote quotes s as one word for sh.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
