package hermetic

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/internal/stsstub"
)

func TestNew(t *testing.T) {
	w := NewT(t, Options{
		User:    User{Key: "AKIATEST", Secret: "secret", ARN: "arn:aws:iam::1:user/a"},
		Session: true, BinDir: "/opt/bin",
		Files: map[string]string{".aws/config": "[default]\n"},
		Dirs:  []string{"plain"},
		Env:   map[string]*string{"AWS_REGION": nil, "EXTRA": sp("x")},
	})
	for _, d := range []string{".aws", ".config", ".local/state", ".cache", ".local/share", "plain"} {
		if fi, err := os.Stat(filepath.Join(w.Home, d)); err != nil || !fi.IsDir() {
			t.Errorf("%s is not a directory under HOME: %v", d, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(w.Home, ".aws", "config")); err != nil || string(b) != "[default]\n" {
		t.Errorf(".aws/config = %q, %v", b, err)
	}
	env := w.Environ(map[string]*string{"LATER": sp("y")})
	for _, want := range []string{"HOME=" + w.Home, "AWS_ENDPOINT_URL_STS=" + w.Stub.URL, "AWS_ACCESS_KEY_ID=AKIATEST",
		"XDG_STATE_HOME=" + filepath.Join(w.Home, ".local", "state"), "EXTRA=x", "LATER=y", "TERM=dumb"} {
		if !slices.Contains(env, want) {
			t.Errorf("environment lacks %s: %q", want, env)
		}
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "AWS_REGION=") {
			t.Errorf("an override to nil left %s", kv)
		}
		if strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "PATH=/opt/bin"+string(os.PathListSeparator)) {
			t.Errorf("BinDir is not first on %s", kv)
		}
	}
	if got := w.Dir("XDG_CACHE_HOME", "credentials"); got != filepath.Join(w.Home, ".cache", "awsrole", "credentials") {
		t.Errorf("Dir = %s", got)
	}
}

func TestDescribeCalls(t *testing.T) {
	if got := DescribeCalls(nil); got != "  (none)\n" {
		t.Errorf("DescribeCalls(nil) = %q", got)
	}
	got := DescribeCalls([]stsstub.Call{{Action: "AssumeRole", RoleArn: "arn:r", Status: 403}})
	if !strings.Contains(got, "AssumeRole") || !strings.Contains(got, "role=arn:r") || !strings.Contains(got, "status=403") {
		t.Errorf("DescribeCalls = %q", got)
	}
}

func TestNoSession(t *testing.T) {
	w := NewT(t, Options{User: User{Key: "AKIATEST", Secret: "s", ARN: "arn:aws:iam::1:user/a"}})
	for _, k := range []string{"PATH", "USER", "TERM"} {
		if _, ok := w.Env[k]; ok {
			t.Errorf("%s set without Session", k)
		}
	}
}
