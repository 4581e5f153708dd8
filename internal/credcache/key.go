package credcache

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"time"

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
// resolves them (the service's own variable, else AWS_ENDPOINT_URL). v6:
// a key is the canonical JSON of stepKey, the whole hop included.
const keyVersion = 6

// DirName is the cache's directory in awsrole's XDG cache directory.
const DirName = "credentials"

// Cache is the credential cache every shell shares, as one process sees
// it: the directory, and the endpoints its calls go to (part of every
// key). main builds it once, from the environment; nothing here reads the
// environment.
type Cache struct {
	Dir       string
	Endpoints Endpoints
}

// Endpoints are where the SDK sends STS and IAM Identity Center portal
// calls when the environment says; "" is AWS's own endpoint. Credentials
// from another endpoint are other credentials; which of AWS's regional
// endpoints gave them is no matter: they are the same credentials, valid
// in every region.
type Endpoints struct {
	STS, SSO string
}

// New is the cache in dir for a process whose environment is env: the
// endpoints are resolved as every SDK does, the service's own variable
// winning over AWS_ENDPOINT_URL.
func New(dir string, env credreq.Env) Cache {
	all := env.Get("AWS_ENDPOINT_URL")
	return Cache{Dir: dir, Endpoints: Endpoints{
		STS: cmp.Or(env.Get("AWS_ENDPOINT_URL_STS"), all),
		SSO: cmp.Or(env.Get("AWS_ENDPOINT_URL_SSO"), all),
	}}
}

// stepKey is everything that changes the credentials of a step; a step's
// key is the hash of its JSON (encoding/json: fields in order, map keys
// sorted), so a field added to credreq.Hop counts without anyone listing
// it (TestKeysCountEveryField).
type stepKey struct {
	Version int    `json:"v"`
	Kind    string `json:"kind"`
	// STS is the STS endpoint in use: every step may call STS (a hop, an
	// MFA session, a role profile as the source).
	STS string `json:"sts"`
	// SSO is the portal's endpoint, for a source step.
	SSO string `json:"sso,omitempty"`
	// From is the identity the step's calls are made with: the source's,
	// or the previous step's key.
	From string       `json:"from"`
	MFA  *mfaKey      `json:"mfa,omitempty"`
	Hop  *credreq.Hop `json:"hop,omitempty"`
}

// mfaKey is an MFA session: one code per device, for every region and role.
type mfaKey struct {
	Serial   string        `json:"serial"`
	Duration time.Duration `json:"duration"`
}

// Plan lists the cache entries of a fetch of req from src, the last being
// the credentials handed out: the source's own (an SSO role or a profile
// that gives temporary credentials), the MFA session, the role. Both
// awsrole and awsrole-sts name entries through Plan alone.
func (c Cache) Plan(req credreq.Request, src credreq.Source) []Step {
	var steps []Step
	prev := src.Identity
	if src.Kind != credreq.SourceEnv && src.Kind != credreq.SourceKeys {
		// Long-term keys (the environment's, the keyring's) have no entry
		// of their own: their secret never goes to a cache file.
		//
		// The region of the calls is not in any key: a profile's own
		// region is in its identity, the portal's is the session's
		// sso_region (in the identity too), and a session from STS in one
		// region is the same session in every other.
		label := "profile:" + src.Profile
		switch {
		case src.SSO != nil:
			label = src.SSO.Label()
		case src.WebIdentity != nil:
			// The entry role, keyed by the token's issuer, subject and
			// audience (src.Identity), never by the token itself.
			label = src.WebIdentity.RoleARN
		}
		s := c.newStep(label, stepKey{Kind: "source", SSO: c.Endpoints.SSO, From: src.Identity})
		steps = append(steps, s)
		prev = s.id
	}
	if req.RoleARN == "" {
		return steps
	}
	if req.MFASerial != "" {
		steps = append(steps, c.newStep("mfa:"+req.MFASerial, stepKey{Kind: "mfa", From: src.Identity,
			MFA: &mfaKey{Serial: req.MFASerial, Duration: req.MFADuration}}))
		prev = steps[len(steps)-1].id
	}
	for _, h := range req.Hops() {
		// Each hop is keyed by the identity it is assumed with (the
		// previous step's key) and all of itself.
		s := c.newStep(h.RoleARN, stepKey{Kind: "role", From: prev, Hop: &h})
		steps = append(steps, s)
		prev = s.id
	}
	return steps
}

func (c Cache) newStep(label string, k stepKey) Step {
	k.Version, k.STS = keyVersion, c.Endpoints.STS
	id := keyID(k)
	return Step{Kind: k.Kind, Label: label, Hop: k.Hop, id: id, Path: filepath.Join(c.Dir, k.Kind+"-"+id+".json")}
}

// Final is the entry whose credentials a fetch of req from src hands out.
func (c Cache) Final(req credreq.Request, src credreq.Source) Step {
	steps := c.Plan(req, src)
	return steps[len(steps)-1]
}

// keyID is the one key function: a hash of everything that changes the
// result. JSON, not a separator: no part (a policy may hold anything) can
// run into the next.
func keyID(k stepKey) string {
	data, err := json.Marshal(k)
	if err != nil {
		panic("credcache: a cache key cannot be encoded: " + err.Error()) // strings, numbers, maps of strings: never
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
