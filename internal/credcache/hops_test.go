package credcache_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/credcache"
)

const jumpRole = "arn:aws:iam::111111111111:role/jump"

// chainReq is a 2-hop request with every identity control set.
func chainReq() credcache.Request {
	return credcache.Request{RoleARN: roleB, SessionName: "s", Duration: time.Hour, ExternalID: "ext-1",
		Via: []string{jumpRole}, SourceIdentity: "alice",
		Tags: map[string]string{"project": "payments", "team": "core"}, TransitiveTagKeys: []string{"project"},
		PolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, Policy: `{"Statement":[]}`}
}

// TestKeysByControl: every parameter of a hop changes the key of that
// hop, and a change in an earlier hop changes every later one.
func TestKeysByControl(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	src := credcache.Source{Kind: credcache.SourceEnv, Identity: "env\x00AKIA1", Region: "us-east-1"}
	paths := func(req credcache.Request) []string {
		var out []string
		for _, s := range credcache.Plan(req, src) {
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
		edit      func(*credcache.Request)
		firstSame bool // the first hop keeps its key
	}{
		{"source identity", func(r *credcache.Request) { r.SourceIdentity = "bob" }, false},
		{"tag value", func(r *credcache.Request) { r.Tags = map[string]string{"project": "other", "team": "core"} }, false},
		{"non-transitive tag", func(r *credcache.Request) { r.Tags = map[string]string{"project": "payments", "team": "edge"} }, false},
		{"transitive keys", func(r *credcache.Request) { r.TransitiveTagKeys = nil }, false},
		{"policy arns", func(r *credcache.Request) { r.PolicyARNs = []string{"arn:aws:iam::aws:policy/AdministratorAccess"} }, true},
		{"policy", func(r *credcache.Request) { r.Policy = `{"Statement":[{}]}` }, true},
		{"external id", func(r *credcache.Request) { r.ExternalID = "ext-2" }, true},
		{"via role", func(r *credcache.Request) { r.Via = []string{"arn:aws:iam::111111111111:role/other"} }, false},
		{"longer chain", func(r *credcache.Request) { r.Via = append(r.Via, "arn:aws:iam::333333333333:role/mid") }, true},
		{"session name", func(r *credcache.Request) { r.SessionName = "t" }, false},
		{"duration", func(r *credcache.Request) { r.Duration = 30 * time.Minute }, false},
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

// TestHops: what goes with which AssumeRole of a chain.
func TestHops(t *testing.T) {
	req := chainReq()
	req.Duration = 4 * time.Hour
	hops := req.Hops()
	if len(hops) != 2 || hops[0].RoleARN != jumpRole || hops[1].RoleARN != roleB {
		t.Fatalf("hops %+v", hops)
	}
	h1, h2 := hops[0], hops[1]
	for i, h := range hops {
		if h.SourceIdentity != "alice" || h.Duration != credcache.ChainedMax {
			t.Errorf("hop %d: source identity %q, duration %s", i+1, h.SourceIdentity, h.Duration)
		}
	}
	if !maps.Equal(h1.Tags, req.Tags) || !slices.Equal(h1.TransitiveTagKeys, []string{"project"}) {
		t.Errorf("hop 1 tags %v transitive %v", h1.Tags, h1.TransitiveTagKeys)
	}
	if !maps.Equal(h2.Tags, map[string]string{"team": "core"}) || h2.TransitiveTagKeys != nil {
		t.Errorf("hop 2 must carry only the non-transitive tags: %v %v", h2.Tags, h2.TransitiveTagKeys)
	}
	if h1.Policy != "" || h1.PolicyARNs != nil || h1.ExternalID != "" || h2.Policy == "" || len(h2.PolicyARNs) != 1 || h2.ExternalID != "ext-1" {
		t.Errorf("session policies and the external id belong to the last hop: %+v / %+v", h1, h2)
	}
	if d, why := req.Effective(credcache.Source{Kind: credcache.SourceEnv}); d != credcache.ChainedMax || why == "" {
		t.Errorf("a chain is capped: %s %q", d, why)
	}
	if !req.Chained(credcache.Source{Kind: credcache.SourceEnv}) {
		t.Error("a chain is chained")
	}
	if (credcache.Request{RoleARN: roleB}).Chained(credcache.Source{Kind: credcache.SourceEnv}) {
		t.Error("a role from long-term keys is not chained")
	}
}

// TestTagsCannotPassForOthers: {"a=b": "c"} and {"a": "b=c"} are other
// session tags, so other keys.
func TestTagsCannotPassForOthers(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	src := credcache.Source{Kind: credcache.SourceEnv, Identity: "env\x00AKIA1", Region: "us-east-1"}
	a, b := chainReq(), chainReq()
	a.Tags, b.Tags = map[string]string{"a=b": "c"}, map[string]string{"a": "b=c"}
	a.TransitiveTagKeys, b.TransitiveTagKeys = nil, nil
	if credcache.Final(a, src).Path == credcache.Final(b, src).Path {
		t.Fatal("two different tag sets share a cache entry")
	}
}
