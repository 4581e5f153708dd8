package credreq_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
)

// TestSourceKeys: source_keys wins over the environment's keys and a
// profile, is named by name and key id (never the secret), reads no AWS
// file when the region is known, and gets no cache entry of its own.
func TestSourceKeys(t *testing.T) {
	stored := map[string]credreq.StoredKeys{"bob": {Name: "bob", AccessKeyID: "AKIABOB", MFASerial: "arn:aws:iam::1:mfa/bob"}}
	lookup := func(name string) (credreq.StoredKeys, error) {
		if k, ok := stored[name]; ok {
			return k, nil
		}
		return credreq.StoredKeys{}, errors.New("no keys named " + name)
	}
	noFiles := func() (*awsconfig.Files, error) { t.Fatal("read ~/.aws"); return nil, nil }
	env := credreq.Env{"AWS_ACCESS_KEY_ID": sp("AKIAENV"), "AWS_SECRET_ACCESS_KEY": sp("s"), "AWS_REGION": sp("eu-west-1")}
	req := credreq.Request{RoleARN: "arn:aws:iam::2:role/r", SourceKeys: "bob"}
	src, err := credreq.Resolve(req, env, noFiles, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if src.Kind != credreq.SourceKeys || src.Keys == nil || src.Keys.MFASerial != "arn:aws:iam::1:mfa/bob" || src.Chained || src.Region != "eu-west-1" {
		t.Fatalf("source = %+v", src)
	}
	if src.Identity != "keys\x00bob\x00AKIABOB" {
		t.Errorf("identity %q: want name and key id", src.Identity)
	}
	if d := src.Describe(); d != `the keys "bob" in your keyring` {
		t.Errorf("Describe = %q", d)
	}

	// A rotated key is another source: no session of the old key is
	// handed out for the new.
	cache := credcache.Cache{Dir: t.TempDir()}
	before := cache.Final(req, src).Path
	stored["bob"] = credreq.StoredKeys{Name: "bob", AccessKeyID: "AKIABOB2"}
	rotated, err := credreq.Resolve(req, env, noFiles, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if cache.Final(req, rotated).Path == before {
		t.Error("the rotated key shares the old key's cache entry")
	}
	// Long-term keys have no entry of their own: only the role's.
	if steps := cache.Plan(req, rotated); len(steps) != 1 || steps[0].Kind != "role" {
		t.Errorf("plan = %+v, want the role only", steps)
	}

	req.SourceKeys = "bbo"
	if _, err := credreq.Resolve(req, env, noFiles, lookup); err == nil || !strings.Contains(err.Error(), "no keys named bbo") {
		t.Errorf("unknown name: %v", err)
	}
}
