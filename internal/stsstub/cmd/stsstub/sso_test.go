package main

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/testrig"
)

// The binary signs an SSO user in from flags: the token file it writes is
// what the aws CLI's own SSO provider reads, and the log shows the portal
// and OIDC calls.
func TestBinarySSO(t *testing.T) {
	testrig.Slow(t)
	awsPath := testrig.Tool(t, "aws", "pip install awscli")
	home := t.TempDir()
	bin := filepath.Join(t.TempDir(), "stsstub")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cacheDir := filepath.Join(home, ".aws", "sso", "cache")
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		t.Fatal(err)
	}
	const start = "https://corp.awsapps.com/start"
	config := "[profile x]\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = Deploy\nregion = eu-west-1\n\n" +
		"[sso-session corp]\nsso_start_url = " + start + "\nsso_region = eu-west-1\n"
	if err := os.WriteFile(filepath.Join(home, ".aws", "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(home, "calls.jsonl")
	// An expired access token: the CLI must refresh it through CreateToken first.
	cmd := exec.Command(bin, "-key", "AKIABOBBOBBOBBOBBOB1", "-secret", "bob-secret", "-log", logPath,
		"-sso-assign", "222222222222:Deploy", "-sso-assign", "333333333333:ReadOnly", "-sso-user", "carol",
		"-sso-session", "corp", "-sso-token-file", cacheDir, "-sso-start-url", start, "-sso-region", "eu-west-1",
		"-sso-token-ttl", "-1m")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	url = strings.TrimSpace(url)

	sum := sha1.Sum([]byte("corp"))
	tokenFile := filepath.Join(cacheDir, hex.EncodeToString(sum[:])+".json")
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]string
	if err := json.Unmarshal(b, &tok); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"startUrl", "region", "accessToken", "expiresAt", "refreshToken", "clientId", "clientSecret", "registrationExpiresAt"} {
		if tok[k] == "" {
			t.Errorf("token file lacks %s: %s", k, b)
		}
	}
	if exp, err := time.Parse("2006-01-02T15:04:05Z", tok["expiresAt"]); err != nil || exp.After(time.Now()) || tok["region"] != "eu-west-1" || tok["startUrl"] != start {
		t.Errorf("token file %s (expiresAt: %v)", b, err)
	}

	c := exec.Command(awsPath, "sts", "get-caller-identity", "--profile", "x", "--query", "Arn", "--output", "text")
	c.Dir = home
	c.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AWS_CONFIG_FILE=" + filepath.Join(home, ".aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"), "AWS_ENDPOINT_URL_STS=" + url,
		"AWS_ENDPOINT_URL_SSO=" + url, "AWS_ENDPOINT_URL_SSO_OIDC=" + url, "AWS_EC2_METADATA_DISABLED=true"}
	if v, ok := os.LookupEnv("PYENV_ROOT"); ok {
		c.Env = append(c.Env, "PYENV_ROOT="+v)
	}
	var o, e bytes.Buffer
	c.Stdout, c.Stderr = &o, &e
	if err := c.Run(); err != nil || !strings.HasPrefix(o.String(), "arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_Deploy_") ||
		!strings.HasSuffix(strings.TrimSpace(o.String()), "/carol") {
		t.Fatalf("aws sts get-caller-identity --profile x: %v\n%s%s", err, o.String(), e.String())
	}

	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v", err)
	}
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var l logLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{l.Action, l.AccountID, l.RoleName, l.GrantType}, "|"))
	}
	want := "CreateToken|||refresh_token GetRoleCredentials|222222222222|Deploy| GetCallerIdentity|||"
	if strings.Join(got, " ") != want {
		t.Errorf("log = %q\nwant  %q", got, want)
	}
	if strings.Contains(string(data), tok["accessToken"]) || strings.Contains(string(data), tok["refreshToken"]) {
		t.Error("log leaks a token")
	}
}

func TestSSOFlagsTokenPath(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	sum := sha1.Sum([]byte("corp"))
	named := hex.EncodeToString(sum[:]) + ".json"
	for _, tc := range []struct {
		f    ssoFlags
		want string
	}{
		{ssoFlags{}, ""},
		{ssoFlags{session: "corp"}, filepath.Join(dir, ".aws", "sso", "cache", named)},
		{ssoFlags{session: "corp", tokenFile: dir}, filepath.Join(dir, named)},
		{ssoFlags{session: "corp", tokenFile: filepath.Join(dir, "t.json")}, filepath.Join(dir, "t.json")},
	} {
		if got, err := tc.f.tokenPath(); err != nil || got != tc.want {
			t.Errorf("%+v: %q, %v; want %q", tc.f, got, err, tc.want)
		}
	}
}
