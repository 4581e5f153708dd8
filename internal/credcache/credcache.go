// Package credcache holds what both sides of a credentials fetch share and
// what the prompt's hot path needs without linking the AWS SDK: the request
// and credentials types, the cache's key and directory, and reading an
// entry. Fetching from STS lives in internal/creds, in a separate binary.
package credcache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/adrg/xdg"

	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/termsafe"
)

// Timeout bounds one whole fetch: waiting for another shell's fetch, the
// SDK's retries and STS answering.
const Timeout = 10 * time.Second

// ChainedMax is what STS allows a role session assumed with temporary
// credentials (an MFA session); awsrole caps the duration rather than fail.
const ChainedMax = time.Hour

// Request is everything that decides which credentials come back.
type Request struct {
	RoleARN       string
	SessionName   string
	ExternalID    string
	SourceProfile string
	MFASerial     string
	MFACommand    string        // the user config's mfa_command: prints a code
	MFADuration   time.Duration // how long one code lasts (GetSessionToken)
	Region        string        // region for the STS call; "" = the user's own, else us-east-1
	Duration      time.Duration
	// Window: cached credentials with less than this left are renewed.
	Window time.Duration
	// Source is the user's own environment for the managed variables (nil
	// value: unset); source credentials are resolved from it alone.
	Source map[string]*string
}

// Effective is req as STS will be asked: behind MFA the duration is capped.
func (req Request) Effective() Request {
	if req.MFASerial != "" {
		req.Duration = min(req.Duration, ChainedMax)
	}
	return req
}

// Credentials are temporary credentials for a role.
type Credentials struct {
	AccessKeyID     string    `json:"access_key_id"`
	SecretAccessKey string    `json:"secret_access_key"`
	SessionToken    string    `json:"session_token"`
	Expiration      time.Time `json:"expiration"`
	RoleARN         string    `json:"role_arn"`
}

// Dir is where assumed credentials are cached.
func Dir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "awsrole", "credentials")
	}
	return filepath.Join(xdg.CacheHome, "awsrole", "credentials")
}

// Path names the cache entry of req (as Effective) by everything that
// changes the result.
func Path(req Request, sourceKeyID, stsRegion string) string {
	parts := []string{"v1", req.RoleARN, sourceKeyID, req.SourceProfile, req.SessionName, req.ExternalID,
		req.MFASerial, req.Duration.String(), stsRegion, os.Getenv("AWS_ENDPOINT_URL_STS"), os.Getenv("AWS_ENDPOINT_URL")}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return filepath.Join(Dir(), hex.EncodeToString(sum[:])+".json")
}

// Lookup returns role's credentials cached at path if they have more than
// window left at now; a file it cannot use is reported to notice (if not
// nil). role "" accepts any role (an MFA session has none).
func Lookup(path, role string, window time.Duration, now time.Time, notice io.Writer) (Credentials, bool) {
	data, err := privfile.Read(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && notice != nil {
			fmt.Fprintf(notice, "awsrole: not using cached credentials: %s; fetching new ones\n", OneLine(err.Error()))
		}
		return Credentials{}, false
	}
	var c Credentials
	if json.Unmarshal(data, &c) != nil || c.AccessKeyID == "" || c.SecretAccessKey == "" {
		if notice != nil {
			fmt.Fprintf(notice, "awsrole: cached credentials %s are damaged; fetching new ones\n", OneLine(path))
		}
		return Credentials{}, false
	}
	if c.RoleARN != role {
		// Only a copied or planted file holds another role's
		// credentials under this role's key: never hand them out.
		if notice != nil {
			fmt.Fprintf(notice, "awsrole: cached credentials %s are for another role (%s); fetching new ones\n", OneLine(path), OneLine(c.RoleARN))
		}
		return Credentials{}, false
	}
	return c, c.Expiration.After(now.Add(window))
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
