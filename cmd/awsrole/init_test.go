package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
)

// TestInitTemplate: every key the written file suggests in a comment can be
// uncommented as it stands, for a role file and for an IAM Identity Center
// one (which must not suggest base-credential keys it cannot go with).
func TestInitTemplate(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	list := func(string) ([]credcache.Assignment, error) {
		return []credcache.Assignment{{AccountID: "222222222222", RoleName: "Deploy"}}, nil
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
