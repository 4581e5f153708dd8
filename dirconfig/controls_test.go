package dirconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestControlErrors: each bad identity control or guardrail is one line
// naming the file, the line and the key, and saying what is wrong.
func TestControlErrors(t *testing.T) {
	const role = `role_arn = "arn:aws:iam::222222222222:role/deploy"` + "\n"
	manyTags := "tags = {"
	for i := range 51 {
		manyTags += fmt.Sprintf("t%d = \"v\",", i)
	}
	manyTags = strings.TrimSuffix(manyTags, ",") + "}"
	for _, tt := range []struct{ name, body, key, want string }{
		{"via not an array", `via = "arn:aws:iam::111111111111:role/jump"`, "via", "must be an array"},
		{"via bad arn", `via = ["arn:aws:iam::1111:role/jump"]`, "via", "entry 1"},
		{"via user arn", `via = ["arn:aws:iam::111111111111:user/alice"]`, "via", "names an IAM user"},
		{"source identity chars", `source_identity = "alice smith"`, "source_identity", "not allowed"},
		{"source identity aws prefix", `source_identity = "aws:me"`, "source_identity", "reserves"},
		{"source identity short", `source_identity = "a"`, "source_identity", "is 1 characters"},
		{"tags not a table", `tags = ["a"]`, "tags", "must be a table"},
		{"tag value type", `tags = { project = 1 }`, "tags", "must be a string"},
		{"tag key aws", `tags = { "aws:x" = "y" }`, "tags", "reserves"},
		{"tag key chars", `tags = { "pro*ject" = "y" }`, "tags", "tag key"},
		{"tag value long", `tags = { project = "` + strings.Repeat("v", 257) + `" }`, "tags", "at most 256"},
		{"tag keys by case", `tags = { project = "a", Project = "b" }`, "tags", "differ only in case"},
		{"too many tags", manyTags, "tags", "at most 50"},
		{"transitive not in tags", "tags = { project = \"p\" }\ntransitive_tag_keys = [\"team\"]", "transitive_tag_keys", "not in tags"},
		{"policy arn syntax", `policy_arns = ["ReadOnlyAccess"]`, "policy_arns", "not a policy ARN"},
		{"policy arn role", `policy_arns = ["arn:aws:iam::aws:role/x"]`, "policy_arns", "names no policy"},
		{"policy arn account", `policy_arns = ["arn:aws:iam::12:policy/x"]`, "policy_arns", "12 digits"},
		{"policy json", `policy = '''{"Statement": [}'''`, "policy", "not valid JSON"},
		{"policy not a policy", `policy = '''{"a": 1}'''`, "policy", "no \"Statement\""},
		{"policy packed size", `policy = '''{"Statement": "` + strings.Repeat("x", 2100) + `"}'''`, "policy", "packed-size"},
		{"policy and file", "policy = '''{\"Statement\": []}'''\npolicy_file = \"p.json\"", "policy_file", "cannot go with policy"},
		{"policy file absolute", `policy_file = "/etc/p.json"`, "policy_file", "must be relative"},
		{"policy file above", `policy_file = "sub/../../p.json"`, "policy_file", "inside it"},
		{"environment type", `environment = 1`, "environment", "must be a string"},
		{"confirm type", `confirm = "yes"`, "confirm", "true or false"},
		{"federation url", `console_federation_url = "http://x"`, "console_federation_url", "not allowed in a per-directory file"},
		{"credentials mode", `credentials = "endpoint"`, "credentials", "not allowed in a per-directory file"},
		{"endpoint idle", `endpoint_idle = "1h"`, "endpoint_idle", "not allowed in a per-directory file"},
		{"sso login", `sso_login = "auto"`, "sso_login", "not allowed in a per-directory file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("/p/.awsrole.toml", []byte(role+tt.body+"\n"))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "/p/.awsrole.toml:2: "+tt.key+": ") && !strings.HasPrefix(msg, "/p/.awsrole.toml:3: "+tt.key+": ") {
				t.Errorf("not file:line:key: %s", msg)
			}
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("got %q, want one line with %q", msg, tt.want)
			}
		})
	}
	if _, err := Parse("/p/.awsrole.toml", []byte("via = [\"arn:aws:iam::111111111111:role/jump\"]\nsso_account_id = \"222222222222\"\nsso_role_name = \"D\"\n")); err == nil || !strings.Contains(err.Error(), "via: needs role_arn") {
		t.Errorf("via without role_arn: %v", err)
	}
}

func TestControlsParse(t *testing.T) {
	c, err := Parse("/p/.awsrole.toml", []byte(`role_arn = "arn:aws:iam::222222222222:role/deploy"
via = ["arn:aws:iam::111111111111:role/jump", "arn:aws-us-gov:iam::333333333333:role/path/mid"]
source_identity = "{user}"
tags = { project = "payments", "cost center" = "4 2" }
transitive_tag_keys = ["project"]
policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::222222222222:policy/team/Deploy"]
policy = '''
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
'''
environment = "prod"
confirm = true
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Via) != 2 || c.SourceIdentity != "{user}" || c.Tags["cost center"] != "4 2" || len(c.PolicyARNs) != 2 ||
		c.Policy == "" || c.Environment != "prod" || !c.Confirm || c.TransitiveTagKeys[0] != "project" {
		t.Errorf("%+v", c)
	}
}

// TestPolicyFileTrust: the policy file is read next to the config, and
// its content is part of what `awsrole allow` approved.
func TestPolicyFileTrust(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(FileName, "role_arn = \"arn:aws:iam::222222222222:role/deploy\"\npolicy_file = \"p.json\"\n")
	write("p.json", `{"Statement": []}`)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy != `{"Statement": []}` {
		t.Errorf("policy %q", c.Policy)
	}
	if err := testTrust().Allow(c); err != nil {
		t.Fatal(err)
	}
	if tr, _ := testTrust().Of(c, nil); tr != TrustAllowed {
		t.Fatalf("trust %v after allow", tr)
	}
	write("p.json", `{"Statement": [{"Effect": "Allow"}]}`)
	c2, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if tr, _ := testTrust().Of(c2, nil); tr != TrustUnknown || c2.Hash == c.Hash {
		t.Errorf("editing the policy file kept trust (%v) or the hash", tr)
	}
	write("p.json", `{"Statement": [}`)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "policy_file: ") || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("bad policy file: %v", err)
	}
	write("p.json", strings.Repeat(" ", MaxPolicyFile+1))
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("huge policy file: %v", err)
	}
	checkPolicyLinkOut(t, dir, path)
}

// checkPolicyLinkOut: a link out of the project is not followed: a
// project's file may not make awsrole read what else the user can read.
func checkPolicyLinkOut(t *testing.T, dir, path string) {
	t.Helper()
	outside := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(outside, []byte(`{"Statement": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "p.json"))
	if err := os.Symlink(outside, filepath.Join(dir, "p.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "link out of") {
		t.Errorf("policy file linked out of the project: %v", err)
	}
}

// TestPolicyFileNotRegular: a policy_file that is a directory, a FIFO, a
// symlink loop or missing is an error naming the key and the file, on one
// line, without waiting (it was a nil dereference at every prompt).
func TestPolicyFileNotRegular(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(t *testing.T, p string)
		want string
	}{
		{"directory", func(t *testing.T, p string) { os.Mkdir(p, 0o755) }, "is a directory"},
		{"fifo", func(t *testing.T, p string) {
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "named pipe"},
		{"loop", func(t *testing.T, p string) { os.Symlink(filepath.Base(p), p) }, "symlink loop"},
		{"missing", func(*testing.T, string) {}, "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			mkfile(t, path, "role_arn = \"arn:aws:iam::222222222222:role/deploy\"\npolicy_file = \"docs\"\n")
			tc.make(t, filepath.Join(dir, "docs"))
			_, err := loadWithin(t, path, timeoutLoad)
			if err == nil {
				t.Fatal("loaded")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, path+":2: policy_file: "+filepath.Join(dir, "docs")+": ") || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line naming the key, the policy file and %q", msg, tc.want)
			}
		})
	}
}
