package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/engine"
)

func TestProfileName(t *testing.T) {
	for _, tt := range []struct{ base, dir, want string }{
		{"/co", "/co/services/api", "services-api"},
		{"/co", "/co", "co"},
		{"/co", "/elsewhere/x", "x"},
		{"/co", "/co/a b/c", "a-b-c"},
	} {
		if got := engine.ProfileName(tt.base, tt.dir); got != tt.want {
			t.Errorf("ProfileName(%s, %s) = %q, want %q", tt.base, tt.dir, got, tt.want)
		}
	}
	// Through a symlink to the checkout, the names are the same.
	real := t.TempDir()
	os.MkdirAll(filepath.Join(real, "services", "api"), 0o755)
	link := filepath.Join(t.TempDir(), "co")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if got := engine.ProfileName(link, filepath.Join(real, "services", "api")); got != "services-api" {
		t.Errorf("through a symlink: %q, want services-api", got)
	}
	for _, bad := range []string{"", "a]b", "-x", "a b", "[x"} {
		if engine.CheckProfileName(bad) == nil {
			t.Errorf("profile name %q accepted", bad)
		}
	}
}

// The profiles are one marked block: written again, it replaces itself
// and leaves the user's own profiles as they were.
func TestWriteProfiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	own := "[default]\nregion = us-east-1\n\n[profile mine]\nregion = eu-west-1"
	if err := os.WriteFile(path, []byte(own), 0o600); err != nil {
		t.Fatal(err)
	}
	dirs := []engine.ProfileDir{{Name: "api", Dir: "/co/services/api", Region: "eu-west-1"}, {Name: "odd", Dir: "/co/it's here"}}
	block, err := engine.ProfilesBlock(dirs, "/opt/bin/awsrole")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := engine.WriteProfiles(path, block, dirs); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(path)
	got := string(data)
	want := own + "\n# >>> awsrole ci profiles (rewritten by awsrole ci profiles) >>>\n" +
		"[profile api]\ncredential_process = /opt/bin/awsrole credential-process --dir /co/services/api\nregion = eu-west-1\n" +
		"[profile odd]\ncredential_process = /opt/bin/awsrole credential-process --dir '/co/it'\\''s here'\n" +
		"# <<< awsrole ci profiles <<<\n"
	if got != want {
		t.Fatalf("config:\n%s\nwant:\n%s", got, want)
	}
	for _, name := range []string{"mine", "default"} {
		d := []engine.ProfileDir{{Name: name, Dir: "/co"}}
		block, err := engine.ProfilesBlock(d, "awsrole")
		if err != nil {
			t.Fatal(err)
		}
		if err := engine.WriteProfiles(path, block, d); err == nil || !strings.Contains(err.Error(), "already has a [profile "+name+"]") {
			t.Errorf("a profile named %s: %v, want refused", name, err)
		}
	}
}

// The AWS config is edited as an rc file is: through a dotfiles symlink
// (the link stays, the file it points at gets the block), never waiting
// on a FIFO, never reading more than a config holds, and a new one is
// 0600 as the aws CLI makes it.
func TestWriteProfilesConfigFile(t *testing.T) {
	dirs := []engine.ProfileDir{{Name: "api", Dir: "/co/api"}}
	block, err := engine.ProfilesBlock(dirs, "awsrole")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	real := filepath.Join(tmp, "dotfiles", "aws-config")
	os.MkdirAll(filepath.Dir(real), 0o755)
	if err := os.WriteFile(real, []byte("[default]\nregion = us-east-1\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(tmp, "config")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if err := engine.WriteProfiles(link, block, dirs); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the config link was replaced: %v %v", fi.Mode(), err)
	}
	if data, _ := os.ReadFile(real); !strings.Contains(string(data), "[profile api]") || !strings.HasPrefix(string(data), "[default]") {
		t.Errorf("the linked file holds %q", data)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o640 {
		t.Errorf("the linked file's mode became %04o, want 0640 kept", fi.Mode().Perm())
	}

	fresh := filepath.Join(tmp, "new", "config")
	if err := engine.WriteProfiles(fresh, block, dirs); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("a new config: %v, want mode 0600", err)
	}

	fifo := filepath.Join(tmp, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(tmp, "big")
	if err := os.WriteFile(big, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{fifo: "not a regular file", big: "larger than"} {
		done := make(chan error, 1)
		go func() { done <- engine.WriteProfiles(path, block, dirs) }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("WriteProfiles(%s): %v, want %q", filepath.Base(path), err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("WriteProfiles(%s) still waiting after 5 s", filepath.Base(path))
		}
	}
}

// Masks first, each secret once; GITHUB_ENV lines in the heredoc form,
// sorted; a variable to unset that the job has is set empty.
func TestGitHubEnv(t *testing.T) {
	v := func(s string) *string { return &s }
	desired := map[string]*string{"AWS_ACCESS_KEY_ID": v("ASIAXXXXXXXXXXXXXXXX"), "AWS_SECRET_ACCESS_KEY": v("se%cr\net"),
		"AWS_PROFILE": nil, "AWS_DEFAULT_PROFILE": nil}
	masks, lines := engine.GitHubEnv(desired, map[string]string{"AWS_PROFILE": "x"}, []string{"ASIAXXXXXXXXXXXXXXXX", "se%cr\net", ""})
	if masks != "::add-mask::ASIAXXXXXXXXXXXXXXXX\n::add-mask::se%25cr%0Aet\n" {
		t.Errorf("masks %q", masks)
	}
	lns := strings.Split(lines, "\n")
	if len(lns) != 11 || !strings.HasPrefix(lns[0], "AWS_ACCESS_KEY_ID<<ghadelimiter_") || lns[2] != lns[0][len("AWS_ACCESS_KEY_ID<<"):] ||
		!strings.HasPrefix(lns[3], "AWS_PROFILE<<") || lns[4] != "" || !strings.HasPrefix(lns[6], "AWS_SECRET_ACCESS_KEY<<") || lns[7] != "se%cr" {
		t.Errorf("GITHUB_ENV lines:\n%s", lines)
	}
	if strings.Contains(lines, "AWS_DEFAULT_PROFILE") {
		t.Error("a variable the job does not have was written")
	}
}

// TestProfilesRefused: a name two directories share, a path that would
// start a section of its own, and a profile the user's config has under
// any spacing are refused; nothing is written.
func TestProfilesRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		dirs []engine.ProfileDir
		want string
	}{
		{"one name, two directories", []engine.ProfileDir{{Name: "services-api", Dir: "/co/services/api"}, {Name: "services-api", Dir: "/co/services-api"}}, "would be both"},
		{"newline in a path", []engine.ProfileDir{{Name: "ok", Dir: "/co/x\n[profile default]\ncredential_process = touch /tmp/pwned\n#"}}, "control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := engine.ProfilesBlock(tc.dirs, "/opt/bin/awsrole"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "config")
	own := "[profile   api ]\nregion = us-east-1\n"
	if err := os.WriteFile(path, []byte(own), 0o600); err != nil {
		t.Fatal(err)
	}
	dirs := []engine.ProfileDir{{Name: "api", Dir: "/co/api"}}
	block, err := engine.ProfilesBlock(dirs, "/opt/bin/awsrole")
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.WriteProfiles(path, block, dirs); err == nil || !strings.Contains(err.Error(), "already has a [profile api]") {
		t.Errorf("err = %v, want the user's own profile refused", err)
	}
	if data, _ := os.ReadFile(path); string(data) != own {
		t.Errorf("the config changed: %q", data)
	}
}
