package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/testrig"
)

func TestParseFault(t *testing.T) {
	a, n, f, err := parseFault("AssumeRole:2:403:AccessDenied:no: really")
	if err != nil || a != "AssumeRole" || n != 2 || f.Status != 403 || f.Code != "AccessDenied" || f.Message != "no: really" {
		t.Errorf("got %q %d %+v %v", a, n, f, err)
	}
	if a, n, f, err := parseFault(":1:500"); err != nil || a != "" || n != 1 || f.Status != 500 {
		t.Errorf("got %q %d %+v %v", a, n, f, err)
	}
	for _, bad := range []string{"AssumeRole", "AssumeRole:x:403", "AssumeRole:1:x"} {
		if _, _, _, err := parseFault(bad); err == nil {
			t.Errorf("parseFault(%q) succeeded", bad)
		}
	}
}

// The binary prints its URL, serves the aws CLI, logs calls as JSON lines
// and exits when stdin closes.
func TestBinary(t *testing.T) {
	testrig.Slow(t)
	awsPath := testrig.Tool(t, "aws", "pip install awscli")
	dir := t.TempDir()
	bin := filepath.Join(dir, "stsstub")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	logPath := filepath.Join(dir, "calls.jsonl")
	cmd := exec.Command(bin, "-key", "AKIABOBBOBBOBBOBBOB1", "-arn", "arn:aws:iam::111111111111:user/bob", "-log", logPath,
		"-fail", "GetCallerIdentity:1:403:AccessDenied:injected")
	cmd.Env = append(os.Environ(), "STSSTUB_SECRET=bob-secret")
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
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("url %q", url)
	}

	awsRun := func() (string, error) {
		c := exec.Command(awsPath, "sts", "get-caller-identity", "--query", "Arn", "--output", "text")
		c.Dir = dir
		c.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_CONFIG_FILE=" + filepath.Join(dir, "none"),
			"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"), "AWS_ACCESS_KEY_ID=AKIABOBBOBBOBBOBBOB1",
			"AWS_SECRET_ACCESS_KEY=bob-secret", "AWS_ENDPOINT_URL_STS=" + url, "AWS_DEFAULT_REGION=us-east-1",
			"AWS_EC2_METADATA_DISABLED=true"}
		if v, ok := os.LookupEnv("PYENV_ROOT"); ok {
			c.Env = append(c.Env, "PYENV_ROOT="+v)
		}
		var o, e bytes.Buffer
		c.Stdout, c.Stderr = &o, &e
		err := c.Run()
		return o.String() + e.String(), err
	}
	if out, err := awsRun(); err == nil || !strings.Contains(out, "AccessDenied") {
		t.Errorf("injected fault: %v %s", err, out)
	}
	if out, err := awsRun(); err != nil || strings.TrimSpace(out) != "arn:aws:iam::111111111111:user/bob" {
		t.Errorf("second call: %v %s", err, out)
	}

	stdin.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stsstub did not exit after stdin closed")
	}

	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		t.Fatalf("log %q", data)
	}
	var first, second logLine
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	if first.Action != "GetCallerIdentity" || first.Status != 403 || first.Error != "AccessDenied" || first.AccessKeyID != "AKIABOBBOBBOBBOBBOB1" {
		t.Errorf("first %+v", first)
	}
	if second.Status != 200 || second.Error != "" {
		t.Errorf("second %+v", second)
	}
	if strings.Contains(string(data), "bob-secret") {
		t.Errorf("log leaks the secret")
	}
}
