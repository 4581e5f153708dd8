package credcache

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
)

// Step is one cache entry a fetch goes through.
type Step struct {
	Kind  string // "source", "mfa" or "role"
	Label string // what the entry's credentials are for; see Credentials.RoleARN
	Path  string
}

// keyVersion changes whenever what a key means changes, so old entries
// are never read as new ones.
const keyVersion = "v2"

// endpointVars steer where requests go; credentials from another endpoint
// are other credentials.
var endpointVars = []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"}

// Plan lists the cache entries of a fetch of req from src, the last being
// the credentials handed out: the source's own (an SSO role or a profile
// that gives temporary credentials), the MFA session, the role. Both
// awsrole and awsrole-sts name entries through Plan alone.
func Plan(req Request, src Source) []Step {
	var steps []Step
	if src.Kind != SourceEnv {
		label, region := "profile:"+src.Profile, src.Region
		if src.SSO != nil {
			// The portal is the session's sso_region (in the identity),
			// whatever region the project's calls go to.
			label, region = src.SSO.ARN(), ""
		}
		steps = append(steps, Step{Kind: "source", Label: label,
			Path: path("source", src.Identity, region)})
	}
	if req.RoleARN == "" {
		return steps
	}
	if req.MFASerial != "" {
		// A session serves every region and role: one code per device.
		steps = append(steps, Step{Kind: "mfa", Label: "mfa:" + req.MFASerial,
			Path: path("mfa", src.Identity, req.MFASerial, req.MFADuration.String())})
	}
	return append(steps, Step{Kind: "role", Label: req.RoleARN,
		Path: path("role", src.Identity, req.RoleARN, req.SessionName, req.ExternalID, req.MFASerial,
			req.Duration.String(), src.Region)})
}

// Final is the entry whose credentials a fetch of req from src hands out.
func Final(req Request, src Source) Step {
	steps := Plan(req, src)
	return steps[len(steps)-1]
}

// path is the one key function: a hash of everything that changes the
// result, and of the endpoints in use.
func path(kind string, parts ...string) string {
	all := append([]string{keyVersion, kind}, parts...)
	for _, name := range endpointVars {
		all = append(all, os.Getenv(name))
	}
	sum := sha256.Sum256([]byte(strings.Join(all, "\x00")))
	return filepath.Join(Dir(), kind+"-"+hex.EncodeToString(sum[:])+".json")
}
