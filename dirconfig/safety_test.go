package dirconfig

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/awsrole/awsrole/internal/testrig"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

// safetyWorld is a HOME with the XDG dirs under a fresh temporary dir, and
// a project allowed in it.
func safetyWorld(t *testing.T) (home, proj string) {
	t.Helper()
	home = filepath.Join(t.TempDir(), "home")
	t.Setenv("HOME", home)
	t.Setenv("XDG_DATA_HOME", filepath.Join(home, ".local", "share"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	proj = filepath.Join(home, "proj")
	testrig.Write(t, proj, FileName, `role_arn = "arn:aws:iam::222222222222:role/deploy"`+"\n")
	if err := testTrust().Allow(mustLoad(t, filepath.Join(proj, FileName))); err != nil {
		t.Fatal(err)
	}
	return home, proj
}

// TestTrustStoreMustBeOwn: an allow entry, the trust store or a parent of
// it that someone else owns or can write approves nothing: TrustOf says
// why, on one line, with the command that fixes it.
func TestTrustStoreMustBeOwn(t *testing.T) {
	type change struct {
		name string
		path func(home, proj string) string
		do   func(t *testing.T, path string)
		want string
	}
	chmod := func(mode fs.FileMode) func(*testing.T, string) {
		return func(t *testing.T, p string) {
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	chown := func(t *testing.T, p string) {
		uid, gid := testrig.OtherUser(t)
		if err := os.Lchown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	store := func(home, proj string) string { return testTrust().Dir }
	allowDir := func(home, proj string) string { return filepath.Join(testTrust().Dir, "allow") }
	entry := func(home, proj string) string {
		return filepath.Join(testTrust().Dir, "allow", allowKey(filepath.Join(proj, FileName), mustRead(t, filepath.Join(proj, FileName)), nil))
	}
	parent := func(home, proj string) string { return filepath.Join(home, ".local") }
	for _, c := range []change{
		{"entry-group-writable", entry, chmod(0o620), "chmod go-w"},
		{"allow-dir-other-writable", allowDir, chmod(0o702), "chmod go-w"},
		{"store-group-writable", store, chmod(0o770), "chmod go-w"},
		{"parent-other-writable", parent, chmod(0o757), "chmod go-w"},
		{"entry-foreign", entry, chown, "chown "},
		{"allow-dir-foreign", allowDir, chown, "chown "},
		{"store-foreign", store, chown, "chown "},
		{"parent-foreign", parent, chown, "chown "},
	} {
		t.Run(c.name, func(t *testing.T) {
			home, proj := safetyWorld(t)
			cfg := mustLoad(t, filepath.Join(proj, FileName))
			wantTrust(t, cfg, nil, TrustAllowed)
			p := c.path(home, proj)
			c.do(t, p)
			got, err := testTrust().Of(cfg, nil)
			if got == TrustAllowed || err == nil {
				t.Fatalf("TrustOf = %v, %v after %s on %s; want an error", got, err, c.name, p)
			}
			msg := err.Error()
			if !strings.Contains(msg, p) || !strings.Contains(msg, c.want) || !strings.HasSuffix(msg, " "+p) || strings.Contains(msg, "\n") {
				t.Errorf("message %q: want one line naming %s and %q", msg, p, c.want)
			}
		})
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestUserConfigMustBeOwn: a user config (or its directory) that someone
// else owns or can write is refused, not read.
func TestUserConfigMustBeOwn(t *testing.T) {
	for _, c := range []struct {
		name string
		dir  bool
		do   func(t *testing.T, p string)
		want string
	}{
		{"group-writable", false, func(t *testing.T, p string) { os.Chmod(p, 0o664) }, "chmod go-w "},
		{"dir-other-writable", true, func(t *testing.T, p string) { os.Chmod(p, 0o777) }, "chmod go-w "},
		{"foreign", false, func(t *testing.T, p string) {
			uid, gid := testrig.OtherUser(t)
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}, "chown "},
	} {
		t.Run(c.name, func(t *testing.T) {
			safetyWorld(t)
			conf := testrig.Write(t, filepath.Dir(UserConfigPath(xdgdir.FromEnv(os.Getenv).Config)), "config.toml", `trusted_dirs = ["/"]`+"\n")
			if _, err := LoadUserConfig(UserConfigPath(xdgdir.FromEnv(os.Getenv).Config)); err != nil {
				t.Fatal(err)
			}
			p := conf
			if c.dir {
				p = filepath.Dir(conf)
			}
			c.do(t, p)
			u, err := LoadUserConfig(UserConfigPath(xdgdir.FromEnv(os.Getenv).Config))
			if err == nil {
				t.Fatalf("LoadUserConfig = %+v, want an error", u)
			}
			if msg := err.Error(); !strings.Contains(msg, c.want) || !strings.HasSuffix(msg, " "+p) || strings.Contains(msg, "\n") {
				t.Errorf("message %q: want one line with %q and %s", msg, c.want, p)
			}
		})
	}
}

// TestTrustOnRealPath: trusted_dirs and allow entries apply where a symlink
// lands, not where it is.
func TestTrustOnRealPath(t *testing.T) {
	home, _ := safetyWorld(t)
	trusted := filepath.Join(home, "trusted")
	elsewhere := filepath.Join(home, "elsewhere")
	content := `role_arn = "arn:aws:iam::222222222222:role/elsewhere"` + "\n"
	testrig.Write(t, elsewhere, FileName, content)
	u := &UserConfig{TrustedDirs: []string{trusted}}

	// A link to a directory outside the trusted tree.
	if err := os.MkdirAll(trusted, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(trusted, "dirlink")); err != nil {
		t.Fatal(err)
	}
	viaDir := mustLoad(t, filepath.Join(trusted, "dirlink", FileName))
	wantTrust(t, viaDir, u, TrustUnknown)

	// A link to the file itself.
	if err := os.MkdirAll(filepath.Join(trusted, "proj"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(trusted, "proj", FileName)
	if err := os.Symlink(filepath.Join(elsewhere, FileName), link); err != nil {
		t.Fatal(err)
	}
	viaFile := mustLoad(t, link)
	if viaFile.RealPath != filepath.Join(elsewhere, FileName) {
		t.Errorf("RealPath = %q", viaFile.RealPath)
	}
	wantTrust(t, viaFile, u, TrustUnknown)

	// The real file inside the trusted tree is trusted, through a link too.
	inside := filepath.Join(trusted, "real")
	testrig.Write(t, inside, FileName, content)
	if err := os.Symlink(inside, filepath.Join(home, "outside-link")); err != nil {
		t.Fatal(err)
	}
	wantTrust(t, mustLoad(t, filepath.Join(home, "outside-link", FileName)), u, TrustAllowed)

	// An approval through a link is for where it lands: pointing the link
	// at another file with the same content revokes it.
	if err := testTrust().Allow(viaFile); err != nil {
		t.Fatal(err)
	}
	wantTrust(t, mustLoad(t, link), nil, TrustAllowed)
	other := filepath.Join(home, "other")
	testrig.Write(t, other, FileName, content)
	os.Remove(link)
	if err := os.Symlink(filepath.Join(other, FileName), link); err != nil {
		t.Fatal(err)
	}
	wantTrust(t, mustLoad(t, link), nil, TrustUnknown)
}

// TestSecretsNotEchoed: a parse error at a key that looks like a credential
// does not repeat its value, and no message quotes more than 300 characters
// of the input.
func TestSecretsNotEchoed(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	big := strings.Repeat("Q", 1<<20-64)
	for _, c := range []struct{ name, data, secret string }{
		{"unquoted-secret", "role_arn = \"arn:aws:iam::222222222222:role/x\"\naws_secret_access_key = " + secret + "\n", secret},
		{"unquoted-token-upper", "SESSION_TOKEN = " + secret + "\n", secret},
		{"secret-bad-escape", `db_password = "` + secret + `\q"` + "\n", secret},
		{"aws-key", "AWS_Access_Key = " + secret + "\n", secret},
		{"unterminated-secret", "role_arn = \"arn:aws:iam::222222222222:role/x\"\naws_secret_access_key = \"" + secret + "\n", secret},
		{"1MB-value", "role = " + big + "\n", ""}, // not a secret, but long
		{"1MB-token", "token = " + big + "\n", big},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("/p/"+FileName, []byte(c.data))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if len(msg) > 400 {
				t.Errorf("message is %d bytes: %.200q…", len(msg), msg)
			}
			for i := 0; i+8 <= len(c.secret) && i < 64; i++ {
				if strings.Contains(msg, c.secret[i:i+8]) {
					t.Fatalf("message %q repeats part of the secret (%q)", msg, c.secret[i:i+8])
				}
			}
		})
	}
}

// TestSpecialFilesFailFast: a FIFO, /dev/zero, a tty and (as root) the
// pollable /proc/kmsg, as .awsrole.toml or as the user config, fail at once
// with one line; nothing waits on them.
func TestSpecialFilesFailFast(t *testing.T) {
	home, _ := safetyWorld(t)
	ptm, pts, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptm.Close()
	defer pts.Close()
	targets := map[string]string{"dev-zero": "/dev/zero", "pty": pts.Name()}
	fifo := filepath.Join(home, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	targets["fifo"] = fifo
	if os.Geteuid() == 0 {
		if _, err := os.Stat("/proc/kmsg"); err == nil {
			targets["proc-kmsg"] = "/proc/kmsg"
		}
	} else {
		t.Log("not root: /proc/kmsg is not readable, not tried")
	}
	within := func(t *testing.T, f func() error) error {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- f() }()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("did not return within 5s")
			return nil
		}
	}
	for name, target := range targets {
		t.Run(name+"/project", func(t *testing.T) {
			dir := filepath.Join(home, "special-"+name)
			os.MkdirAll(dir, 0o755)
			p := filepath.Join(dir, FileName)
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			err := within(t, func() error { _, err := Load(p); return err })
			checkOneLine(t, err, p)
		})
		t.Run(name+"/user-config", func(t *testing.T) {
			conf := UserConfigPath(xdgdir.FromEnv(os.Getenv).Config)
			os.MkdirAll(filepath.Dir(conf), 0o700)
			os.Remove(conf)
			if err := os.Symlink(target, conf); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(conf)
			err := within(t, func() error { _, err := LoadUserConfig(UserConfigPath(xdgdir.FromEnv(os.Getenv).Config)); return err })
			checkOneLine(t, err, conf)
		})
	}
}

func checkOneLine(t *testing.T, err error, path string) {
	t.Helper()
	var e *Error
	if err == nil || !errors.As(err, &e) {
		t.Fatalf("err = %v, want an *Error", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, path+": ") || strings.Contains(msg, "\n") {
		t.Errorf("message %q: want one line starting with %s", msg, path)
	}
}

// TestParseErrorsNeverEchoValues is finding 10b: a .awsrole.toml linked to
// any file the user can read has none of that file's values in the error,
// whatever its keys look like: file, line and key only.
func TestParseErrorsNeverEchoValues(t *testing.T) {
	for _, c := range []struct{ name, data, value string }{
		{"plain key", "note = hunterxyz\n", "hunter"},
		{"password quoted then bare", "password = \"hunter2\"\nnext = hunterxyz\n", "hunter"},
		{"env file", "DB_HOST=dbinternal\nDB_PASS=s3cr3tpass\n", "dbinternal"},
		{"shadow", "root:$6$saltsalt$hashhashhash:19000:0:99999:7:::\n", "saltsalt"},
		{"netrc", "machine example.com login alice password s3cr3tpass\n", "example"},
		{"bad escape", "x = \"s3cr3t\\qpass\"\n", "\\q"},
		{"big number", "pin = 98765432109876543210\n", "98765432109876543210"},
		{"bad hex", "x = 0xZZsecret\n", "0xZ"},
		{"bad integer", "x = 1__2345\n", "1__2345"},
		{"unicode escape", "x = \"\\uZZZZsecret\"\n", "uZ"},
		{"inline table", "x = {a = hiddenpass}\n", "hidden"},
		{"array", "x = [hiddenpass]\n", "hidden"},
		{"date", "x = 1979-05-27T07:32:00Zs3cr3t\n", "s3cr3t"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			secret := filepath.Join(dir, "secret")
			if err := os.WriteFile(secret, []byte(c.data), 0o600); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(dir, "repo", FileName)
			os.MkdirAll(filepath.Dir(link), 0o755)
			if err := os.Symlink(secret, link); err != nil {
				t.Fatal(err)
			}
			_, err := Load(link)
			if err == nil {
				t.Fatal("loaded")
			}
			if msg := err.Error(); strings.Contains(msg, c.value) || !strings.HasPrefix(msg, link+":") {
				t.Errorf("message %q: repeats %q, or does not start with the file", msg, c.value)
			}
		})
	}
}
