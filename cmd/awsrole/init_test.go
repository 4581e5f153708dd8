package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/wire"
)

// TestInitTemplate: every key the written file suggests in a comment can be
// uncommented as it stands, for a role file and for an IAM Identity Center
// one (which must not suggest base-credential keys it cannot go with).
func TestInitTemplate(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	list := func(string) ([]wire.Assignment, error) {
		return []wire.Assignment{{AccountID: "222222222222", RoleName: "Deploy"}}, nil
	}
	commented := regexp.MustCompile(`(?m)^# ([a-z_]+ *= .*)$`)
	for name, in := range map[string]initInput{
		"role": {role: "arn:aws:iam::222222222222:role/deploy"},
		"sso":  {ssoSession: "corp", account: "222222222222", permissionSet: "Deploy", list: list},
	} {
		dir := t.TempDir()
		var out strings.Builder
		if err := runInit(&out, dir, in); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		path := filepath.Join(dir, dirconfig.FileName)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		keys := commented.FindAllStringSubmatchIndex(string(data), -1)
		if len(keys) < 4 {
			t.Fatalf("%s: only %d commented keys in:\n%s", name, len(keys), data)
		}
		for _, k := range keys {
			one := string(data[:k[0]]) + string(data[k[2]:k[3]]) + string(data[k[1]:])
			if _, err := dirconfig.Parse(path, []byte(one)); err != nil {
				t.Errorf("%s: uncommenting %q: %v", name, data[k[2]:k[3]], err)
			}
		}
	}
}

// TestInitRegion: a region given is written once, without the template's
// commented one; an IAM Identity Center file gets the user's region, else
// the session's, offered on the terminal where another may be typed.
func TestInitRegion(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	config := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(config, []byte("[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-central-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", config)
	list := func(string) ([]wire.Assignment, error) {
		return []wire.Assignment{{AccountID: "222222222222", RoleName: "Deploy"}}, nil
	}
	sso := initInput{ssoSession: "corp", account: "222222222222", permissionSet: "Deploy", list: list}
	userRegion, picked, typed := sso, sso, sso
	userRegion.env = map[string]string{"AWS_DEFAULT_REGION": "us-west-2"}
	picked.account, picked.permissionSet, picked.stdin, picked.prompt = "", "", strings.NewReader("1\n\n"), io.Discard
	typed.account, typed.permissionSet, typed.stdin, typed.prompt = "", "", strings.NewReader("1\nap-south-1\n"), io.Discard
	for name, tt := range map[string]struct {
		in   initInput
		want string
	}{
		"role --region":        {initInput{role: "arn:aws:iam::222222222222:role/deploy", region: "eu-west-1"}, "eu-west-1"},
		"sso: the session's":   {sso, "eu-central-1"},
		"sso: the user's":      {userRegion, "us-west-2"},
		"sso: picked, offered": {picked, "eu-central-1"},
		"sso: picked, typed":   {typed, "ap-south-1"},
	} {
		dir := t.TempDir()
		if err := runInit(io.Discard, dir, tt.in); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		data, err := os.ReadFile(filepath.Join(dir, dirconfig.FileName))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(data), "region "); n != 1 || !strings.Contains(string(data), "\nregion = \""+tt.want+"\"\n") {
			t.Errorf("%s: want one region line, region = %q, in:\n%s", name, tt.want, data)
		}
	}
}
