package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/stsstub"
)

// Issue 10: the directory decides even on failure, nothing the hook keeps is
// exported, and the user's shell options do not change what it does.

// wantLeftOnce checks the terminal of a failed switch from a to B: exactly
// one awsrole: line, naming what (the role or the file) and saying a was
// left.
func wantLeftOnce(t *testing.T, full, what, a string) {
	t.Helper()
	lines := errorLines(full)
	if len(lines) != 1 || !strings.Contains(lines[0], what) || !strings.HasSuffix(lines[0], "; left "+a) {
		t.Errorf("failed switch: want one awsrole: line naming %s and ending \"; left %s\", got %q (terminal: %q)", what, a, lines, full)
	}
}

// 1. Entering B fails while A is active: A is left all the same, exactly
// as on a cd to a directory without a file; the next prompts in B say
// nothing and stay left.
func TestFailedSwitchLeaves(t *testing.T) {
	t.Parallel()
	type cause struct {
		name string
		// prepare runs before the shell starts; fail makes entering b fail
		// once the shell is in A, and returns what the terminal showed from
		// the cd to the next prompt and what the error line names.
		prepare func(r *rig, b string)
		fail    func(t *testing.T, r *rig, s *shell, b string) (full, names string)
	}
	cd := func(t *testing.T, r *rig, s *shell, b string) string {
		_, full := s.RunFull(s.Cd(b))
		return full
	}
	causes := []cause{
		{"AccessDenied", nil, func(t *testing.T, r *rig, s *shell, b string) (string, string) {
			r.Stub.FailNext("AssumeRole", 1, stsstub.Fault{Status: 403, Code: "AccessDenied", Message: "not authorized (e2e)"})
			return cd(t, r, s, b), roleAudit
		}},
		{"wrong MFA code", func(r *rig, b string) {
			r.Stub.RequireMFA(roleAudit, mfaSerial, mfaCode)
			r.write(filepath.Join(b, ".awsrole.toml"), "role_arn = \""+roleAudit+"\"\nsession_name = \"e2e-fs-b\"\nmfa_serial = \""+mfaSerial+"\"\n")
			r.awsrole(b, "allow", b)
		}, func(t *testing.T, r *rig, s *shell, b string) (string, string) {
			return enterWithCode(t, s, b, "654321"), roleAudit
		}},
		{"STS down", nil, func(t *testing.T, r *rig, s *shell, b string) (string, string) {
			r.Stub.FailNext("AssumeRole", 20, stsstub.Fault{Close: true})
			return cd(t, r, s, b), roleAudit
		}},
		// An approved file that can no longer be used: its policy_file
		// became a directory (once a crash at every prompt).
		{"broken file", func(r *rig, b string) {
			r.write(filepath.Join(b, ".awsrole.toml"), "role_arn = \""+roleAudit+"\"\nsession_name = \"e2e-fs-b\"\npolicy_file = \"docs\"\n")
			r.write(filepath.Join(b, "docs"), `{"Statement": []}`)
			r.awsrole(b, "allow", b)
			os.Remove(filepath.Join(b, "docs"))
			r.write(filepath.Join(b, "docs", "README.md"), "docs\n")
		}, func(t *testing.T, r *rig, s *shell, b string) (string, string) {
			return cd(t, r, s, b), filepath.Join(b, ".awsrole.toml")
		}},
	}
	for _, c := range causes {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			forEachShell(t, func(t *testing.T, kind string) {
				r := newRig(t, nil)
				r.install(kind)
				a := r.project("a", roleDeploy, "e2e-fs-a", "eu-west-1", true)
				b := r.project("b", roleAudit, "e2e-fs-b", "", true)
				if c.prepare != nil {
					c.prepare(r, b)
				}
				r.settle()
				s := r.startShell(kind, "", nil)
				before := s.Managed()
				s.Run(s.Cd(a))
				wantActive(t, r, "in A", s.Managed(), roleDeploy, a, "eu-west-1")

				full, names := c.fail(t, r, s, b)
				wantLeftOnce(t, full, names, a)
				wantSame(t, "in B after the failed switch", before, s.Managed())
				if got := callerArn(s); got != userARN {
					t.Errorf("get-caller-identity in B after the failed switch: %q, want the user %q", got, userARN)
				}
				for i := 0; i < 2; i++ {
					if _, full := s.RunFull("true"); len(awsroleLines(full)) > 0 {
						t.Errorf("prompt %d in B after the failed switch printed %q", i+1, full)
					}
				}
				wantSame(t, "in B after more prompts", before, s.Managed())
				s.Run(s.Cd(r.Home))
				wantSame(t, "at home", before, s.Managed())
			})
		})
	}
}

// 1b. A renewal failing inside the project keeps its credentials and says
// so once; expired, they fail closed (ExpiredToken), are never replaced by
// the user's own, and status shows them as expired.
func TestFailedRenewalKeeps(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		// (The wait for their expiry, renewLife, makes this test long.)
		// Every AssumeRole after the one entering fails, whenever it
		// comes.
		r, a, s := renewingShell(t, kind, "e2e-renew-fail")
		r.Stub.FailAfter("AssumeRole", 1, 1000, stsstub.Fault{Status: 503, Code: "ServiceUnavailable", Message: "down (e2e)"})
		s.Run(s.Cd(a))
		in := s.Managed()
		wantActive(t, r, "entered", in, roleDeploy, a, "eu-west-1")
		calls := wantAssumes(t, r, "e2e-renew-fail", 1)
		if len(calls) == 0 || in["AWS_CREDENTIAL_EXPIRATION"] == nil {
			t.FailNow()
		}
		// The rest waits for the window and the expiry, with a few
		// prompts: it needs no slot, and it must not queue for one.
		busy.Wait(t)
		time.Sleep(time.Until(calls[0].Time.Add(renewRoom + time.Second)))

		_, full := s.RunFull("true")
		if lines := awsroleLines(full); len(lines) != 1 || !strings.Contains(lines[0], "kept the credentials of "+a) {
			t.Errorf("failed renewal: want one awsrole: line saying A's credentials were kept, got %q (terminal: %q)", lines, full)
		}
		if _, full := s.RunFull("true"); len(awsroleLines(full)) > 0 {
			t.Errorf("the prompt after the failed renewal printed %q", full)
		}
		wantSame(t, "after the failed renewal", in, s.Managed())
		if got, want := callerArn(s), "arn:aws:sts::222222222222:assumed-role/deploy/e2e-renew-fail"; got != want {
			t.Errorf("get-caller-identity while still valid: %q, want %q", got, want)
		}

		exp, err := time.Parse(time.RFC3339, *in["AWS_CREDENTIAL_EXPIRATION"])
		if err != nil {
			t.Fatal(err)
		}
		// STS sees them expired first: requests fail closed. The client is
		// asked without the expiry, which the aws CLI checks against its
		// own clock (below), so that what answers is STS.
		r.Stub.ExpireAll()
		if got := strings.TrimSpace(s.Run("env -u AWS_CREDENTIAL_EXPIRATION " + callerCommand(s) + " 2>&1")); !strings.Contains(got, "ExpiredToken") {
			t.Errorf("get-caller-identity with the kept credentials expired at STS: %q, want ExpiredToken", got)
		}

		time.Sleep(time.Until(exp.Add(1500 * time.Millisecond)))
		s.Run("true")
		wantSame(t, "after expiry", in, s.Managed())
		// The aws CLI (bash) reads AWS_CREDENTIAL_EXPIRATION too, and
		// refuses itself; the Go SDK does not, and STS refuses it.
		if got := callerArn(s); strings.Contains(got, "arn:") || !strings.Contains(got, "xpired") {
			t.Errorf("get-caller-identity with the kept, expired credentials: %q, want a refusal (expired)", got)
		}
		if got := strings.TrimSpace(s.Run("awsrole status --short")); got != "deploy@222222222222 expired" {
			t.Errorf("status --short after expiry: %q, want \"deploy@222222222222 expired\"", got)
		}
		if got := s.Run("awsrole status"); !strings.Contains(got, "(expired)") {
			t.Errorf("status after expiry does not say expired:\n%s", got)
		}
	})
}

// 5. Under allexport no child sees the user's original secret or any of
// the hook's variables, whichever way the shell moved.
func TestAllExportKeepsSecrets(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, nil)
		switch kind {
		case "bash":
			r.appendFile(".bashrc", "set -a\n")
		case "zsh":
			r.appendFile(".zshrc", "setopt allexport\n")
		case "fish":
			// A universal, exported variable of the hook's, as an older
			// version or a careless `set -Ux` leaves it.
			cmd := exec.Command(shells["fish"], "-c", "set -Ux __awsrole_after_cd stale")
			cmd.Env = r.Environ(nil)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("fish set -Ux: %v %s", err, out)
			}
		}
		r.install(kind)
		a := r.project("a", roleDeploy, "e2e-allexport-a", "eu-west-1", true)
		b := r.project("b", roleAudit, "e2e-allexport-b", "", true)
		if err := os.MkdirAll(filepath.Join(a, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		r.settle()
		s := r.startShell(kind, "", nil)
		check := func(what string, inside bool) {
			t.Helper()
			env := s.Env()
			for k, v := range env {
				if strings.Contains(k, "__awsrole_") || strings.Contains(k, "_awsrole_hook") {
					t.Errorf("%s: a child sees the hook's %s", what, k)
				}
				if inside && strings.Contains(*v, userSecret) {
					t.Errorf("%s: a child sees the user's own secret key in %s", what, k)
				}
			}
		}
		check("at home", false)
		s.Run(s.Cd(a))
		wantActive(t, r, "in A", s.Managed(), roleDeploy, a, "eu-west-1")
		check("in A", true)
		s.Run("true")
		s.Run(s.Cd(filepath.Join(a, "sub")))
		check("in A/sub, after prompts", true)
		s.Run(s.Cd(b))
		check("in B", true)
		s.Run(s.Cd(r.Home))
		check("back home", false)
	})
}

// 6. The user's shell options change nothing: enter, leave and switch
// (between proj and Proj, different files) end with exactly the right
// variables, under each option.
func TestShellOptions(t *testing.T) {
	options := map[string][]struct{ name, rc string }{
		"bash": {
			{"nocasematch", "shopt -s nocasematch\n"},
			{"extglob", "shopt -s extglob\n"},
			{"nullglob", "shopt -s nullglob\n"},
			{"failglob", "shopt -s failglob\n"},
			{"set -u", "set -u\n"},
			{"set -e", "set -e\n"},
			{"posix", "set -o posix\n"},
			{"IFS", "IFS=/e\n"},
			{"functions", "cd() { builtin cd \"$@\" && echo cd-ran; }\ntest() { return 0; }\n[() { return 0; }\nprintf() { builtin printf \"$@\"; }\neval() { return 0; }\n"},
			{"aliases", "alias test=false eval=: '['=false export=: unset=: builtin=:\n"},
			{"alias on a keyword", "alias then='then false &&'\n"},
			{"set -k", "set -k\n"},
			{"all", "shopt -s nocasematch extglob nullglob failglob\nset -u -e -a\nIFS=/e\n"},
		},
		"zsh": {
			{"KSH_ARRAYS", "setopt KSH_ARRAYS\n"},
			{"SH_WORD_SPLIT", "setopt SH_WORD_SPLIT\n"},
			{"NO_UNSET", "setopt NO_UNSET\n"},
			{"ERR_EXIT", "setopt ERR_EXIT\n"},
			{"RC_EXPAND_PARAM", "setopt RC_EXPAND_PARAM\n"},
			{"functions", "test() { return 0 }\nprintf() { builtin printf \"$@\" }\neval() { return 0 }\n"},
			{"aliases", "alias test=false eval=: export=: unset=:\n"},
			{"all", "setopt KSH_ARRAYS SH_WORD_SPLIT NO_UNSET ERR_EXIT RC_EXPAND_PARAM ALL_EXPORT NO_CASE_MATCH GLOB_SUBST\n"},
		},
		"fish": {
			{"fish_features", ""},
		},
	}
	t.Parallel()
	for _, kind := range shellKinds {
		for _, opt := range options[kind] {
			t.Run(kind+"/"+strings.ReplaceAll(opt.name, " ", "_"), func(t *testing.T) {
				busy.Parallel(t)
				r := newRig(t, nil)
				r.install(kind)
				// After the hook line: the options are on when the hook
				// loads and at every prompt after.
				switch kind {
				case "bash":
					r.appendFile(".bashrc", opt.rc)
				case "zsh":
					r.appendFile(".zshrc", opt.rc)
				case "fish":
					cmd := exec.Command(shells["fish"], "-c", "set -U fish_features qmark-noglob no-stderr-nocaret no-regex-easyesc no-ampersand-nobg-in-token")
					cmd.Env = r.Environ(nil)
					if out, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("fish set -U fish_features: %v %s", err, out)
					}
				}
				// Names that differ only in case, with a space (word
				// splitting) and a glob character.
				lower := r.project("the proj*", roleDeploy, "e2e-opt-l", "eu-west-1", true)
				upper := r.project("the Proj*", roleAudit, "e2e-opt-u", "", true)
				r.settle()
				s := r.startShell(kind, "", nil)
				before := s.Managed()
				s.Run(s.Cd(lower))
				s.Run("true")
				wantActive(t, r, "in proj", s.Managed(), roleDeploy, lower, "eu-west-1")
				s.Run(s.Cd(r.Home))
				wantSame(t, "left proj", before, s.Managed())
				s.Run(s.Cd(lower))
				s.Run(s.Cd(upper))
				inUpper := s.Managed()
				wantActive(t, r, "switched from proj to Proj", inUpper, roleAudit, upper, "")
				wantEnv(t, "in Proj (no region in its file)", inUpper, map[string]*string{"AWS_REGION": sp("us-east-1"), "AWS_DEFAULT_REGION": sp("us-east-1")})
				s.Run(s.Cd(lower))
				wantActive(t, r, "switched back to proj", s.Managed(), roleDeploy, lower, "eu-west-1")
				s.Run(s.Cd(r.Home))
				wantSame(t, "left proj at the end", before, s.Managed())
				if full := s.Transcript(); strings.Contains(full, "awsrole:") || strings.Contains(full, "command not found") || strings.Contains(full, "unbound variable") || strings.Contains(full, "parameter not set") {
					t.Errorf("the terminal shows an error:\n%s", s.Tail())
				}
			})
		}
	}
}

// 8. A snapshot naming variables awsrole does not manage (BASH_ENV,
// LD_PRELOAD) is not used, and leaving never sets them.
func TestTamperedSnapshot(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, nil)
		r.install(kind)
		a := r.project("a", roleDeploy, "e2e-tamper", "eu-west-1", true)
		s := r.startShell(kind, "", nil)
		s.Run(s.Cd(a))
		in := s.Managed()
		wantActive(t, r, "in A", in, roleDeploy, a, "eu-west-1")

		path := *in["AWSROLE_STATE"]
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var snap map[string]any
		if err := json.Unmarshal(data, &snap); err != nil {
			t.Fatal(err)
		}
		evil := filepath.Join(r.Root, "evil.sh")
		for _, name := range []string{"BASH_ENV", "LD_PRELOAD"} {
			snap["originals"].(map[string]any)[name] = evil
			snap["applied"].(map[string]any)[name] = "unset"
		}
		if data, err = json.Marshal(snap); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		// A change of the user config makes the next prompt ask the binary,
		// which reads the snapshot.
		r.settle()
		r.userConfig("# touched\n")
		_, full := s.RunFull("true")
		if lines := awsroleLines(full); kind != "fish" && (len(lines) != 1 || !strings.Contains(lines[0], "damaged")) {
			t.Errorf("prompt after the snapshot was tampered with: want one line saying it is damaged, got %q", lines)
		}
		s.Run(s.Cd(r.Home))
		env := s.Env()
		for _, name := range []string{"BASH_ENV", "LD_PRELOAD"} {
			if v := env[name]; v != nil {
				t.Errorf("after leaving with a tampered snapshot: %s = %q", name, *v)
			}
		}
	})
}
