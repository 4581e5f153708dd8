package credcache

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/awsrole/awsrole/internal/credreq"
)

// Step is one cache entry a fetch goes through.
type Step struct {
	Kind  string // "source", "mfa" or "role"
	Label string // what the entry's credentials are for; see Credentials.RoleARN
	Path  string
	Hop   *credreq.Hop // the AssumeRole of a "role" step
	id    string
}

// keyVersion changes whenever what a key means changes, so old entries
// are never read as new ones. v5: no ambient region; endpoints as the SDK
// resolves them (the service's own variable, else AWS_ENDPOINT_URL).
const keyVersion = "v5"

// endpoint is where the SDK sends a service's calls when the environment
// says (the service's variable wins over AWS_ENDPOINT_URL, as in every
// SDK); "" is AWS's own endpoint. Credentials from another endpoint are
// other credentials; which of AWS's regional endpoints gave them is no
// matter: they are the same credentials, valid in every region.
func endpoint(serviceVar string) string {
	return cmp.Or(os.Getenv(serviceVar), os.Getenv("AWS_ENDPOINT_URL"))
}

// Plan lists the cache entries of a fetch of req from src, the last being
// the credentials handed out: the source's own (an SSO role or a profile
// that gives temporary credentials), the MFA session, the role. Both
// awsrole and awsrole-sts name entries through Plan alone.
func Plan(req credreq.Request, src credreq.Source) []Step {
	var steps []Step
	prev := src.Identity
	if src.Kind != credreq.SourceEnv {
		// The region of the calls is not in any key: a profile's own
		// region is in its identity, the portal's is the session's
		// sso_region (in the identity too), and a session from STS in one
		// region is the same session in every other.
		label := "profile:" + src.Profile
		if src.SSO != nil {
			label = src.SSO.Label()
		}
		s := newStep("source", label, nil, src.Identity, "sso="+endpoint("AWS_ENDPOINT_URL_SSO"))
		steps = append(steps, s)
		prev = s.id
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
		s := newStep("role", h.RoleARN, &h, append([]string{prev}, keyParts(h)...)...)
		steps = append(steps, s)
		prev = s.id
	}
	return steps
}

// keyParts are every parameter of h, in a fixed order. Each list is
// JSON-encoded (tags as a sorted map), so no value can pass for another:
// "a=b":"c" and "a":"b=c" are two keys.
func keyParts(h credreq.Hop) []string {
	enc := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	return []string{h.RoleARN, h.SessionName, h.ExternalID, h.Duration.String(), "si=" + h.SourceIdentity,
		"tags=" + enc(h.Tags), "transitive=" + enc(h.TransitiveTagKeys),
		"policy_arns=" + enc(h.PolicyARNs), "policy=" + h.Policy}
}

func newStep(kind, label string, hop *credreq.Hop, parts ...string) Step {
	id := keyID(kind, parts...)
	return Step{Kind: kind, Label: label, Hop: hop, id: id, Path: filepath.Join(Dir(), kind+"-"+id+".json")}
}

// Final is the entry whose credentials a fetch of req from src hands out.
func Final(req credreq.Request, src credreq.Source) Step {
	steps := Plan(req, src)
	return steps[len(steps)-1]
}

// keyID is the one key function: a hash of everything that changes the
// result, and of the STS endpoint in use (every step may call STS: a hop,
// an MFA session, a role profile as the source).
func keyID(kind string, parts ...string) string {
	all := append([]string{keyVersion, kind, "sts=" + endpoint("AWS_ENDPOINT_URL_STS")}, parts...)
	// JSON, not a separator: no part (a policy may hold anything) can
	// run into the next.
	data, _ := json.Marshal(all)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
