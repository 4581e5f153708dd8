package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/stsstub"

	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

const roleJump = "arn:aws:iam::111111111111:role/jump"

// TestChainInBash: a 2-hop chain (via) with a source identity and a
// transitive tag. 16 processes entering at once cost one AssumeRole per
// hop; hop 1 is signed with the user's key, hop 2 with hop 1's
// credentials, both carry the source identity, and hop 2 inherits the
// transitive tag. A real bash then enters and the AWS CLI sees the role.
func TestChainInBash(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, map[string]*string{"AWS_SESSION_TOKEN": sp("")})
	r.install("bash")
	proj := r.write("chain/.awsrole.toml", `role_arn = "`+roleDeploy+`"
via = ["`+roleJump+`"]
session_name = "e2e-chain"
region = "eu-west-1"
source_identity = "{user}"
tags = { project = "payments", team = "core" }
transitive_tag_keys = ["project"]
policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
`)
	dir := strings.TrimSuffix(proj, "/.awsrole.toml")
	r.awsrole(dir, "allow", dir)
	r.Stub.FailNext("AssumeRole", 1, stsstub.Fault{Hang: 1500 * time.Millisecond})

	const n = 16
	for i, res := range enterAtOnce(r, dir, n, 4194304+2000) {
		if res.err != nil || res.stderr != "" {
			t.Errorf("process %d: %v %s", i, res.err, res.stderr)
		}
	}
	calls := r.assumeCalls("e2e-chain")
	if len(calls) != 2 {
		t.Fatalf("%d processes entering a 2-hop chain made %d AssumeRole calls, want 2:\n%s", n, len(calls), hermetic.DescribeCalls(calls))
	}
	hop1, hop2 := calls[0], calls[1]
	if hop1.RoleArn != roleJump || hop1.AccessKeyID != userKey {
		t.Errorf("hop 1: %s signed with %s, want %s with the user's key", hop1.RoleArn, hop1.AccessKeyID, roleJump)
	}
	if hop2.RoleArn != roleDeploy || hop2.AccessKeyID == "" || hop2.AccessKeyID != hop1.Issued {
		t.Errorf("hop 2: %s signed with %s, want %s with hop 1's credentials (%s)", hop2.RoleArn, hop2.AccessKeyID, roleDeploy, hop1.Issued)
	}
	if hop1.SourceIdentity == "" || hop1.SourceIdentity != hop2.SourceIdentity {
		t.Errorf("source identity: hop 1 %q, hop 2 %q; want the same on each", hop1.SourceIdentity, hop2.SourceIdentity)
	}
	if hop1.Tags["project"] != "payments" || len(hop1.TransitiveTags) != 1 || hop1.TransitiveTags[0] != "project" {
		t.Errorf("hop 1 tags %v transitive %v", hop1.Tags, hop1.TransitiveTags)
	}
	if hop2.InheritedTags["project"] != "payments" || hop2.Tags["team"] != "core" || hop2.Tags["project"] != "" {
		t.Errorf("hop 2: inherited %v, own tags %v; want project inherited, team passed", hop2.InheritedTags, hop2.Tags)
	}
	if len(hop1.PolicyArns) != 0 || len(hop2.PolicyArns) != 1 {
		t.Errorf("session policies go with the last hop: %v / %v", hop1.PolicyArns, hop2.PolicyArns)
	}
	for _, c := range calls {
		if c.DurationSeconds > 3600 {
			t.Errorf("%s asked for %d s; a chain is capped at 1 h", c.RoleArn, c.DurationSeconds)
		}
	}

	// A real bash: the cache answers, the AWS CLI sees the role.
	s := r.startShell("bash", "", nil)
	s.Run(s.Cd(dir))
	wantActive(t, r, "in the chained project", s.Managed(), roleDeploy, dir, "eu-west-1")
	if got, want := callerArn(s), "arn:aws:sts::222222222222:assumed-role/deploy/e2e-chain"; got != want {
		t.Errorf("get-caller-identity: %q, want %q", got, want)
	}
	if got := r.Stub.Count("AssumeRole"); got != 2 {
		t.Errorf("after the shell entered: %d AssumeRole calls, want still 2", got)
	}
	if out := s.Run("awsrole status"); !strings.Contains(out, roleJump) || !strings.Contains(out, "chain:") {
		t.Errorf("awsrole status does not list the chain:\n%s", out)
	}
}
