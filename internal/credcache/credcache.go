// Package credcache is the credential cache every shell shares, and all
// of it that the prompt's hot path needs without linking the AWS SDK:
//
//   - Plan: the cache entries a fetch goes through (source, MFA session,
//     role), each keyed by one function of the request (internal/credreq)
//     and the source's identity, so awsrole and awsrole-sts name the same
//     files;
//   - Provider and Cached: every step is a Provider, and Cached decorates
//     any of them with the shared cache (look up, lock, look again, fetch,
//     write, prune);
//   - Lookup and Prune: reading an entry without fetching, and clearing
//     out the expired ones.
//
// The providers that talk to AWS live in internal/creds, linked only into
// awsrole-sts; the protocol between the two binaries is internal/wire.
package credcache

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/awsrole/awsrole/internal/termsafe"
)

// Timeout bounds each wait of a fetch: for another shell's fetch of the
// same entry, and for one call to AWS with the SDK's retries.
const Timeout = 10 * time.Second

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

// MaxSessionToken bounds the session token awsrole hands out. A shell
// carries it as one environment string, AWS_SESSION_TOKEN=..., which Linux
// refuses to pass to any program above MAX_ARG_STRLEN (128 KiB): a bigger
// token would make every command in the project fail with "Argument list
// too long". Real STS and portal tokens are a few KiB (session tags and
// policies included); 64 KiB is ten times that and leaves half of the
// string limit, and most of the 2 MiB that all of a command's arguments
// and environment share, to everything else.
const MaxSessionToken = 64 << 10

// maxSecret bounds an access key id and a secret: AWS's are 20 and 40
// characters, an access key id at most 128.
const maxSecret = 128

// Check refuses credentials that no shell or SDK could use: an empty or
// malformed access key id (16 to 128 letters and digits), secret (at most
// 128 bytes of text without NUL, which no environment can hold) or, for a
// session, session token (printable ASCII without spaces), or a token
// longer than MaxSessionToken. The error never quotes a value.
func (c Credentials) Check(session bool) error {
	switch {
	case c.AccessKeyID == "":
		return errors.New("an empty access key id")
	case len(c.AccessKeyID) < 16 || len(c.AccessKeyID) > maxSecret || strings.IndexFunc(c.AccessKeyID, notKeyIDChar) >= 0:
		return fmt.Errorf("an access key id that is not one (%d characters, want 16 to %d letters and digits)", len(c.AccessKeyID), maxSecret)
	case c.SecretAccessKey == "":
		return errors.New("an empty secret access key")
	case len(c.SecretAccessKey) > maxSecret || strings.ContainsRune(c.SecretAccessKey, 0) || !utf8.ValidString(c.SecretAccessKey):
		// Any other byte is the shells' quoting's business (and is
		// tested there): a secret need not be base64 to be carried.
		return fmt.Errorf("a secret access key that is not one (%d bytes, want at most %d of text)", len(c.SecretAccessKey), maxSecret)
	case session && c.SessionToken == "":
		return errors.New("an empty session token")
	case len(c.SessionToken) > MaxSessionToken:
		return fmt.Errorf("a session token of %d bytes, more than a shell can pass to a program (awsrole takes at most %d)", len(c.SessionToken), MaxSessionToken)
	case strings.IndexFunc(c.SessionToken, notTokenChar) >= 0:
		return errors.New("a session token with characters no token has (spaces or control characters)")
	}
	return nil
}

func notKeyIDChar(r rune) bool {
	return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
}

// notTokenChar: tokens are printable ASCII without spaces (base64 in
// practice).
func notTokenChar(r rune) bool { return r <= ' ' || r > '~' }
