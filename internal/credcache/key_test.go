package credcache_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/testrig"
)

// configFiles writes the user's AWS files and returns how to read them.
func configFiles(t *testing.T, config, credentials string) func() (*awsconfig.Files, error) {
	return testrig.AWSFiles(t, config, credentials).Load
}

// TestKeysByIdentity: what changes the result changes the entry; a new
// temporary key at every resolution does not (the profile is the identity).
func TestKeysByIdentity(t *testing.T) {
	files := configFiles(t, testrig.AWSConfig, "")
	cache := credcache.Cache{Dir: t.TempDir()}
	req := credreq.Request{RoleARN: roleB, SessionName: "s", Duration: time.Hour}
	final := func(req credreq.Request, env credreq.Env) string {
		src, err := credreq.Resolve(req, env, files, nil)
		if err != nil {
			t.Fatal(err)
		}
		return cache.Final(req, src).Path
	}
	work := credreq.Env{"AWS_PROFILE": sp("work")}
	base := final(req, work)
	if base != final(req, work) {
		t.Fatal("the same request and source gave two keys")
	}
	other := func(edit func(*credreq.Request)) credreq.Request { r := req; edit(&r); return r }
	for name, k := range map[string]string{
		"role":         final(other(func(r *credreq.Request) { r.RoleARN = "arn:aws:iam::222222222222:role/other" }), work),
		"session name": final(other(func(r *credreq.Request) { r.SessionName = "t" }), work),
		"external id":  final(other(func(r *credreq.Request) { r.ExternalID = "x" }), work),
		"duration":     final(other(func(r *credreq.Request) { r.Duration = 2 * time.Hour }), work),
		"mfa":          final(other(func(r *credreq.Request) { r.MFASerial = mfaSerial }), work),
		"profile":      final(req, credreq.Env{"AWS_PROFILE": sp("jump")}),
		"env key":      final(req, credreq.Env{"AWS_ACCESS_KEY_ID": sp("AKIA1"), "AWS_SECRET_ACCESS_KEY": sp("s")}),
	} {
		if k == base {
			t.Errorf("another %s gave the same key", name)
		}
	}
	// A profile whose chain starts from the keys in the environment is
	// keyed by those keys too (the hook may find no keys, the helper's
	// SDK finds them: the same identity either way).
	fromEnv := func(key string) string {
		env := credreq.Env{"AWS_PROFILE": sp("fromenv")}
		if key != "" {
			env["AWS_ACCESS_KEY_ID"] = sp(key)
		}
		return final(credreq.Request{RoleARN: roleB, SourceProfile: "fromenv", SessionName: "s"}, env)
	}
	if k1, k2 := fromEnv("AKIA1"), fromEnv("AKIA2"); k1 == k2 {
		t.Error("credential_source = Environment: other keys in the environment gave the same key")
	} else if again := fromEnv("AKIA1"); again != k1 {
		t.Error("credential_source = Environment: the same keys gave two keys")
	}
	// A profile's definition is part of its identity.
	files = configFiles(t, strings.Replace(testrig.AWSConfig, "sso_role_name = Deploy", "sso_role_name = Admin", 1), "")
	if final(req, work) == base {
		t.Error("editing the profile kept the key")
	}
	// The endpoint is part of every key.
	cache = credcache.New(cache.Dir, credreq.Env{"AWS_ENDPOINT_URL_STS": sp("http://127.0.0.1:1")})
	if final(req, work) == base {
		t.Error("another STS endpoint kept the key")
	}
}

// TestKeysWithoutRegion: the region the calls go to is no part of a key
// (a session from STS in one region is the same in every other), and an
// endpoint counts as the SDK resolves it: AWS_ENDPOINT_URL_STS, else
// AWS_ENDPOINT_URL.
func TestKeysWithoutRegion(t *testing.T) {
	files := configFiles(t, testrig.AWSConfig, "")
	endpoints, dir := credreq.Env{}, t.TempDir() // the process's environment, as main gives it
	req := credreq.Request{RoleARN: roleB, SessionName: "s", Duration: time.Hour}
	final := func(req credreq.Request, env credreq.Env) string {
		src, err := credreq.Resolve(req, env, files, nil)
		if err != nil {
			t.Fatal(err)
		}
		return credcache.New(dir, endpoints).Final(req, src).Path
	}
	with := func(base credreq.Env, extra ...string) credreq.Env {
		env := maps.Clone(base)
		for i := 0; i < len(extra); i += 2 {
			env[extra[i]] = sp(extra[i+1])
		}
		return env
	}
	keys := func(extra ...string) credreq.Env {
		return with(credreq.Env{"AWS_ACCESS_KEY_ID": sp("AKIA1"), "AWS_SECRET_ACCESS_KEY": sp("s")}, extra...)
	}
	inRegion := req
	inRegion.Region = "sa-east-1"
	for name, env := range map[string]credreq.Env{"keys": keys(), "an SSO profile": {"AWS_PROFILE": sp("work")}} {
		base := final(req, env)
		for what, k := range map[string]string{
			"AWS_REGION":         final(req, with(env, "AWS_REGION", "ap-south-1")),
			"AWS_DEFAULT_REGION": final(req, with(env, "AWS_DEFAULT_REGION", "eu-west-1")),
			"the file's region":  final(inRegion, env),
		} {
			if k != base {
				t.Errorf("%s: %s changed the key", name, what)
			}
		}
	}
	base := final(req, keys())
	endpoints["AWS_ENDPOINT_URL_SSO_OIDC"] = sp("http://127.0.0.1:2")
	if final(req, keys()) != base {
		t.Error("the OIDC endpoint changed the key of a role assumed from keys")
	}
	endpoints["AWS_ENDPOINT_URL"] = sp("http://127.0.0.1:1")
	all := final(req, keys())
	if all == base {
		t.Error("AWS_ENDPOINT_URL (where STS calls go) kept the key")
	}
	endpoints["AWS_ENDPOINT_URL"] = sp("")
	endpoints["AWS_ENDPOINT_URL_STS"] = sp("http://127.0.0.1:1")
	if final(req, keys()) != all {
		t.Error("the same STS endpoint named by AWS_ENDPOINT_URL_STS and by AWS_ENDPOINT_URL gave two keys")
	}
	endpoints["AWS_ENDPOINT_URL"] = sp("http://127.0.0.1:3")
	if final(req, keys()) != all {
		t.Error("AWS_ENDPOINT_URL changed the key though AWS_ENDPOINT_URL_STS wins over it")
	}
}

const jumpRole = "arn:aws:iam::111111111111:role/jump"

// chainReq is a 2-hop request with every identity control set.
func chainReq() credreq.Request {
	return credreq.Request{RoleARN: roleB, SessionName: "s", Duration: time.Hour, ExternalID: "ext-1",
		Via: []string{jumpRole}, SourceIdentity: "alice",
		Tags: map[string]string{"project": "payments", "team": "core"}, TransitiveTagKeys: []string{"project"},
		PolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, Policy: `{"Statement":[]}`}
}

// TestKeysByControl: every parameter of a hop changes the key of that
// hop, and a change in an earlier hop changes every later one.
func TestKeysByControl(t *testing.T) {
	cache := credcache.Cache{Dir: t.TempDir()}
	src := credreq.Source{Kind: credreq.SourceEnv, Identity: "env\x00AKIA1", Region: "us-east-1"}
	paths := func(req credreq.Request) []string {
		var out []string
		for _, s := range cache.Plan(req, src) {
			out = append(out, s.Path)
		}
		return out
	}
	base := paths(chainReq())
	if len(base) != 2 {
		t.Fatalf("a 2-hop chain from keys has %d steps, want 2", len(base))
	}
	for _, tt := range []struct {
		name      string
		edit      func(*credreq.Request)
		firstSame bool // the first hop keeps its key
	}{
		{"source identity", func(r *credreq.Request) { r.SourceIdentity = "bob" }, false},
		{"tag value", func(r *credreq.Request) { r.Tags = map[string]string{"project": "other", "team": "core"} }, false},
		{"non-transitive tag", func(r *credreq.Request) { r.Tags = map[string]string{"project": "payments", "team": "edge"} }, false},
		{"transitive keys", func(r *credreq.Request) { r.TransitiveTagKeys = nil }, false},
		{"policy arns", func(r *credreq.Request) { r.PolicyARNs = []string{"arn:aws:iam::aws:policy/AdministratorAccess"} }, true},
		{"policy", func(r *credreq.Request) { r.Policy = `{"Statement":[{}]}` }, true},
		{"external id", func(r *credreq.Request) { r.ExternalID = "ext-2" }, true},
		{"via role", func(r *credreq.Request) { r.Via = []string{"arn:aws:iam::111111111111:role/other"} }, false},
		{"longer chain", func(r *credreq.Request) { r.Via = append(r.Via, "arn:aws:iam::333333333333:role/mid") }, true},
		{"session name", func(r *credreq.Request) { r.SessionName = "t" }, false},
		{"duration", func(r *credreq.Request) { r.Duration = 30 * time.Minute }, false},
	} {
		r := chainReq()
		r.Tags = maps.Clone(r.Tags)
		tt.edit(&r)
		got := paths(r)
		if got[len(got)-1] == base[len(base)-1] {
			t.Errorf("%s: the final key did not change", tt.name)
		}
		if (got[0] == base[0]) != tt.firstSame {
			t.Errorf("%s: first hop key same = %v, want %v", tt.name, got[0] == base[0], tt.firstSame)
		}
	}
	if !slices.Equal(paths(chainReq()), base) {
		t.Error("the same request gave other keys")
	}
}

// TestTagsCannotPassForOthers: {"a=b": "c"} and {"a": "b=c"} are other
// session tags, so other keys.
func TestTagsCannotPassForOthers(t *testing.T) {
	cache := credcache.Cache{Dir: t.TempDir()}
	src := credreq.Source{Kind: credreq.SourceEnv, Identity: "env\x00AKIA1", Region: "us-east-1"}
	a, b := chainReq(), chainReq()
	a.Tags, b.Tags = map[string]string{"a=b": "c"}, map[string]string{"a": "b=c"}
	a.TransitiveTagKeys, b.TransitiveTagKeys = nil, nil
	if cache.Final(a, src).Path == cache.Final(b, src).Path {
		t.Fatal("two different tag sets share a cache entry")
	}
}

const (
	roleB     = "arn:aws:iam::222222222222:role/deploy"
	mfaSerial = "arn:aws:iam::111111111111:mfa/alice"
)

func sp(s string) *string { return &s }
