package awsconfig_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/testrig"
)

func files(t *testing.T, config, credentials string) string {
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600)
	os.WriteFile(filepath.Join(dir, "credentials"), []byte(credentials), 0o600)
	return dir
}

// TestReadsWhatTheCLIReads: the shapes of real config files — nested
// values, comments, [default] and [profile default], '#' inside a value,
// the credentials file winning for keys.
func TestReadsWhatTheCLIReads(t *testing.T) {
	files(t, `# comment
[default]
region = eu-west-1
s3 =
    max_concurrent_requests = 20

[profile work]
; another comment
sso_session = corp
sso_account_id = 222222222222
sso_role_name = Deploy
credential_process = /bin/echo a#b

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
`, "[work]\naws_access_key_id = AKIAWORK\naws_secret_access_key = secret\n")
	f, err := awsconfig.PathsFromEnv(os.Getenv).Load()
	if err != nil {
		t.Fatal(err)
	}
	def, ok := f.Profile("default")
	if !ok || def.Get("region") != "eu-west-1" {
		t.Fatalf("default = %+v", def)
	}
	work, _ := f.Profile("work")
	if work.Get("credential_process") != "/bin/echo a#b" || work.Get("aws_access_key_id") != "AKIAWORK" {
		t.Fatalf("work = %+v", work)
	}
	id, err := f.Identity("work")
	if err != nil || !strings.Contains(id, "sso_start_url=https://corp.awsapps.com/start") || strings.Contains(id, "secret") {
		t.Fatalf("identity %q, %v", id, err)
	}
	if s, ok := f.SSOSession("corp"); !ok || s["sso_region"] != "eu-west-1" {
		t.Fatalf("session = %v", s)
	}
	if err := f.NotFound("wrok"); !strings.Contains(err.Error(), `did you mean "work"`) {
		t.Errorf("NotFound: %v", err)
	}
}

// TestTokenFileAsTheCLIWritesIt reads a token file in the aws CLI v2's
// exact format and writes one back with the same fields and time format.
func TestTokenFileAsTheCLIWritesIt(t *testing.T) {
	const cli = `{"startUrl": "https://corp.awsapps.com/start", "region": "eu-west-1", "accessToken": "aoa", "expiresAt": "2026-11-28T14:00:00Z", "clientId": "cid", "clientSecret": "csecret", "registrationExpiresAt": "2027-02-26T06:00:00Z", "refreshToken": "aor"}`
	tok, err := awsconfig.ReadToken([]byte(cli))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "aoa" || tok.RefreshToken != "aor" || !tok.ExpiresAt.Equal(time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)) {
		t.Fatalf("read %+v", tok)
	}
	out, err := json.Marshal(tok)
	if err != nil {
		t.Fatal(err)
	}
	var want, got map[string]any
	json.Unmarshal([]byte(cli), &want)
	json.Unmarshal(out, &got)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: wrote %v, the CLI writes %v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("wrote fields %v, the CLI writes %v", got, want)
	}
	if p := awsconfig.PathsFromEnv(os.Getenv).TokenPath("corp"); filepath.Base(p) != "ee0bfd2552fbd840c02cc48b6e823320543c450f.json" {
		t.Errorf("token path %s is not where the CLI keeps session corp's token", p)
	}
	// No home, no token: never a path relative to the working directory.
	if p := (awsconfig.Paths{SSOCache: ".aws/sso/cache"}).TokenPath("corp"); p != "" {
		t.Errorf("a relative token cache gave %q", p)
	}
}

// TestForeignConfigWithACommandIsRefused: a config someone else can write
// must not make awsrole run its credential_process.
func TestForeignConfigWithACommandIsRefused(t *testing.T) {
	dir := files(t, "[profile p]\ncredential_process = /bin/true\n", "")
	f, err := awsconfig.PathsFromEnv(os.Getenv).Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.CheckCommands(); err != nil {
		t.Fatalf("own file refused: %v", err)
	}
	os.Chmod(filepath.Join(dir, "config"), 0o666)
	f, _ = awsconfig.PathsFromEnv(os.Getenv).Load()
	if err := f.CheckCommands(); err == nil || !strings.Contains(err.Error(), "chmod go-w") {
		t.Fatalf("group/other-writable config with a credential_process: %v", err)
	}
	os.Chmod(filepath.Join(dir, "config"), 0o600)
	uid, gid := testrig.OtherUser(t)
	os.Chown(filepath.Join(dir, "config"), uid, gid)
	f, _ = awsconfig.PathsFromEnv(os.Getenv).Load()
	if err := f.CheckCommands(); err == nil || !strings.Contains(err.Error(), "not by you") {
		t.Fatalf("foreign config with a credential_process: %v", err)
	}
}

// TestSpecialFilesFailFast: a FIFO as ~/.aws/config fails at once.
func TestSpecialFilesFailFast(t *testing.T) {
	dir := files(t, "", "")
	os.Remove(filepath.Join(dir, "config"))
	if err := syscall.Mkfifo(filepath.Join(dir, "config"), 0o600); err != nil {
		t.Skip(err)
	}
	done := make(chan error, 1)
	go func() { _, err := awsconfig.PathsFromEnv(os.Getenv).Load(); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Load blocked on a FIFO")
	}
}
