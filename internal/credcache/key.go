package credcache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
)

// Step is one cache entry a fetch goes through.
type Step struct {
	Kind  string // "source", "mfa" or "role"
	Label string // what the entry's credentials are for; see Credentials.RoleARN
	Path  string
	Hop   *Hop // the AssumeRole of a "role" step
	id    string
}

// keyVersion changes whenever what a key means changes, so old entries
// are never read as new ones.
const keyVersion = "v4"

// endpointVars steer where requests go; credentials from another endpoint
// are other credentials.
var endpointVars = []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"}

// Plan lists the cache entries of a fetch of req from src, the last being
// the credentials handed out: the source's own (an SSO role or a profile
// that gives temporary credentials), the MFA session, the role. Both
// awsrole and awsrole-sts name entries through Plan alone.
func Plan(req Request, src Source) []Step {
	var steps []Step
	prev := src.Identity
	if src.Kind != SourceEnv {
		label, region := "profile:"+src.Profile, src.Region
		if src.SSO != nil {
			// The portal is the session's sso_region (in the identity),
			// whatever region the project's calls go to.
			label, region = src.SSO.Label(), ""
		}
		steps = append(steps, newStep("source", label, nil, src.Identity, region))
		prev = src.Identity
	}
	if req.RoleARN == "" {
		return steps
	}
	if req.MFASerial != "" {
		// A session serves every region and role: one code per device.
		steps = append(steps, newStep("mfa", "mfa:"+req.MFASerial, nil, src.Identity, req.MFASerial, req.MFADuration.String()))
		prev = steps[len(steps)-1].id
	}
	for _, h := range req.Hops() {
		// Each hop is keyed by the identity it is assumed with (the
		// previous step's key) and its own parameters.
		s := newStep("role", h.RoleARN, &h, append([]string{prev, src.Region}, h.keyParts()...)...)
		steps = append(steps, s)
		prev = s.id
	}
	return steps
}

// keyParts are every parameter of h, in a fixed order. Each list is
// JSON-encoded (tags as a sorted map), so no value can pass for another:
// "a=b":"c" and "a":"b=c" are two keys.
func (h Hop) keyParts() []string {
	enc := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	return []string{h.RoleARN, h.SessionName, h.ExternalID, h.Duration.String(), "si=" + h.SourceIdentity,
		"tags=" + enc(h.Tags), "transitive=" + enc(h.TransitiveTagKeys),
		"policy_arns=" + enc(h.PolicyARNs), "policy=" + h.Policy}
}

func newStep(kind, label string, hop *Hop, parts ...string) Step {
	id := keyID(kind, parts...)
	return Step{Kind: kind, Label: label, Hop: hop, id: id, Path: filepath.Join(Dir(), kind+"-"+id+".json")}
}

// Final is the entry whose credentials a fetch of req from src hands out.
func Final(req Request, src Source) Step {
	steps := Plan(req, src)
	return steps[len(steps)-1]
}

// keyID is the one key function: a hash of everything that changes the
// result, and of the endpoints in use.
func keyID(kind string, parts ...string) string {
	all := append([]string{keyVersion, kind}, parts...)
	for _, name := range endpointVars {
		all = append(all, os.Getenv(name))
	}
	// JSON, not a separator: no part (a policy may hold anything) can
	// run into the next.
	data, _ := json.Marshal(all)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
