package stsstub

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file verifies AWS Signature Version 4 from the published algorithm
// (canonical request → string to sign → HMAC-SHA256 key chain). It does not
// use any SDK signer, so the SDK and the CLI are checked against an
// independent implementation.

const (
	sigAlgorithm  = "AWS4-HMAC-SHA256"
	amzDateFormat = "20060102T150405Z"
	maxClockSkew  = 15 * time.Minute
)

// authHeader is a parsed "Authorization: AWS4-HMAC-SHA256 ..." header.
type authHeader struct {
	accessKeyID   string
	date          string // YYYYMMDD from the credential scope
	region        string
	service       string
	terminator    string
	signedHeaders []string
	signature     string
}

// scope returns the credential scope "DATE/REGION/SERVICE/aws4_request".
func (a authHeader) scope() string {
	return a.date + "/" + a.region + "/" + a.service + "/" + a.terminator
}

// parseAuthorization parses an AWS4-HMAC-SHA256 Authorization header value.
func parseAuthorization(v string) (authHeader, error) {
	var a authHeader
	alg, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || alg != sigAlgorithm {
		return a, fmt.Errorf("unsupported authorization type %q", alg)
	}
	var cred, signed string
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "Credential":
			cred = val
		case "SignedHeaders":
			signed = val
		case "Signature":
			a.signature = val
		}
	}
	if cred == "" {
		return a, errors.New("authorization header requires 'Credential' parameter")
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" {
		return a, errors.New("credential must have exactly 5 slash-delimited elements")
	}
	a.accessKeyID, a.date, a.region, a.service, a.terminator = parts[0], parts[1], parts[2], parts[3], parts[4]
	if signed == "" {
		return a, errors.New("authorization header requires 'SignedHeaders' parameter")
	}
	a.signedHeaders = strings.Split(signed, ";")
	if a.signature == "" {
		return a, errors.New("authorization header requires 'Signature' parameter")
	}
	return a, nil
}

// accessKeyIDFromAuthorization extracts the access key id for call records,
// even from headers that fail to parse fully.
func accessKeyIDFromAuthorization(v string) string {
	_, after, ok := strings.Cut(v, "Credential=")
	if !ok {
		return ""
	}
	akid, _, _ := strings.Cut(after, "/")
	if i := strings.IndexAny(akid, ", "); i >= 0 {
		akid = akid[:i]
	}
	return akid
}

// uriEncode percent-encodes s as SigV4 requires: every byte except the RFC
// 3986 unreserved characters (and '/' when keepSlash) becomes %XX.
func uriEncode(s string, keepSlash bool) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', keepSlash && c == '/':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexdig[c>>4])
			b.WriteByte(hexdig[c&15])
		}
	}
	return b.String()
}

// canonicalURI encodes the already-escaped request path once more, as
// SigV4 does for every service except S3.
func canonicalURI(escapedPath string) string {
	if escapedPath == "" {
		escapedPath = "/"
	}
	return uriEncode(escapedPath, true)
}

// canonicalQuery sorts and re-encodes the raw query string.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type pair struct{ k, v string }
	var pairs []pair
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		pairs = append(pairs, pair{uriEncode(k, false), uriEncode(v, false)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.k + "=" + p.v
	}
	return strings.Join(out, "&")
}

// canonicalHeaderValue returns the trimmed, space-collapsed, comma-joined
// value of a signed header.
func canonicalHeaderValue(r *http.Request, name string) (string, bool) {
	var vals []string
	switch name {
	case "host":
		if r.Host == "" {
			return "", false
		}
		vals = []string{r.Host}
	default:
		vals = r.Header.Values(textproto.CanonicalMIMEHeaderKey(name))
		if len(vals) == 0 && name == "content-length" && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	}
	if len(vals) == 0 {
		return "", false
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ","), true
}

// canonicalRequest builds the SigV4 canonical request for r.
func canonicalRequest(r *http.Request, signed []string, payloadHash string) (string, error) {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL.EscapedPath()))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery))
	b.WriteByte('\n')
	for _, h := range signed {
		if h != strings.ToLower(h) || h == "" {
			return "", fmt.Errorf("signed header %q is not lowercase", h)
		}
		v, ok := canonicalHeaderValue(r, h)
		if !ok {
			return "", fmt.Errorf("signed header %q is missing from the request", h)
		}
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), nil
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// stringToSign builds the SigV4 string to sign.
func stringToSign(amzDate, scope, canonReq string) string {
	return sigAlgorithm + "\n" + amzDate + "\n" + scope + "\n" + sha256Hex([]byte(canonReq))
}

// signingKey derives the SigV4 signing key from a secret access key.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

// computeSignature returns the hex signature r should carry for secret,
// given its parsed Authorization header, X-Amz-Date value and payload hash.
func computeSignature(r *http.Request, a authHeader, amzDate, payloadHash, secret string) (string, error) {
	cr, err := canonicalRequest(r, a.signedHeaders, payloadHash)
	if err != nil {
		return "", err
	}
	toSign := stringToSign(amzDate, a.scope(), cr)
	return hex.EncodeToString(hmacSHA256(signingKey(secret, a.date, a.region, a.service), toSign)), nil
}

// verifySignature checks r's signature against secret, for service (sts,
// iam). body is the full request body. It returns an API error describing
// the first problem found.
func verifySignature(r *http.Request, a authHeader, body []byte, secret, service string, now time.Time) *apiError {
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		return errIncompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return errIncompleteSignature("Date must be in ISO-8601 'basic format'. Got '" + amzDate + "'.")
	}
	if now.Sub(t) > maxClockSkew {
		return errSignature(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			amzDate, now.Add(-maxClockSkew).UTC().Format(amzDateFormat), now.UTC().Format(amzDateFormat)))
	}
	if t.Sub(now) > maxClockSkew {
		return errSignature(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			amzDate, now.Add(maxClockSkew).UTC().Format(amzDateFormat), now.UTC().Format(amzDateFormat)))
	}
	if a.date != amzDate[:8] {
		return errSignature("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" + a.date + "' != '" + amzDate[:8] + "', from '" + amzDate + "'.")
	}
	if a.service != service {
		return errSignature("Credential should be scoped to correct service: '" + service + "'. ")
	}
	if a.terminator != "aws4_request" {
		return errSignature("Credential should be scoped with a valid terminator: 'aws4_request', not '" + a.terminator + "'. ")
	}
	hasHost := false
	for _, h := range a.signedHeaders {
		if h == "host" {
			hasHost = true
		}
	}
	if !hasHost {
		return errSignature("'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	payloadHash := sha256Hex(body)
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != payloadHash {
		return errSignature("The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	want, err := computeSignature(r, a, amzDate, payloadHash, secret)
	if err != nil {
		return errSignature(sigMismatchMessage)
	}
	got, err := hex.DecodeString(a.signature)
	wantb, _ := hex.DecodeString(want)
	if err != nil || !hmac.Equal(got, wantb) {
		return errSignature(sigMismatchMessage)
	}
	return nil
}

const sigMismatchMessage = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

func errSignature(msg string) *apiError {
	return &apiError{Status: http.StatusForbidden, Code: "SignatureDoesNotMatch", Message: msg}
}

func errIncompleteSignature(msg string) *apiError {
	return &apiError{Status: http.StatusForbidden, Code: "IncompleteSignature", Message: msg}
}
