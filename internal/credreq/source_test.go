package credreq_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/testrig"
)

// configFiles writes the user's AWS files and returns how to read them.
func configFiles(t *testing.T, config, credentials string) func() (*awsconfig.Files, error) {
	return testrig.AWSFiles(t, config, credentials).Load
}

func TestResolve(t *testing.T) {
	files := configFiles(t, testrig.AWSConfig, "[keys]\naws_access_key_id = AKIAKEYS\naws_secret_access_key = s\n")
	keys := credreq.Env{"AWS_ACCESS_KEY_ID": sp("AKIAUSER"), "AWS_SECRET_ACCESS_KEY": sp("secret")}
	role := credreq.Request{RoleARN: roleB}
	ssoFile := credreq.Request{SSO: credreq.SSORole{Session: "corp", AccountID: "333333333333", RoleName: "Admin"}}
	tests := []struct {
		name    string
		req     credreq.Request
		env     credreq.Env
		kind    credreq.SourceKind
		profile string
		chained bool
		region  string
		login   string
		wantErr string
	}{
		{name: "env keys, default profile's region", req: role, env: keys, kind: credreq.SourceEnv, region: "us-west-2"},
		{name: "env keys win over AWS_PROFILE", req: role, env: credreq.Env{"AWS_ACCESS_KEY_ID": sp("AKIAUSER"), "AWS_SECRET_ACCESS_KEY": sp("s"), "AWS_PROFILE": sp("work")},
			kind: credreq.SourceEnv, region: "us-west-2"},
		{name: "env session keys are chained", req: role, env: credreq.Env{"AWS_ACCESS_KEY_ID": sp("ASIA"), "AWS_SECRET_ACCESS_KEY": sp("s"), "AWS_SESSION_TOKEN": sp("t"), "AWS_REGION": sp("sa-east-1")},
			kind: credreq.SourceEnv, chained: true, region: "sa-east-1"},
		{name: "source_profile wins over env keys", req: credreq.Request{RoleARN: roleB, SourceProfile: "jump"}, env: keys,
			kind: credreq.SourceProfile, profile: "jump", chained: true, region: "us-east-1"},
		{name: "sso profile from AWS_PROFILE", req: role, env: credreq.Env{"AWS_PROFILE": sp("work")},
			kind: credreq.SourceSSO, profile: "work", chained: true, region: "eu-central-1", login: "awsrole login --sso-session corp"},
		{name: "AWS_DEFAULT_PROFILE", req: role, env: credreq.Env{"AWS_DEFAULT_PROFILE": sp("work")},
			kind: credreq.SourceSSO, profile: "work", chained: true, region: "eu-central-1"},
		{name: "legacy sso profile", req: role, env: credreq.Env{"AWS_PROFILE": sp("legacy")},
			kind: credreq.SourceSSO, profile: "legacy", chained: true, region: "us-east-1", login: "aws sso login --profile legacy"},
		{name: "sso in the file", req: ssoFile, env: credreq.Env{"AWS_REGION": sp("eu-west-3")},
			kind: credreq.SourceSSO, chained: true, region: "eu-west-3", login: "awsrole login --sso-session corp"},
		{name: "file region wins", req: credreq.Request{RoleARN: roleB, Region: "il-central-1"}, env: credreq.Env{"AWS_PROFILE": sp("work"), "AWS_REGION": sp("x")},
			kind: credreq.SourceSSO, profile: "work", chained: true, region: "il-central-1"},
		{name: "unknown profile names nearby ones", req: role, env: credreq.Env{"AWS_PROFILE": sp("wrok")}, wantErr: `profile "wrok" is not in`},
		{name: "profile without credentials", req: role, env: credreq.Env{"AWS_PROFILE": sp("regiononly")}, wantErr: `profile "regiononly"`},
		{name: "source_profile loop", req: role, env: credreq.Env{"AWS_PROFILE": sp("loop")}, wantErr: "takes its credentials from itself"},
		{name: "missing sso-session", req: credreq.Request{SSO: credreq.SSORole{Session: "nope", AccountID: "1", RoleName: "x"}}, wantErr: `"nope" has no [sso-session nope] section`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := credreq.Resolve(tt.req, tt.env, files, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if src.Kind != tt.kind || src.Profile != tt.profile || src.Chained != tt.chained || src.Region != tt.region {
				t.Fatalf("got kind %s profile %q chained %v region %s, want %s %q %v %s", src.Kind, src.Profile, src.Chained, src.Region, tt.kind, tt.profile, tt.chained, tt.region)
			}
			if tt.login != "" && src.LoginCommand() != tt.login {
				t.Errorf("login command %q, want %q", src.LoginCommand(), tt.login)
			}
		})
	}
	if _, err := credreq.Resolve(role, credreq.Env{"AWS_PROFILE": sp("wrok")}, files, nil); !strings.Contains(err.Error(), `did you mean "work"`) {
		t.Errorf("no suggestion: %v", err)
	}
}

func TestEffectiveDuration(t *testing.T) {
	for _, tt := range []struct {
		name   string
		req    credreq.Request
		src    credreq.Source
		want   time.Duration
		capped bool
	}{
		{"keys", credreq.Request{RoleARN: roleB, Duration: 2 * time.Hour}, credreq.Source{Kind: credreq.SourceEnv}, 2 * time.Hour, false},
		{"chained", credreq.Request{RoleARN: roleB, Duration: 2 * time.Hour}, credreq.Source{Kind: credreq.SourceSSO, Chained: true, SSO: &credreq.SSOSource{}}, time.Hour, true},
		{"mfa", credreq.Request{RoleARN: roleB, Duration: 3 * time.Hour, MFASerial: mfaSerial}, credreq.Source{Kind: credreq.SourceEnv}, time.Hour, true},
		{"chained within the cap", credreq.Request{RoleARN: roleB, Duration: 30 * time.Minute}, credreq.Source{Chained: true}, 30 * time.Minute, false},
	} {
		d, why := tt.req.Effective(tt.src)
		if d != tt.want || (why != "") != tt.capped {
			t.Errorf("%s: %s %q", tt.name, d, why)
		}
	}
}

const jumpRole = "arn:aws:iam::111111111111:role/jump"

func chainReq() credreq.Request {
	return credreq.Request{RoleARN: roleB, SessionName: "s", Duration: time.Hour, ExternalID: "ext-1",
		Via: []string{jumpRole}, SourceIdentity: "alice",
		Tags: map[string]string{"project": "payments", "team": "core"}, TransitiveTagKeys: []string{"project"},
		PolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, Policy: `{"Statement":[]}`}
}

// TestHops: what goes with which AssumeRole of a chain.
func TestHops(t *testing.T) {
	req := chainReq()
	req.Duration = 4 * time.Hour
	hops := req.Hops()
	if len(hops) != 2 || hops[0].RoleARN != jumpRole || hops[1].RoleARN != roleB {
		t.Fatalf("hops %+v", hops)
	}
	for i, h := range hops {
		if h.SourceIdentity != "alice" || h.Duration != credreq.ChainedMax {
			t.Errorf("hop %d: source identity %q, duration %s", i+1, h.SourceIdentity, h.Duration)
		}
	}
}

// TestHopTags: transitive tags go with the first hop only (STS carries
// them on and refuses them again), the others with every hop.
func TestHopTags(t *testing.T) {
	req := chainReq()
	hops := req.Hops()
	h1, h2 := hops[0], hops[1]
	if !maps.Equal(h1.Tags, req.Tags) || !slices.Equal(h1.TransitiveTagKeys, []string{"project"}) {
		t.Errorf("hop 1 tags %v transitive %v", h1.Tags, h1.TransitiveTagKeys)
	}
	if !maps.Equal(h2.Tags, map[string]string{"team": "core"}) || h2.TransitiveTagKeys != nil {
		t.Errorf("hop 2 must carry only the non-transitive tags: %v %v", h2.Tags, h2.TransitiveTagKeys)
	}
}

// TestHopPolicies: session policies and the external id belong to the
// last hop.
func TestHopPolicies(t *testing.T) {
	hops := chainReq().Hops()
	h1, h2 := hops[0], hops[1]
	if h1.Policy != "" || h1.PolicyARNs != nil || h1.ExternalID != "" || h2.Policy == "" || len(h2.PolicyARNs) != 1 || h2.ExternalID != "ext-1" {
		t.Errorf("session policies and the external id belong to the last hop: %+v / %+v", h1, h2)
	}
}

// TestChainIsChained: a chain of hops is role chaining, capped at
// ChainedMax; one role from long-term keys is not.
func TestChainIsChained(t *testing.T) {
	req := chainReq()
	req.Duration = 4 * time.Hour
	if d, why := req.Effective(credreq.Source{Kind: credreq.SourceEnv}); d != credreq.ChainedMax || why == "" {
		t.Errorf("a chain is capped: %s %q", d, why)
	}
	if !req.Chained(credreq.Source{Kind: credreq.SourceEnv}) {
		t.Error("a chain is chained")
	}
	if (credreq.Request{RoleARN: roleB}).Chained(credreq.Source{Kind: credreq.SourceEnv}) {
		t.Error("a role from long-term keys is not chained")
	}
}

const (
	roleB     = "arn:aws:iam::222222222222:role/deploy"
	mfaSerial = "arn:aws:iam::111111111111:mfa/alice"
)

func sp(s string) *string { return &s }
