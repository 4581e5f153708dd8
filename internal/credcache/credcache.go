// Package credcache is the one credential seam of awsrole, and all of it
// that the prompt's hot path needs without linking the AWS SDK:
//
//   - Request: what the directory asks for; Resolve: which source gives the
//     base credentials (the user's keys, a profile, an IAM Identity Center
//     role) and that source's stable identity, read from the environment
//     and ~/.aws alone;
//   - Plan: the cache entries a fetch goes through (source, MFA session,
//     role), each keyed by one function of the request and the source's
//     identity, so awsrole and awsrole-sts name the same files;
//   - Provider and Cached: every step is a Provider, and Cached decorates
//     any of them with the shared cache (look up, lock, look again, fetch,
//     write, prune);
//   - Helper: what awsrole runs when the cache cannot answer, with one
//     typed, versioned request and reply.
//
// The providers that talk to AWS live in internal/creds, linked only into
// awsrole-sts.
package credcache

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/awsrole/awsrole/internal/termsafe"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

// Timeout bounds each wait of a fetch: for another shell's fetch of the
// same entry, and for one call to AWS with the SDK's retries.
const Timeout = 10 * time.Second

// ChainedMax is what STS allows a role session assumed with temporary
// credentials (role chaining: an SSO role, a role profile, an MFA session,
// a hop); awsrole caps the duration rather than fail.
const ChainedMax = time.Hour

// Credentials are temporary credentials, as cached and handed out.
type Credentials struct {
	AccessKeyID     string    `json:"access_key_id"`
	SecretAccessKey string    `json:"secret_access_key"`
	SessionToken    string    `json:"session_token"`
	Expiration      time.Time `json:"expiration"`
	// RoleARN is what the credentials are for: the role, or the label of
	// a source (an SSO account and role, a profile); a cache entry under
	// another label's key is never handed out.
	RoleARN string `json:"role_arn"`
}

// Dir is where credentials are cached.
func Dir() string { return xdgdir.Cache("credentials") }

// OneLine folds s to one line of bounded length, safe to print on a
// terminal (termsafe.String): remote error text may carry anything.
func OneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		cut := 300
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return termsafe.String(s)
}
