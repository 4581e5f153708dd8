package shellgen_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/awsrole/awsrole/internal/testrig"
	"github.com/awsrole/awsrole/shellgen"
)

// TestLeaveWithoutBinary runs the leave code nushell and elvish keep for a
// failed call (DESIGN §4: fail closed in the hook) in the real shells: the
// user's own values come back byte for byte, hostile ones included, a
// variable awsrole unset is set again, one it set is unset, one changed by
// hand is left alone, and AWSROLE_STATE goes.
func TestLeaveWithoutBinary(t *testing.T) {
	runs := map[string]func(t *testing.T, dir, answer string) []string{
		// What the elvish hook does: the answer evaluated in a namespace
		// of its own, __awsrole_leave taken from it, evaluated.
		"elvish": func(t *testing.T, dir, answer string) []string {
			return []string{"elvish", "-norc", "-c", `
set-env AWS_ACCESS_KEY_ID ASIAROLE; set-env AWS_SESSION_TOKEN tok; unset-env AWS_PROFILE
set-env AWS_REGION mine; set-env AWSROLE_STATE /state
var leave = ''
eval &on-end={|ns| set leave = $ns[__awsrole_leave] } (slurp < ` + filepath.Join(dir, "answer") + `)
eval $leave
env -0 > ` + filepath.Join(dir, "env")}
		},
		// The nushell hook's own __awsrole_failed, outside AWSROLE_DIR.
		"nu": func(t *testing.T, dir, answer string) []string {
			hook, err := shellgen.Hook("nu", "/nonexistent/awsrole")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "hook.nu"), []byte(hook), 0o600); err != nil {
				t.Fatal(err)
			}
			return []string{"nu", "--no-config-file", "-c", `
source ` + filepath.Join(dir, "hook.nu") + `
$env.AWS_ACCESS_KEY_ID = "ASIAROLE"; $env.AWS_SESSION_TOKEN = "tok"; hide-env -i AWS_PROFILE
$env.AWS_REGION = "mine"; $env.AWSROLE_STATE = "/state"; $env.AWSROLE_DIR = "/nonexistent/proj"
$env.__awsrole = {leave: (open --raw ` + filepath.Join(dir, "answer") + ` | from json | get leave)}
__awsrole_failed
^env -0 | save -f --raw ` + filepath.Join(dir, "env")}
		},
	}
	for shell, argv := range runs {
		t.Run(shell, func(t *testing.T) {
			testrig.Tool(t, shell, ".ci/run installs it")
			n := 0
			for _, v := range hostileValues() {
				if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
					continue
				}
				if n++; n > 12 {
					break
				}
				env := leaveEnv(t, shell, argv, v)
				for name, want := range map[string]string{"AWS_ACCESS_KEY_ID": v, "AWS_PROFILE": "corp", "AWS_REGION": "mine"} {
					if got, ok := env[name]; !ok || got != want {
						t.Errorf("%s after leaving: %s = %q (set %v), want %q", shell, name, got, ok, want)
					}
				}
				for _, name := range []string{"AWS_SESSION_TOKEN", "AWSROLE_STATE"} {
					if got, ok := env[name]; ok {
						t.Errorf("%s after leaving: %s = %q, want unset", shell, name, got)
					}
				}
			}
		})
	}
}

// leaveEnv renders an answer whose leave code gives AWS_ACCESS_KEY_ID back
// its original v, runs it in shell with argv, and returns the environment
// the shell was left with.
func leaveEnv(t *testing.T, shell string, argv func(t *testing.T, dir, answer string) []string, v string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	role, tok, region, profile := "ASIAROLE", "tok", "eu-west-1", "corp"
	answer, err := shellgen.Answer(shell, nil, &shellgen.Facts{Mark: filepath.Join(dir, "mark"), Leave: []shellgen.Restore{
		{Name: "AWS_ACCESS_KEY_ID", Set: &role, Original: &v},
		{Name: "AWS_SESSION_TOKEN", Set: &tok},
		{Name: "AWS_PROFILE", Original: &profile},
		{Name: "AWS_REGION", Set: &region, Original: &profile},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "answer"), []byte(answer), 0o600); err != nil {
		t.Fatal(err)
	}
	a := argv(t, dir, answer)
	cmd := exec.Command(a[0], a[1:]...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LANG=C.UTF-8"}
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("%s: %v\n%s", shell, err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range strings.Split(string(data), "\x00") {
		if k, val, ok := strings.Cut(kv, "="); ok {
			env[k] = val
		}
	}
	return env
}
