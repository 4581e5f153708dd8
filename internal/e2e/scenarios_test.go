package e2e

import (
	"github.com/awsrole/awsrole/shellgen"

	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/stsstub"

	"github.com/awsrole/awsrole/internal/testrig/ptyshell"

	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

// The scenarios below run under bash, zsh and fish, each in its own rig
// (HOME, XDG dirs, STS stub) with the hook installed by `awsrole install`.

// wantEnv fails unless every listed variable of got has the wanted value
// (nil: unset).
func wantEnv(t *testing.T, what string, got map[string]*string, want map[string]*string) {
	t.Helper()
	var b strings.Builder
	for k, w := range want {
		g := got[k]
		if (w == nil) != (g == nil) || (w != nil && *w != *g) {
			b.WriteString("  " + k + ": want " + show(w) + ", got " + show(g) + "\n")
		}
	}
	if b.Len() > 0 {
		t.Errorf("%s:\n%s", what, b.String())
	}
}

// wantSame fails unless the managed variables are byte for byte the same.
func wantSame(t *testing.T, what string, want, got map[string]*string) {
	t.Helper()
	if d := diffVars(want, got); d != "" {
		t.Errorf("%s: managed variables differ:\n%s", what, d)
	}
}

// wantActive checks the variables of an active role.
func wantActive(t *testing.T, r *rig, what string, env map[string]*string, role, dir, region string) {
	t.Helper()
	want := map[string]*string{
		"AWSROLE_ARN": sp(role), "AWSROLE_DIR": sp(dir),
		"AWS_PROFILE": nil, "AWS_DEFAULT_PROFILE": nil, "AWS_SECURITY_TOKEN": nil,
	}
	if region != "" {
		want["AWS_REGION"], want["AWS_DEFAULT_REGION"] = sp(region), sp(region)
	}
	wantEnv(t, what, env, want)
	if k := env["AWS_ACCESS_KEY_ID"]; k == nil || !strings.HasPrefix(*k, "ASIA") {
		t.Errorf("%s: AWS_ACCESS_KEY_ID = %s, want an issued ASIA… key", what, show(k))
	}
	for _, k := range []string{"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if v := env[k]; v == nil || *v == "" {
			t.Errorf("%s: %s = %s, want the issued value", what, k, show(v))
		}
	}
	if v := env["AWS_CREDENTIAL_EXPIRATION"]; v == nil {
		t.Errorf("%s: AWS_CREDENTIAL_EXPIRATION unset", what)
	} else if exp, err := time.Parse(time.RFC3339, *v); err != nil || !exp.After(time.Now()) || exp.Location() != time.UTC {
		t.Errorf("%s: AWS_CREDENTIAL_EXPIRATION = %q, want a future UTC RFC 3339 time (%v)", what, *v, err)
	}
	snapDir := filepath.Join(*r.Env["XDG_STATE_HOME"], "awsrole", "snapshots")
	if v := env["AWSROLE_STATE"]; v == nil || filepath.Dir(*v) != snapDir {
		t.Errorf("%s: AWSROLE_STATE = %s, want a file in %s", what, show(v), snapDir)
	} else if _, err := os.Stat(*v); err != nil {
		t.Errorf("%s: AWSROLE_STATE points at a missing snapshot: %v", what, err)
	}
}

// callerArn asks STS, from inside the shell (with exactly the environment
// its children get), whom the shell's credentials sign as, and returns the
// ARN or the client's error message.
func callerArn(s *shell) string {
	return strings.TrimSpace(s.Run(callerCommand(s) + " 2>&1"))
}

// callerCommand is the client callerArn runs in s. In bash it is the real
// aws CLI, the independent client DESIGN.md §6 names (botocore: its own
// signing, its own reading of the variables, AWS_CREDENTIAL_EXPIRATION
// included). In the other shells it is the Go SDK's default chain in this
// test binary (goCaller), an independent client too, signed and checked by
// the stand-in: what reaches a child is the same variables in every shell
// (Managed compares them byte for byte), while one Python aws CLI run cost
// about 0.8 s of CPU, 37 % of this package's CPU when every shell ran it.
func callerCommand(s *shell) string {
	if s.kind == "bash" {
		return "aws sts get-caller-identity --query Arn --output text"
	}
	return goCaller
}

func wantAssumes(t *testing.T, r *rig, session string, n int) []stsstub.Call {
	t.Helper()
	calls := r.assumeCalls(session)
	if len(calls) != n {
		t.Errorf("AssumeRole calls for session %s: got %d, want %d; stub log:\n%s", session, len(calls), n, hermetic.DescribeCalls(r.Stub.Calls()))
	}
	for _, c := range calls {
		if c.AccessKeyID != userKey {
			t.Errorf("AssumeRole for session %s signed with %s, want the user's own key %s; stub log:\n%s", session, c.AccessKeyID, userKey, hermetic.DescribeCalls(r.Stub.Calls()))
		}
	}
	return calls
}

// 1. Enter, use the role with the aws CLI, leave: originals back exactly.
func TestEnterLeave(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, map[string]*string{
			"AWS_ACCESS_KEY_ID":     nil,
			"AWS_SECRET_ACCESS_KEY": nil,
			"AWS_PROFILE":           sp("corp"), // the user's key, from ~/.aws/credentials
			"AWS_SESSION_TOKEN":     sp(""),     // set to the empty string
			"AWS_DEFAULT_REGION":    sp(""),
			"AWS_DEFAULT_PROFILE":   nil,
		})
		r.install(kind)
		proj := r.project("payments", roleDeploy, "e2e-s1", "eu-west-1", true)
		s := r.startShell(kind, "", nil)

		before := s.Managed()
		wantEnv(t, "before entering", before, map[string]*string{
			"AWS_PROFILE": sp("corp"), "AWS_SESSION_TOKEN": sp(""), "AWS_DEFAULT_REGION": sp(""),
			"AWS_ACCESS_KEY_ID": nil, "AWS_DEFAULT_PROFILE": nil, "AWSROLE_STATE": nil, "AWS_REGION": sp("us-east-1"),
		})
		if calls := r.Stub.Calls(); len(calls) != 0 {
			t.Fatalf("STS calls before entering a project:\n%s", hermetic.DescribeCalls(calls))
		}

		s.Run(s.Cd(proj))
		in := s.Managed()
		wantActive(t, r, "inside", in, roleDeploy, proj, "eu-west-1")

		if got, want := callerArn(s), "arn:aws:sts::222222222222:assumed-role/deploy/e2e-s1"; got != want {
			t.Errorf("get-caller-identity inside the project: %q, want %q", got, want)
		}
		calls := r.Stub.Calls()
		if len(calls) == 0 || calls[0].Action != "AssumeRole" || calls[0].AccessKeyID != userKey ||
			calls[0].RoleArn != roleDeploy || calls[0].RoleSessionName != "e2e-s1" || calls[0].Status != 200 {
			t.Errorf("want the first STS call to be a successful AssumeRole of %s signed with %s; stub log:\n%s", roleDeploy, userKey, hermetic.DescribeCalls(calls))
		}
		wantAssumes(t, r, "", 1)
		var gci []stsstub.Call
		for _, c := range calls {
			if c.Action == "GetCallerIdentity" {
				gci = append(gci, c)
			}
		}
		if len(gci) != 1 || in["AWS_ACCESS_KEY_ID"] == nil || gci[0].AccessKeyID != *in["AWS_ACCESS_KEY_ID"] {
			t.Errorf("want one GetCallerIdentity from callerArn's client signed with the exported key %s; stub log:\n%s", show(in["AWS_ACCESS_KEY_ID"]), hermetic.DescribeCalls(calls))
		}

		s.Run(s.Cd(r.Home))
		wantSame(t, "after leaving", before, s.Managed())
	})
}

// 2. Straight from project A to project B.
func TestSwitch(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, map[string]*string{
			"AWS_SECURITY_TOKEN":  sp(""),
			"AWS_DEFAULT_PROFILE": sp("legacy"),
			"AWS_PROFILE":         nil,
		})
		r.install(kind)
		a := r.project("a", roleDeploy, "e2e-s2a", "eu-west-1", true)
		b := r.project("b", roleAudit, "e2e-s2b", "", true)
		r.settle()
		s := r.startShell(kind, "", nil)
		before := s.Managed()

		s.Run(s.Cd(a))
		inA := s.Managed()
		wantActive(t, r, "in A", inA, roleDeploy, a, "eu-west-1")

		s.Run(s.Cd(b))
		inB := s.Managed()
		// B names no region: the user's own come back.
		wantActive(t, r, "in B", inB, roleAudit, b, "")
		wantEnv(t, "in B (no region in the file)", inB, map[string]*string{
			"AWS_REGION": sp("us-east-1"), "AWS_DEFAULT_REGION": sp("us-east-1"),
		})
		if show(inA["AWS_ACCESS_KEY_ID"]) == show(inB["AWS_ACCESS_KEY_ID"]) {
			t.Errorf("B kept A's key %s", show(inA["AWS_ACCESS_KEY_ID"]))
		}
		wantAssumes(t, r, "e2e-s2a", 1)
		// B's source is the user's own key, never A's issued one.
		wantAssumes(t, r, "e2e-s2b", 1)

		s.Run(s.Cd(r.Home))
		wantSame(t, "after leaving B", before, s.Managed())
	})
}

// 3. Nested project directories: the nearest file wins.
func TestNestedDirs(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, nil)
		r.install(kind)
		p := r.project("p", roleDeploy, "e2e-s3a", "eu-west-1", true)
		// A space in the inner project's name: a hook that splits the
		// directory into words would find /p's file from "/p/sub".
		sub := r.project(filepath.Join("p", "sub dir"), roleAudit, "e2e-s3b", "eu-central-1", true)
		deeper := filepath.Join(sub, "deeper")
		if err := os.MkdirAll(deeper, 0o755); err != nil {
			t.Fatal(err)
		}
		r.settle()
		s := r.startShell(kind, "", nil)
		before := s.Managed()

		s.Run(s.Cd(p))
		inP := s.Managed()
		wantActive(t, r, "in /p", inP, roleDeploy, p, "eu-west-1")

		s.Run(s.Cd(sub))
		inSub := s.Managed()
		wantActive(t, r, "in /p/sub dir", inSub, roleAudit, sub, "eu-central-1")

		s.Run(s.Cd(deeper))
		wantSame(t, "/p/sub dir/deeper against /p/sub dir", inSub, s.Managed())

		s.Run(s.Cd(p))
		back := s.Managed()
		wantActive(t, r, "back in /p", back, roleDeploy, p, "eu-west-1")
		if show(back["AWS_ACCESS_KEY_ID"]) != show(inP["AWS_ACCESS_KEY_ID"]) {
			t.Errorf("back in /p: key %s, want the cached %s", show(back["AWS_ACCESS_KEY_ID"]), show(inP["AWS_ACCESS_KEY_ID"]))
		}
		wantAssumes(t, r, "e2e-s3a", 1)
		wantAssumes(t, r, "e2e-s3b", 1)

		s.Run(s.Cd(r.Home))
		wantSame(t, "after leaving", before, s.Managed())
	})
}

// 4. A shell started inside a project, and a second terminal that inherited
// the environment: neither corrupts the other's saved originals.
func TestNestedShell(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, map[string]*string{"AWS_PROFILE": sp("corp"), "AWS_SESSION_TOKEN": sp("")})
		r.install(kind)
		a := r.project("a", roleDeploy, "e2e-s4", "eu-west-1", true)
		r.settle()
		s := r.startShell(kind, "", nil)
		before := s.Managed()

		s.Run(s.Cd(a))
		inA := s.Managed()
		wantActive(t, r, "parent in A", inA, roleDeploy, a, "eu-west-1")

		// A child shell, reading the same rc file.
		s.Nest()
		if lvl := strings.TrimSpace(s.Run(`printf '%s\n' "$SHLVL"`)); lvl != "2" {
			t.Fatalf("child shell: SHLVL=%q, want 2", lvl)
		}
		child := s.Managed()
		delete(child, "AWSROLE_STATE")
		wantEnv(t, "child in A", child, without(inA, "AWSROLE_STATE"))

		s.Run(s.Cd(r.Home))
		wantSame(t, "child after leaving", before, s.Managed())
		s.Run(s.Cd(a))
		wantActive(t, r, "child back in A", s.Managed(), roleDeploy, a, "eu-west-1")
		s.Unnest()
		if lvl := strings.TrimSpace(s.Run(`printf '%s\n' "$SHLVL"`)); lvl != "1" {
			t.Fatalf("after the child's exit: SHLVL=%q, want 1", lvl)
		}

		wantSame(t, "parent after its child came and went", inA, s.Managed())
		s.Run(s.Cd(r.Home))
		wantSame(t, "parent after leaving", before, s.Managed())

		// A second terminal that inherited the environment of a shell in A
		// (a multiplexer's new window): the first leaves while it stays.
		s.Run(s.Cd(a))
		inA2 := s.Managed()
		inherited := map[string]*string{}
		for k, v := range s.Env() {
			switch k {
			case "PWD", "OLDPWD", "SHLVL", "_":
			default:
				inherited[k] = v
			}
		}
		for k := range r.Env {
			if _, ok := inherited[k]; !ok {
				inherited[k] = nil // unset in the first shell: unset here too
			}
		}
		s2 := r.startShell(kind, a, inherited)
		wantEnv(t, "second terminal in A", s2.Managed(), without(inA2, "AWSROLE_STATE"))
		s.Run(s.Cd(r.Home))
		wantSame(t, "first terminal after leaving", before, s.Managed())
		s2.Run("true")
		wantEnv(t, "second terminal after the first left", s2.Managed(), without(inA2, "AWSROLE_STATE"))
		s2.Run(s2.Cd(r.Home))
		wantSame(t, "second terminal after leaving", before, s2.Managed())
		wantAssumes(t, r, "e2e-s4", 1)
	})
}

func without(m map[string]*string, keys ...string) map[string]*string {
	out := map[string]*string{}
	for k, v := range m {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// 5. Values the user sets by hand inside a project are theirs.
func TestHandEdits(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, map[string]*string{"AWS_DEFAULT_PROFILE": nil})
		r.install(kind)
		a := r.project("a", roleDeploy, "e2e-s5", "eu-west-1", true)
		r.settle()
		s := r.startShell(kind, "", nil)
		before := s.Managed()

		s.Run(s.Cd(a))
		wantActive(t, r, "inside", s.Managed(), roleDeploy, a, "eu-west-1")
		s.Run(s.Export("AWS_REGION", "ap-south-1"))
		s.Run(s.Export("AWS_DEFAULT_PROFILE", "handmade"))
		s.Run("true")
		wantEnv(t, "inside, after the hand edits and a prompt", s.Managed(), map[string]*string{
			"AWS_REGION": sp("ap-south-1"), "AWS_DEFAULT_PROFILE": sp("handmade"), "AWS_DEFAULT_REGION": sp("eu-west-1"),
		})

		s.Run(s.Cd(r.Home))
		want := without(before)
		want["AWS_REGION"] = sp("ap-south-1")
		want["AWS_DEFAULT_PROFILE"] = sp("handmade")
		wantSame(t, "after leaving", want, s.Managed())
	})
}

// 6. Credentials close to expiry are renewed at a prompt, without a cd.
func TestRenewal(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r, a, s := renewingShell(t, kind, "e2e-s6")
		before := s.Managed()

		s.Run(s.Cd(a))
		in1 := s.Managed()
		wantActive(t, r, "entered", in1, roleDeploy, a, "eu-west-1")
		calls := wantAssumes(t, r, "e2e-s6", 1)
		if len(calls) == 0 {
			t.FailNow()
		}
		busy.Wait(t) // the rest waits for the window, with a few prompts
		time.Sleep(time.Until(calls[0].Time.Add(renewRoom + time.Second)))
		s.Run("true")
		in2 := s.Managed()
		wantActive(t, r, "after the renewal", in2, roleDeploy, a, "eu-west-1")
		if show(in2["AWS_ACCESS_KEY_ID"]) == show(in1["AWS_ACCESS_KEY_ID"]) {
			t.Errorf("AWS_ACCESS_KEY_ID still %s after the prompt inside the refresh window", show(in1["AWS_ACCESS_KEY_ID"]))
		}
		if show(in2["AWS_CREDENTIAL_EXPIRATION"]) == show(in1["AWS_CREDENTIAL_EXPIRATION"]) {
			t.Errorf("AWS_CREDENTIAL_EXPIRATION still %s after the renewal", show(in1["AWS_CREDENTIAL_EXPIRATION"]))
		}
		wantAssumes(t, r, "e2e-s6", 2)
		if got, want := callerArn(s), "arn:aws:sts::222222222222:assumed-role/deploy/e2e-s6"; got != want {
			t.Errorf("get-caller-identity after the renewal: %q, want %q", got, want)
		}
		s.Run(s.Cd(r.Home))
		wantSame(t, "after leaving", before, s.Managed())
	})
}

// 7. Directory names that would run code if quoted wrongly.
func TestHostileDirNames(t *testing.T) {
	names := []string{
		"with space",
		"it's",
		`say "hi"`,
		"$x",
		"$(touch PWNED)",
		"`touch PWNED2`",
		"é✓",
		"new\nline",
		"end\n",
		"glob*?[x]",
		" lead'\"$x$(touch PWNED3)\\n;`touch PWNED4`|&é✓*\n\t",
	}
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, map[string]*string{"x": sp("EXPANDED")})
		// Options users do set, which change how unquoted words expand.
		switch kind {
		case "bash":
			r.appendFile(".bashrc", "shopt -s nullglob extglob\n")
		case "zsh":
			r.appendFile(".zshrc", "setopt SH_WORD_SPLIT GLOB_SUBST NULL_GLOB\n")
		}
		r.install(kind)
		var dirs []string
		for i, n := range names {
			if ptyshell.Table[kind].CdTrims && strings.TrimRight(n, " \t\n") != n {
				t.Logf("%s: skipping %q: its cd cannot reach a name ending in white space", kind, n)
				continue
			}
			// Each its own parent, so one bad name cannot hide another.
			dirs = append(dirs, r.project(filepath.Join("hostile", string(rune('a'+i)), n), roleDeploy, "e2e-s7", "eu-west-1", true))
		}
		r.settle()
		s := r.startShell(kind, "", nil)
		// A few prompts at home first, as in real use: a bash or zsh hook
		// that skips calls when it thinks nothing changed is then surely
		// past its first, always-calling, prompts.
		s.Run("true")
		before := s.Managed()
		// Some on their own, from a directory without a file (enter, leave),
		// then all straight from one to the next (each is its own file: a
		// switch), then out.
		n := len(dirs)
		steps := []string{dirs[0], "", dirs[n-2], "", dirs[n-1], ""}
		prev := ""
		for _, d := range append(append(steps, dirs...), "") {
			if d == "" {
				s.Run(s.Cd(r.Home))
				wantSame(t, "after leaving "+strconvQuote(prev), before, s.Managed())
				continue
			}
			prev = d
			out, full := s.RunFull(s.Cd(d))
			if lines := awsroleLines(full); len(lines) > 0 || strings.Contains(out, "No such file") {
				t.Errorf("entering %q printed %q", d, full)
			}
			wantActive(t, r, "in "+strconvQuote(d), s.Managed(), roleDeploy, d, "eu-west-1")
		}
		wantAssumes(t, r, "e2e-s7", 1)
		r.noPWNED()
	})
}

func strconvQuote(s string) string { return show(&s) }

// 8. An STS failure: one line, nothing changed, no retry at the next prompt.
func TestAssumeFailure(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, nil)
		r.install(kind)
		a := r.project("a", roleDeploy, "e2e-s8", "eu-west-1", true)
		if err := os.MkdirAll(filepath.Join(a, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		r.Stub.FailNext("AssumeRole", 1, stsstub.Fault{Status: 403, Code: "AccessDenied", Message: "User is not authorized to perform sts:AssumeRole (e2e)"})
		s := r.startShell(kind, "", nil)
		before := s.Managed()

		_, full := s.RunFull(s.Cd(a))
		lines := awsroleLines(full)
		if len(lines) != 1 || !strings.Contains(lines[0], roleDeploy) || !strings.Contains(lines[0], "AccessDenied") {
			t.Errorf("entering with STS denying: want exactly one awsrole: line naming %s and AccessDenied, got %q (terminal: %q)", roleDeploy, lines, full)
		}
		wantSame(t, "after the failure", before, s.Managed())
		for i := 0; i < 2; i++ {
			if _, full := s.RunFull("true"); len(awsroleLines(full)) > 0 {
				t.Errorf("prompt %d after the failure printed %q", i+1, full)
			}
		}
		wantAssumes(t, r, "e2e-s8", 1)
		wantSame(t, "after more prompts", before, s.Managed())

		// Another directory is another attempt (the fault is used up).
		s.Run(s.Cd(filepath.Join(a, "sub")))
		wantAssumes(t, r, "e2e-s8", 2)
		wantActive(t, r, "in a/sub after the failure in a", s.Managed(), roleDeploy, a, "eu-west-1")
		s.Run(s.Cd(r.Home))
		wantSame(t, "after leaving", before, s.Managed())
	})
}

// 8b. Leaving and coming back is a change of directory too: it retries
// (DESIGN: failures "are not retried for a minute unless the directory or
// file changes"), or at least says why nothing happened.
func TestAssumeFailureReenter(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, nil)
		r.install(kind)
		a := r.project("a", roleDeploy, "e2e-s8b", "eu-west-1", true)
		r.Stub.FailNext("AssumeRole", 1, stsstub.Fault{Status: 403, Code: "AccessDenied"})
		s := r.startShell(kind, "", nil)
		before := s.Managed()
		s.Run(s.Cd(a))
		wantSame(t, "after the failure", before, s.Managed())
		s.Run(s.Cd(r.Home))
		_, full := s.RunFull(s.Cd(a))
		env := s.Managed()
		if env["AWSROLE_ARN"] == nil && len(awsroleLines(full)) == 0 {
			t.Errorf("entering %s again after leaving it: no role and no message (terminal: %q); stub log:\n%s", a, full, hermetic.DescribeCalls(r.Stub.Calls()))
		}
		wantAssumes(t, r, "e2e-s8b", 2)
		wantActive(t, r, "after leaving and entering again", env, roleDeploy, a, "eu-west-1")
	})
}

// 9. A file nobody approved: one notice, no STS call, nothing exported.
func TestUnapproved(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, nil)
		r.install(kind)
		a := r.project("a", roleDeploy, "e2e-s9", "eu-west-1", false)
		s := r.startShell(kind, "", nil)
		before := s.Managed()

		_, full := s.RunFull(s.Cd(a))
		lines := awsroleLines(full)
		if len(lines) != 1 || !strings.Contains(lines[0], filepath.Join(a, ".awsrole.toml")) || !strings.Contains(lines[0], "awsrole allow") {
			t.Errorf("entering an unapproved project: want one awsrole: line naming the file and 'awsrole allow', got %q (terminal: %q)", lines, full)
		}
		for i := 0; i < 2; i++ {
			if _, full := s.RunFull("true"); len(awsroleLines(full)) > 0 {
				t.Errorf("prompt %d printed the notice again: %q", i+1, full)
			}
		}
		wantSame(t, "in an unapproved project", before, s.Managed())
		if calls := r.Stub.Calls(); len(calls) != 0 {
			t.Errorf("STS calls for an unapproved file:\n%s", hermetic.DescribeCalls(calls))
		}

		s.Run("awsrole allow .")
		s.Run("true")
		wantActive(t, r, "after awsrole allow", s.Managed(), roleDeploy, a, "eu-west-1")
		wantAssumes(t, r, "e2e-s9", 1)
	})
}

// 10. The hook keeps the exit status the user's prompt may show, whether
// it changed variables (entering) or not.
func TestExitStatus(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, nil)
		r.install(kind)
		a := r.project("a", roleDeploy, "e2e-s10", "eu-west-1", true)
		r.settle()
		s := r.startShell(kind, "", nil)
		sent := s.Len()
		s.Send(s.Cd(a) + "; sh -c 'exit 3'")
		if got := s.StatusOr(sent, "3"); got != "3" {
			t.Errorf("status after entering with a failing command: %q, want 3", got)
		}
		wantActive(t, r, "inside", s.Managed(), roleDeploy, a, "eu-west-1")
		sent = s.Len()
		s.Send("sh -c 'exit 7'")
		if got := s.StatusOr(sent, "7"); got != "7" {
			t.Errorf("status after a failing command inside: %q, want 7", got)
		}
	})
}

// 11. The saved state is lost while a role is active (the user cleaned
// ~/.local/state): awsrole changes nothing and says "unset AWSROLE_STATE to
// start afresh". Following that advice must not turn the role's credentials
// into the user's own: they are never a source for AssumeRole, and leaving
// does not keep them, with awsrole's markers, as if they were the user's.
func TestLostSnapshot(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, nil)
		r.install(kind)
		a := r.project("a", roleDeploy, "e2e-s11", "eu-west-1", true)
		s := r.startShell(kind, "", nil)
		s.Run(s.Cd(a))
		in := s.Managed()
		wantActive(t, r, "inside", in, roleDeploy, a, "eu-west-1")

		if err := os.RemoveAll(filepath.Join(*r.Env["XDG_STATE_HOME"], "awsrole")); err != nil {
			t.Fatal(err)
		}
		// (A bash or zsh hook that sees nothing changed may not even call
		// awsrole here; when it does, awsrole says the state is gone.)
		s.Run("true")
		wantSame(t, "after the state was lost", in, s.Managed())

		s.Run(s.Unset("AWSROLE_STATE"))
		s.Run("true")
		for _, c := range r.assumeCalls("") {
			if c.AccessKeyID != userKey {
				t.Errorf("after unset AWSROLE_STATE: AssumeRole signed with %s, not the user's own key %s: awsrole's own credentials became a source; stub log:\n%s", c.AccessKeyID, userKey, hermetic.DescribeCalls(r.Stub.Calls()))
				break
			}
		}
		s.Run(s.Cd(r.Home))
		out := s.Managed()
		wantEnv(t, "after leaving", out, map[string]*string{"AWSROLE_ARN": nil, "AWSROLE_DIR": nil, "AWSROLE_STATE": nil})
		if k := out["AWS_ACCESS_KEY_ID"]; k != nil && strings.HasPrefix(*k, "ASIA") {
			t.Errorf("after leaving: AWS_ACCESS_KEY_ID = %s, a role's temporary key kept as if it were the user's own (the user's is %s)", *k, userKey)
		}
	})
}

// 12. The binary lives in a directory with an awkward name (spaces, quotes,
// $, backquotes): `awsrole install` run from there, twice (the second run
// changes nothing), gives a hook that works.
func TestInstallFromOddPath(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, map[string]*string{"x": sp("EXPANDED")})
		dir := filepath.Join(r.Root, "my bin", "it's $x `touch PWNED`")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, "awsrole")
		// cp, not a write from this process: a file open for writing here
		// would be inherited by the shells other tests fork meanwhile
		// ("text file busy").
		if out, err := exec.Command("cp", awsroleBin, bin).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
		var rc []byte
		for i := 0; i < 2; i++ {
			cmd := exec.Command(bin, "install", kind)
			cmd.Dir = r.Home
			cmd.Env = r.Environ(nil)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s install %s: %v\n%s", bin, kind, err, out)
			}
			in, err := shellgen.InstallFor(kind, bin, func(k string) string {
				if v := r.Env[k]; v != nil {
					return *v
				}
				return ""
			})
			if err != nil {
				t.Fatal(err)
			}
			rcFile := in.File
			data, err := os.ReadFile(rcFile)
			if err != nil {
				t.Fatal(err)
			}
			if i == 1 && string(data) != string(rc) {
				t.Errorf("a second install changed %s:\n%s\n---\n%s", rcFile, rc, data)
			}
			rc = data
		}
		a := r.project("a", roleDeploy, "e2e-s12", "eu-west-1", true)
		s := r.startShell(kind, "", nil)
		before := s.Managed()
		_, full := s.RunFull(s.Cd(a))
		wantActive(t, r, "inside (terminal: "+strconvQuote(full)+")", s.Managed(), roleDeploy, a, "eu-west-1")
		s.Run(s.Cd(r.Home))
		wantSame(t, "after leaving", before, s.Managed())
		r.noPWNED()
	})
}

// The credentials of renewingShell: issued for renewLife, renewed at a
// prompt once renewRoom has passed. renewRoom is room for a loaded machine
// to finish entering before the renewal window opens; what is left after
// it (renewLife - renewRoom, also refresh_before) is room for the failed
// renewal test's prompts and clients before the credentials expire. The
// failed renewal test waits the whole renewLife.
const (
	renewLife = 45 * time.Second
	renewRoom = 15 * time.Second
)

// renewingShell is a rig whose credentials last renewLife and are renewed
// once less than renewLife - renewRoom is left, a project A (session name
// session) and a shell of kind started at home.
func renewingShell(t *testing.T, kind string, session string) (*rig, string, *shell) {
	t.Helper()
	r := newRig(t, nil)
	r.userConfig(fmt.Sprintf("refresh_before = \"%s\"\n", renewLife-renewRoom))
	r.Stub.SetSessionDuration(renewLife)
	r.install(kind)
	a := r.project("a", roleDeploy, session, "eu-west-1", true)
	return r, a, r.startShell(kind, "", nil)
}
