package hooks_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/hooks"
	"github.com/awsrole/awsrole/shellgen"
)

const (
	line    = `eval "$('/usr/local/bin/awsrole' hook bash)"`
	newLine = `eval "$('/opt/awsrole/bin/awsrole' hook bash)"`
	block   = "# >>> awsrole >>>\n" + line + "\n# <<< awsrole <<<"
)

// readOrMissing returns the file's content, or "<missing>".
func readOrMissing(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return "<missing>"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestInstall(t *testing.T) {
	tests := []struct {
		name    string
		before  string // "<missing>" for no file
		line    string
		want    string
		action  string
		changed bool
	}{
		{"fresh file", "<missing>", line, block + "\n", "added hook to ", true},
		{"empty file", "", line, block + "\n", "added hook to ", true},
		{"appends after content", "alias ll='ls -l'\n", line, "alias ll='ls -l'\n" + block + "\n", "added hook to ", true},
		{"no trailing newline", "alias ll='ls -l'", line, "alias ll='ls -l'\n" + block, "added hook to ", true},
		{"already present", "a\n" + block + "\nb\n", line, "a\n" + block + "\nb\n", "hook already present in ", false},
		{"already present at end without newline", "a\n" + block, line, "a\n" + block, "hook already present in ", false},
		{"stale line replaced in place", "a\n" + block + "\nb\n", newLine,
			"a\n# >>> awsrole >>>\n" + newLine + "\n# <<< awsrole <<<\nb\n", "updated hook in ", true},
		{"stale block with extra lines", "a\n# >>> awsrole >>>\nold 1\nold 2\n# <<< awsrole <<<\nb\n", line,
			"a\n" + block + "\nb\n", "updated hook in ", true},
		{"duplicate blocks collapse to the first", "a\n" + block + "\nb\n" + block + "\nc\n", newLine,
			"a\n# >>> awsrole >>>\n" + newLine + "\n# <<< awsrole <<<\nb\nc\n", "updated hook in ", true},
		{"crlf file keeps its line ending after the block", "a\r\n# >>> awsrole >>>\r\nold\r\n# <<< awsrole <<<\r\nb\r\n", line,
			"a\r\n" + block + "\r\nb\r\n", "updated hook in ", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := filepath.Join(t.TempDir(), ".bashrc")
			if tt.before != "<missing>" {
				writeFile(t, rc, tt.before)
			}
			change, err := hooks.Install(rc, tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if got := readOrMissing(t, rc); got != tt.want {
				t.Errorf("after Install:\n%q\nwant\n%q", got, tt.want)
			}
			if change.File != rc || change.Action != tt.action+rc || change.Changed != tt.changed || change.String() != change.Action {
				t.Errorf("change = %+v, want action %q, changed %v", change, tt.action+rc, tt.changed)
			}
			// A second run never changes anything.
			again, err := hooks.Install(rc, tt.line)
			if err != nil || again.Changed || readOrMissing(t, rc) != tt.want {
				t.Errorf("second Install: %+v, %v; content %q", again, err, readOrMissing(t, rc))
			}
			assertNoTempFiles(t, filepath.Dir(rc))
		})
	}
}

// TestUninstallRestores checks that Install then Uninstall gives back the
// original bytes, whatever the file looked like.
func TestUninstallRestores(t *testing.T) {
	originals := []string{
		"", "\n", "\n\n", "a", "a\n", "a\n\n", "a\nb", "a\r\nb\r\n", "a\r\nb",
		"export PATH=$PATH:/x\n# my settings\nset -o vi",
		"# <<< awsrole <<<\n", // a stray end marker is left alone
	}
	for _, original := range originals {
		t.Run(strings.ReplaceAll(original, "\n", `\n`), func(t *testing.T) {
			rc := filepath.Join(t.TempDir(), ".zshrc")
			writeFile(t, rc, original)
			if _, err := hooks.Install(rc, line); err != nil {
				t.Fatal(err)
			}
			if _, err := hooks.Install(rc, newLine); err != nil {
				t.Fatal(err)
			}
			change, err := hooks.Uninstall(rc, false)
			if err != nil {
				t.Fatal(err, false)
			}
			if !change.Changed || change.Action != "removed hook from "+rc {
				t.Errorf("change = %+v", change)
			}
			if got := readOrMissing(t, rc); got != original {
				t.Errorf("after Install+Uninstall: %q, want %q", got, original)
			}
		})
	}
	t.Run("lines added after the block stay", func(t *testing.T) {
		rc := filepath.Join(t.TempDir(), ".bashrc")
		writeFile(t, rc, "a\n")
		if _, err := hooks.Install(rc, line); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(rc, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.WriteString("added later\n")
		_ = f.Close()
		if _, err := hooks.Uninstall(rc, false); err != nil {
			t.Fatal(err, false)
		}
		if got := readOrMissing(t, rc); got != "a\nadded later\n" {
			t.Errorf("got %q", got)
		}
	})
}

func TestUninstallAbsent(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, ".bashrc")
	change, err := hooks.Uninstall(missing, false)
	if err != nil || change.Changed || change.Action != "hook not present in "+missing {
		t.Errorf("Uninstall of a missing file: %+v, %v", change, err)
	}
	if readOrMissing(t, missing) != "<missing>" {
		t.Error("Uninstall created the file")
	}
	without := filepath.Join(dir, ".zshrc")
	writeFile(t, without, "a\n# <<< awsrole <<<\n")
	change, err = hooks.Uninstall(without, false)
	if err != nil || change.Changed || readOrMissing(t, without) != "a\n# <<< awsrole <<<\n" {
		t.Errorf("Uninstall without a block: %+v, %v, %q", change, err, readOrMissing(t, without))
	}
}

func TestInstallKeepsMode(t *testing.T) {
	for _, mode := range []fs.FileMode{0o600, 0o640, 0o755} {
		rc := filepath.Join(t.TempDir(), ".bashrc")
		writeFile(t, rc, "a\n")
		if err := os.Chmod(rc, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := hooks.Install(rc, line); err != nil {
			t.Fatal(err)
		}
		if _, err := hooks.Install(rc, newLine); err != nil {
			t.Fatal(err)
		}
		if info, _ := os.Stat(rc); info.Mode().Perm() != mode {
			t.Errorf("mode %v became %v after Install", mode, info.Mode().Perm())
		}
		if _, err := hooks.Uninstall(rc, false); err != nil {
			t.Fatal(err, false)
		}
		if info, _ := os.Stat(rc); info.Mode().Perm() != mode {
			t.Errorf("mode %v became %v after Uninstall", mode, info.Mode().Perm())
		}
	}
	rc := filepath.Join(t.TempDir(), ".bashrc")
	if _, err := hooks.Install(rc, line); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(rc); info.Mode().Perm() != 0o644 {
		t.Errorf("new rc file has mode %v, want 0644", info.Mode().Perm())
	}
}

// TestInstallThroughSymlink keeps a dotfiles-style symlink a symlink.
func TestInstallThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "dotfiles", "zshrc")
	writeFile(t, target, "a\n")
	rc := filepath.Join(dir, ".zshrc")
	if err := os.Symlink("dotfiles/zshrc", rc); err != nil {
		t.Fatal(err)
	}
	if _, err := hooks.Install(rc, line); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(rc); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("%s is no longer a symlink", rc)
	}
	if got := readOrMissing(t, target); got != "a\n"+block+"\n" {
		t.Errorf("symlink target: %q", got)
	}
	if _, err := hooks.Uninstall(rc, false); err != nil {
		t.Fatal(err, false)
	}
	if got := readOrMissing(t, target); got != "a\n" {
		t.Errorf("after Uninstall the target is %q", got)
	}
	assertNoTempFiles(t, dir)
	assertNoTempFiles(t, filepath.Dir(target))
}

func TestFishConfD(t *testing.T) {
	xdg := filepath.Join(t.TempDir(), "config")
	in, err := shellgen.InstallFor("fish", "awsrole", env(map[string]string{"HOME": "/home/x", "XDG_CONFIG_HOME": xdg}))
	if err != nil || !in.Owned {
		t.Fatal(in, err)
	}
	rc := in.File
	fishLine := `'/usr/local/bin/awsrole' hook fish | source`
	change, err := hooks.Install(rc, fishLine)
	if err != nil || !change.Changed {
		t.Fatalf("Install: %+v, %v", change, err)
	}
	if got := readOrMissing(t, rc); got != "# >>> awsrole >>>\n"+fishLine+"\n# <<< awsrole <<<\n" {
		t.Errorf("conf.d file: %q", got)
	}
	if info, err := os.Stat(filepath.Join(xdg, "fish", "conf.d")); err != nil || !info.IsDir() {
		t.Errorf("conf.d not created: %v", err)
	}
	if _, err := hooks.Uninstall(rc, true); err != nil {
		t.Fatal(err)
	}
	if readOrMissing(t, rc) != "<missing>" {
		t.Error("the emptied awsrole.fish was left behind")
	}
	// A conf.d file the user added to is kept, minus the block.
	writeFile(t, rc, "set -g mine 1\n")
	if _, err := hooks.Install(rc, fishLine); err != nil {
		t.Fatal(err)
	}
	if _, err := hooks.Uninstall(rc, true); err != nil {
		t.Fatal(err)
	}
	if got := readOrMissing(t, rc); got != "set -g mine 1\n" {
		t.Errorf("after Uninstall: %q", got)
	}
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestRCFile(t *testing.T) {
	tests := []struct {
		shell string
		env   map[string]string
		want  string
	}{
		{"bash", map[string]string{"HOME": "/home/a"}, "/home/a/.bashrc"},
		{"zsh", map[string]string{"HOME": "/home/a"}, "/home/a/.zshrc"},
		{"zsh", map[string]string{"HOME": "/home/a", "ZDOTDIR": "/home/a/.config/zsh"}, "/home/a/.config/zsh/.zshrc"},
		{"zsh", map[string]string{"ZDOTDIR": "/z"}, "/z/.zshrc"},
		{"fish", map[string]string{"HOME": "/home/a"}, "/home/a/.config/fish/conf.d/awsrole.fish"},
		{"fish", map[string]string{"HOME": "/home/a", "XDG_CONFIG_HOME": "/xdg"}, "/xdg/fish/conf.d/awsrole.fish"},
		{"fish", map[string]string{"HOME": "/home/a", "XDG_CONFIG_HOME": "relative"}, "/home/a/.config/fish/conf.d/awsrole.fish"},
		{"nu", map[string]string{"HOME": "/home/a"}, "/home/a/.config/nushell/autoload/awsrole.nu"},
		{"nu", map[string]string{"HOME": "/home/a", "XDG_CONFIG_HOME": "/xdg"}, "/xdg/nushell/autoload/awsrole.nu"},
		{"elvish", map[string]string{"HOME": "/home/a"}, "/home/a/.config/elvish/rc.elv"},
		{"elvish", map[string]string{"HOME": "/home/a", "XDG_CONFIG_HOME": "/xdg"}, "/xdg/elvish/rc.elv"},
		{"direnv", map[string]string{"HOME": "/home/a"}, "/home/a/.config/direnv/lib/awsrole.sh"},
	}
	for _, tt := range tests {
		in, err := shellgen.InstallFor(tt.shell, "awsrole", env(tt.env))
		got := in.File
		if err != nil || got != tt.want {
			t.Errorf("RCFile(%s, %v) = %q, %v; want %q", tt.shell, tt.env, got, err, tt.want)
		}
	}
	for _, shell := range shellgen.Names(shellgen.UseInstall) {
		if _, err := shellgen.InstallFor(shell, "awsrole", env(nil)); err == nil || !strings.Contains(err.Error(), "HOME") {
			t.Errorf("InstallFor(%s) without HOME: %v", shell, err)
		}
	}
	for _, shell := range []string{"tcsh", "json"} {
		if _, err := shellgen.InstallFor(shell, "awsrole", env(map[string]string{"HOME": "/h"})); err == nil {
			t.Errorf("InstallFor(%s) did not fail", shell)
		}
	}
}

func TestInstallErrors(t *testing.T) {
	tests := []struct {
		name, before, line, wantErr string
	}{
		{"unterminated block", "a\n# >>> awsrole >>>\nx\n", line, "no \"# <<< awsrole <<<\" line"},
		{"nested block", "# >>> awsrole >>>\n# >>> awsrole >>>\n# <<< awsrole <<<\n", line, "started again"},
		{"empty line", "", "", "non-empty lines"},
		{"final newline", "", "a\n", "without a final newline"},
		{"carriage return", "", "a\r\nb", "non-empty lines"},
		{"marker as line", "", "# <<< awsrole <<<", "marker line"},
		{"marker inside", "", "a\n# >>> awsrole >>>\nb", "marker line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := filepath.Join(t.TempDir(), ".bashrc")
			writeFile(t, rc, tt.before)
			if _, err := hooks.Install(rc, tt.line); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Install error = %v, want it to contain %q", err, tt.wantErr)
			}
			if got := readOrMissing(t, rc); got != tt.before {
				t.Errorf("a failed Install changed the file to %q", got)
			}
			if strings.Contains(tt.name, "block") {
				if _, err := hooks.Uninstall(rc, false); err == nil {
					t.Error("Uninstall of a broken block did not fail", false)
				}
			}
		})
	}
	dir := t.TempDir()
	if _, err := hooks.Install(dir, line); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Install into a directory: %v", err)
	}
}

// TestRCLineLoadsHook installs the real rc line for each POSIX-style shell
// (elvish and nushell load theirs only interactively: see internal/e2e), pointing at a
// binary that answers `hook SHELL` with the rendered hook, and checks that
// loading the rc file registers the hook.
func TestRCLineLoadsHook(t *testing.T) {
	check := map[string][]string{
		"bash": {"bash", "--norc", "--noprofile", "-eu", "-c", `source "$1"; [[ $PROMPT_COMMAND == _awsrole_hook ]] && echo ok`, "bash"},
		"zsh":  {"zsh", "-f", "-eu", "-c", `source "$1"; (( ${precmd_functions[(Ie)_awsrole_hook]} )) && echo ok`, "zsh"},
		"fish": {"fish", "--no-config", "-c", `source $argv[1]; functions -q __awsrole_hook; and echo ok`},
	}
	for shell := range check {
		t.Run(shell, func(t *testing.T) {
			needShell(t, shell)
			r := newRig(t)
			// The fake binary prints the hook for `hook SHELL`.
			writeFile(t, r.bin, "#!/bin/sh\ncase $1 in hook) exec cat \"$HOME/hook dir/awsrole.$2\";; esac\nexit 1\n")
			in, err := shellgen.InstallFor(shell, r.bin, env(map[string]string{"HOME": r.dir}))
			if err != nil {
				t.Fatal(err)
			}
			rc := in.File
			if _, err := hooks.Install(rc, in.Block); err != nil {
				t.Fatal(err)
			}
			stdout, stderr := r.run(t, "", append(check[shell], rc)...)
			if stdout != "ok\n" || stderr != "" {
				t.Errorf("loading %s: stdout %q, stderr %q", rc, stdout, stderr)
			}
		})
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".awsrole-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// TestRootNeverWritesThroughAnotherUsersLink: run as root with another
// user's HOME, install and uninstall refuse an rc file that is, or leads
// through, a link that user owns (it could point at a root-only file),
// and leave the file it points at alone. Root's own links still work
// (TestInstallThroughSymlink).
func TestRootNeverWritesThroughAnotherUsersLink(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	const other = 54321
	dir := t.TempDir()
	secret := filepath.Join(dir, "etc", "shadow")
	writeFile(t, secret, "root:only\n")
	os.Chmod(secret, 0o600)
	home := filepath.Join(dir, "home", "alice")
	os.MkdirAll(home, 0o755)
	link := func(t *testing.T, dest, at string, uid int) {
		t.Helper()
		os.MkdirAll(filepath.Dir(at), 0o755)
		if err := os.Symlink(dest, at); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(at, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	link(t, secret, filepath.Join(home, ".bashrc"), other)
	// A chain: root's own link to the user's link.
	link(t, filepath.Join(dir, "home", "alice", ".bashrc"), filepath.Join(home, ".zshrc"), 0)
	// A directory on the way: ~/.config is the user's link to /etc.
	link(t, filepath.Join(dir, "etc"), filepath.Join(home, ".config"), other)
	for _, rc := range []string{filepath.Join(home, ".bashrc"), filepath.Join(home, ".zshrc"), filepath.Join(home, ".config", "shadow")} {
		for name, op := range map[string]func() error{
			"install":   func() error { _, err := hooks.Install(rc, line); return err },
			"uninstall": func() error { _, err := hooks.Uninstall(rc, true); return err },
		} {
			err := op()
			if err == nil || !strings.Contains(err.Error(), "is a symbolic link owned by uid 54321; as root, awsrole never writes through another user's link") {
				t.Errorf("%s %s: %v", name, rc, err)
			}
		}
	}
	if got := readOrMissing(t, secret); got != "root:only\n" {
		t.Fatalf("the root-only file became %q", got)
	}
	if fi, err := os.Stat(secret); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the root-only file: %v %v", fi.Mode(), err)
	}
}
