package reliability

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"

	"github.com/awsrole/awsrole/internal/stsstub"
	"github.com/awsrole/awsrole/internal/testrig"

	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

const roleSafe = "arn:aws:iam::222222222222:role/safe"

// TestForeignFilesRefused: when the trust store, an allow entry, the user
// config or a parent of the state or cache dir belongs to another user or
// can be written by group or others, entering a project is refused with one
// line that names the path and the chmod/chown that fixes it; nothing is
// approved and the shell keeps its own values.
func TestForeignFilesRefused(t *testing.T) {
	t.Parallel()
	type target struct {
		name string
		path func(w *world) string
	}
	targets := []target{
		{"trust-store", func(w *world) string { return filepath.Join(w.Home, ".local", "share", "awsrole") }},
		{"allow-entry", func(w *world) string {
			m, _ := filepath.Glob(filepath.Join(w.Home, ".local", "share", "awsrole", "allow", "*"))
			if len(m) != 1 {
				w.t.Fatalf("allow entries: %v", m)
			}
			return m[0]
		}},
		{"user-config", func(w *world) string {
			return w.write(filepath.Join(".config", "awsrole", "config.toml"), `trusted_dirs = ["/"]`+"\n")
		}},
		{"state-parent", func(w *world) string { return filepath.Join(w.Home, ".local", "state") }},
		{"cache-parent", func(w *world) string { return filepath.Join(w.Home, ".cache") }},
	}
	for _, tg := range targets {
		for _, how := range []string{"chown", "chmod"} {
			t.Run(tg.name+"/"+how, func(t *testing.T) {
				t.Parallel()
				w := newWorld(t)
				proj := w.project("proj", roleSafe, "")
				p := tg.path(w)
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				var want string
				if how == "chown" {
					uid, gid := testrig.OtherUser(t)
					if err := os.Chown(p, uid, gid); err != nil {
						t.Fatal(err)
					}
					me, err := user.Current()
					if err != nil {
						t.Fatal(err)
					}
					want = "chown " + me.Username + " "
				} else {
					if err := os.Chmod(p, fi.Mode().Perm()|0o022); err != nil {
						t.Fatal(err)
					}
					want = "chmod go-w "
				}
				sh := mustShell(t, w, filepath.Join(w.Home, "plain"), w.Env)
				r := sh.mustStep(t, proj)
				checkFailure(t, r, p, want+p)
				if d := managedDiff(sh.Orig, r.After); d != "" {
					t.Errorf("the shell's own values changed:\n%s", d)
				}
				if got := assumeCalls(w.Stub, roleSafe); tg.name != "state-parent" && len(got) != 0 {
					t.Errorf("STS was asked for the role:\n%s", hermetic.DescribeCalls(got))
				}
			})
		}
	}
}

// hostileNames are names a stranger may give a directory (a git clone can
// carry any) or put in an error message.
var hostileNames = []string{
	"erase\x1b[2K\rgone",
	"osc52\x1b]52;c;aGVsbG8=\x07",
	"title\x1b]0;pwned\x1b\\",
	"c1\u009b31m\u0085",
	"bidi\u202etxt.exe\u2066x\u2069",
	"bad\xff\xfeutf8\x9b",
	"new\nline\ttab",
	"del\x7fete",
}

// checkTerminalSafe fails if out holds anything a terminal acts on: a
// control byte other than a newline ending a line, DEL, a C1 control, a
// bidi control, or invalid UTF-8.
func checkTerminalSafe(t *testing.T, what, out string) {
	t.Helper()
	for i := 0; i < len(out); {
		r, n := utf8.DecodeRuneInString(out[i:])
		bad := ""
		switch {
		case r == utf8.RuneError && n <= 1:
			bad = "invalid UTF-8"
		case r == '\n':
		case r < 0x20 || r == 0x7f:
			bad = "a control byte"
		case r >= 0x80 && r <= 0x9f:
			bad = "a C1 control"
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			bad = "a bidi control"
		}
		if bad != "" {
			t.Errorf("%s holds %s (%q at byte %d): %q", what, bad, out[i:i+n], i, out)
			return
		}
		i += n
	}
}

// TestHostileNamesNeverRaw: hostile directory names and STS error texts
// go through every message path (the hook's notices, status in all forms,
// allow, deny, exec, credential-process, a TOML error) and never reach
// the terminal raw; the suggested `awsrole allow` command gives back the
// directory when bash reads it.
func TestHostileNamesNeverRaw(t *testing.T) {
	t.Parallel()
	for i, name := range hostileNames {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			dir := filepath.Join(w.Home, "p-"+name)
			w.write(filepath.Join(dir, ".awsrole.toml"), "role_arn = \""+roleSafe+"\"\n")
			run := func(what string, over map[string]*string, args ...string) (string, string) {
				t.Helper()
				out, errOut, _ := w.awsrole(dir, over, args...)
				checkTerminalSafe(t, what+" stdout", out)
				checkTerminalSafe(t, what+" stderr", errOut)
				return out, errOut
			}

			// Not allowed yet: the hook's notice, and its suggestion.
			sh := mustShell(t, w, filepath.Join(w.Home, "plain"), w.Env)
			r := sh.mustStep(t, dir)
			checkTerminalSafe(t, "the not-allowed notice", r.Stderr)
			_, word, ok := strings.Cut(strings.TrimSuffix(r.Stderr, "\n"), "run: awsrole allow ")
			if !ok {
				t.Fatalf("notice %q suggests no awsrole allow", r.Stderr)
			}
			back, err := exec.Command(bashBin, "--norc", "-c", "printf %s "+word).Output()
			if err != nil || string(back) != dir {
				t.Errorf("bash reads the suggested %s as %q (%v), want %q", word, back, err, dir)
			}
			run("status (not allowed)", nil, "status")
			run("status --json (not allowed)", nil, "status", "--json")
			run("exec (not allowed)", nil, "exec", "--dir", dir, "--", "true")
			run("credential-process (not allowed)", nil, "credential-process", "--dir", dir)

			run("deny", nil, "deny", dir)
			sh = mustShell(t, w, filepath.Join(w.Home, "plain"), w.Env)
			r = sh.mustStep(t, dir)
			checkTerminalSafe(t, "the denied notice", r.Stderr)
			if !strings.Contains(r.Stderr, "denied") {
				t.Errorf("no denied notice: %q", r.Stderr)
			}
			run("allow", nil, "allow", dir)

			// STS says no, in hostile words.
			fault := stsstub.Fault{Status: 403, Code: "AccessDenied", Message: "not for " + name + " \u009b2J\u202e"}
			w.Stub.FailNext("AssumeRole", 1, fault)
			sh = mustShell(t, w, filepath.Join(w.Home, "plain"), w.Env)
			r = sh.mustStep(t, dir)
			checkTerminalSafe(t, "the hook's STS error", r.Stderr)
			if !strings.Contains(r.Stderr, "AccessDenied") {
				t.Errorf("the STS error is not reported: %q", r.Stderr)
			}
			w.Stub.FailNext("AssumeRole", 1, fault)
			run("exec (STS error)", nil, "exec", "--dir", dir, "--", "true")
			w.Stub.FailNext("AssumeRole", 1, fault)
			run("credential-process (STS error)", nil, "credential-process", "--dir", dir)

			// Entered: status with the role active, and --short with a
			// hostile marker.
			sh.mustStep(t, filepath.Join(w.Home, "plain"))
			r = sh.mustStep(t, dir)
			if r.After["AWSROLE_ARN"] != roleSafe {
				t.Fatalf("not entered: %q", r.Stderr)
			}
			active := map[string]*string{}
			for k, v := range r.After {
				active[k] = sp(v)
			}
			run("status (active)", active, "status")
			run("status --json (active)", active, "status", "--json")
			run("status --short", map[string]*string{"AWSROLE_ARN": sp("arn:aws:iam::1:role/" + name), "AWS_CREDENTIAL_EXPIRATION": sp("x")}, "status", "--short")

			// A TOML error in a directory with a hostile name and a value
			// with hostile bytes: the hook, which parses only approved
			// bytes, says the file is not allowed; allow says the error.
			bad := filepath.Join(w.Home, "bad-"+name)
			w.write(filepath.Join(bad, ".awsrole.toml"), "role_arn = \"arn:aws:iam::222222222222:role/x\\u001b[2K\\u202e\"\nregion = "+name+"\n")
			sh = mustShell(t, w, filepath.Join(w.Home, "plain"), w.Env)
			r = sh.mustStep(t, bad)
			checkTerminalSafe(t, "a TOML error", r.Stderr)
			if r.RC != 0 || !strings.Contains(r.Stderr, "is not allowed yet") {
				t.Errorf("unapproved TOML error: status %d, stderr %q", r.RC, r.Stderr)
			}
			_, errOut := run("allow (TOML error)", nil, "allow", bad)
			if !strings.Contains(errOut, ":2: ") {
				t.Errorf("allow of a TOML error said %q, want the error on line 2", errOut)
			}
			w.write(filepath.Join(bad, ".awsrole.toml"), "role_arn = \"arn:aws:iam::222222222222:role/x\\u001b[2K\\u202e\"\n")
			_, errOut = run("allow (bad value)", nil, "allow", bad)
			if errOut == "" {
				t.Errorf("allow of a bad role_arn said nothing")
			}
		})
	}
}

// TestSecretsInTOMLErrors: an unquoted secret is not repeated, and a 1 MB
// value does not become a 1 MB line.
func TestSecretsInTOMLErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, c := range []struct{ name, content, secret string }{
		{"unquoted-secret", "role_arn = \"" + roleSafe + "\"\naws_secret_access_key = " + userSecret + "\n", userSecret},
		{"1MB-value", "role_arn = \"" + roleSafe + "\"\nexternal_id = " + strings.Repeat("S", 1<<20-100) + "\n", ""},
		{"1MB-token", "role_arn = \"" + roleSafe + "\"\nsession_token = " + strings.Repeat("T", 1<<20-100) + "\n", strings.Repeat("T", 64)},
	} {
		dir := filepath.Join(w.Home, c.name)
		w.write(filepath.Join(dir, ".awsrole.toml"), c.content)
		for _, args := range [][]string{{"export", "bash", "--pid", strconv.FormatInt(fakePID.Add(1), 10)}, {"allow", dir}, {"status"}} {
			out, errOut, _ := w.awsrole(dir, nil, args...)
			for _, s := range []string{out, errOut} {
				for _, line := range strings.Split(s, "\n") {
					if len(line) > 400 && s == errOut { // stdout is code for eval
						t.Errorf("%s: awsrole %s: a line of %d bytes: %.100q…", c.name, args[0], len(line), line)
					}
				}
				for i := 0; c.secret != "" && i+8 <= len(c.secret); i++ {
					if strings.Contains(s, c.secret[i:i+8]) {
						t.Errorf("%s: awsrole %s repeats part of the secret: %q", c.name, args[0], s)
						break
					}
				}
			}
			if errOut == "" && args[0] != "status" {
				t.Errorf("%s: awsrole %s said nothing", c.name, args[0])
			}
		}
	}
}

// TestSpecialFilesNeverBlock: a FIFO, /dev/zero, a tty and (as root) the
// pollable /proc/kmsg as .awsrole.toml or as the user config: the hook's
// call returns at once with one line.
func TestSpecialFilesNeverBlock(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ptm, pts, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptm.Close(); pts.Close() })
	fifo := filepath.Join(w.Root, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{"fifo": fifo, "dev-zero": "/dev/zero", "pty": pts.Name()}
	if _, err := os.Stat("/proc/kmsg"); err == nil && os.Geteuid() == 0 {
		targets["proc-kmsg"] = "/proc/kmsg"
	} else {
		t.Log("/proc/kmsg not tried: needs root")
	}
	conf := filepath.Join(w.Home, ".config", "awsrole", "config.toml")
	for name, target := range targets {
		for _, as := range []string{"project", "user-config"} {
			dir := filepath.Join(w.Home, "special-"+name+"-"+as)
			link := filepath.Join(dir, ".awsrole.toml")
			if as == "user-config" {
				w.write(link, "role_arn = \""+roleSafe+"\"\n")
				link = conf
			}
			os.MkdirAll(filepath.Dir(link), 0o755)
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			cmd := exec.CommandContext(ctx, awsroleBin, "export", "bash", "--pid", strconv.FormatInt(fakePID.Add(1), 10))
			cmd.Dir = dir
			cmd.Env = environ(with(w.Env, map[string]*string{"PWD": sp(dir)}))
			var out, errOut strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errOut
			cmd.Run()
			late := ctx.Err()
			cancel()
			if late != nil {
				t.Errorf("%s as %s: awsrole export did not return within 5s", name, as)
			}
			if s := errOut.String(); !oneLine(s) || !strings.HasPrefix(s, "awsrole: "+link) || out.Len() != 0 {
				t.Errorf("%s as %s: stdout %q, stderr %q; want nothing and one line naming %s", name, as, out.String(), s, link)
			}
			if as == "user-config" {
				os.Remove(conf)
			}
		}
	}
}

// TestSymlinkOutOfTrustedDirs: a link inside a trusted tree, to a directory
// elsewhere or to a .awsrole.toml elsewhere, is judged where it lands: the
// hook says the file is not allowed and assumes nothing.
func TestSymlinkOutOfTrustedDirs(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	trusted := filepath.Join(w.Home, "trusted")
	w.write(filepath.Join(".config", "awsrole", "config.toml"), "trusted_dirs = [\"~/trusted\"]\n")
	elsewhere := filepath.Join(w.Root, "elsewhere")
	w.write(filepath.Join(elsewhere, ".awsrole.toml"), "role_arn = \""+roleSafe+"\"\n")
	w.write(filepath.Join(trusted, "real", ".awsrole.toml"), "role_arn = \""+roleSafe+"\"\n")
	if err := os.Symlink(elsewhere, filepath.Join(trusted, "dirlink")); err != nil {
		t.Fatal(err)
	}
	fileLink := filepath.Join(trusted, "filelink")
	os.MkdirAll(fileLink, 0o755)
	if err := os.Symlink(filepath.Join(elsewhere, ".awsrole.toml"), filepath.Join(fileLink, ".awsrole.toml")); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(trusted, "dirlink"), fileLink} {
		sh := mustShell(t, w, filepath.Join(w.Home, "plain"), w.Env)
		r := sh.mustStep(t, dir)
		checkNoCrash(t, r)
		if r.After["AWSROLE_ARN"] != "" || !strings.Contains(r.Stderr, "is not allowed yet") {
			t.Errorf("%s: AWSROLE_ARN=%q, stderr %q; want not allowed", dir, r.After["AWSROLE_ARN"], r.Stderr)
		}
	}
	// The real thing inside the tree is trusted.
	sh := mustShell(t, w, filepath.Join(w.Home, "plain"), w.Env)
	r := sh.mustStep(t, filepath.Join(trusted, "real"))
	checkActive(t, r.After, roleSafe)
}
