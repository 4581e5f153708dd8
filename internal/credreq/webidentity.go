package credreq

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/termsafe"
)

// The variables of web identity, by the SDKs' own rules (and GitHub's and
// GitLab's): AWS_ROLE_ARN names the entry role; the token comes from
// AWS_WEB_IDENTITY_TOKEN_FILE, else GitLabTokenVar, else GitHub Actions'
// OIDC request endpoint.
const (
	RoleARNVar          = "AWS_ROLE_ARN"
	TokenFileVar        = "AWS_WEB_IDENTITY_TOKEN_FILE"
	RoleSessionNameVar  = "AWS_ROLE_SESSION_NAME"
	GitHubRequestURLVar = "ACTIONS_ID_TOKEN_REQUEST_URL"
	// GitHubRequestTokenVar is the bearer token of GitHub's OIDC request
	// endpoint: a secret, read only by awsrole-sts when it asks.
	GitHubRequestTokenVar = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
	// GitLabTokenVar holds the JWT itself: the name GitLab's own guide to
	// AWS gives its id_tokens entry ("Configure OpenID Connect in AWS"), so
	// a job written from that guide works as it is. A secret: never logged,
	// never in a cache key.
	GitLabTokenVar = "GITLAB_OIDC_TOKEN"
)

// WebIdentityVars are the variables Resolve reads for web identity: the
// engine hands them down with the user's originals.
var WebIdentityVars = []string{RoleARNVar, TokenFileVar, RoleSessionNameVar, GitHubRequestURLVar, GitHubRequestTokenVar, GitLabTokenVar}

// STSAudience is the audience a token for STS is asked for, as
// aws-actions/configure-aws-credentials asks for it.
const STSAudience = "sts.amazonaws.com"

// SourceWebIdentity is a role assumed with an OpenID Connect token
// (AssumeRoleWithWebIdentity): EKS, GitHub Actions, GitLab CI.
const SourceWebIdentity SourceKind = "web_identity"

// WebIdentitySource is the entry role and where its token comes from. It
// holds no secret: the token and GitHub's request token are read from the
// environment by awsrole-sts when it calls.
type WebIdentitySource struct {
	RoleARN     string // the entry role (AWS_ROLE_ARN)
	SessionName string // AWS_ROLE_SESSION_NAME, else the request's session name
	TokenFile   string // AWS_WEB_IDENTITY_TOKEN_FILE, if given
	TokenVar    string // the variable that holds the token itself, if that is the way
	// RequestURL is GitHub Actions' OIDC request endpoint, when the
	// token is to be asked for there (with STSAudience).
	RequestURL string
}

// Where names where the token comes from, for messages.
func (w *WebIdentitySource) Where() string {
	switch {
	case w.TokenFile != "":
		return "the web identity token file " + termsafe.String(w.TokenFile) + " (" + TokenFileVar + ")"
	case w.TokenVar != "":
		return "the web identity token in " + w.TokenVar
	}
	return "the GitHub Actions OIDC token (" + GitHubRequestURLVar + ")"
}

// MaxToken bounds a web identity token: real ones are 1 to 4 KiB, and STS
// takes at most 20,000 characters.
const MaxToken = 20000

// Claims are what of a token's payload names its holder, read without
// checking its signature (STS checks it): for the cache key and messages.
type Claims struct {
	Issuer   string    `json:"iss"`
	Subject  string    `json:"sub"`
	Audience Audience  `json:"aud"`
	Expiry   time.Time `json:"-"`
	Exp      float64   `json:"exp"`
}

// Audience is a JWT's aud: one string or a list.
type Audience []string

// UnmarshalJSON reads either form.
func (a *Audience) UnmarshalJSON(data []byte) error {
	var one string
	if err := json.Unmarshal(data, &one); err == nil {
		*a = Audience{one}
		return nil
	}
	var list []string
	if err := json.Unmarshal(data, &list); err != nil {
		return err
	}
	*a = list
	return nil
}

// ParseClaims reads a JWT's claims, unverified. The error never quotes
// the token.
func ParseClaims(token string) (Claims, error) {
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return Claims{}, errors.New("does not hold a JWT (want three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, errors.New("does not hold a JWT (its payload is not base64url)")
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Claims{}, errors.New("does not hold a JWT (its payload is not JSON claims)")
	}
	if c.Issuer == "" || c.Subject == "" {
		return Claims{}, errors.New("holds a JWT without an issuer (iss) or subject (sub)")
	}
	if c.Exp > 0 {
		c.Expiry = time.Unix(int64(c.Exp), 0).UTC()
	}
	return c, nil
}

// ReadTokenFile reads a web identity token file: a regular file (a FIFO
// fails at once rather than hold the read) of at most MaxToken bytes.
func ReadTokenFile(path string) (string, error) {
	data, _, err := privfile.ReadLimited(path, MaxToken, true, nil)
	var tooBig *privfile.TooBigError
	var notRegular *privfile.NotRegularError
	var pathErr *fs.PathError
	switch {
	case err == nil:
		return strings.TrimSpace(string(data)), nil
	case errors.Is(err, fs.ErrNotExist):
		return "", errors.New("does not exist")
	case errors.Is(err, fs.ErrPermission):
		return "", errors.New("is not readable by you (permission denied)")
	case errors.As(err, &tooBig):
		return "", fmt.Errorf("is %d bytes, more than a token (at most %d)", tooBig.Size, MaxToken)
	case errors.As(err, &notRegular):
		return "", errors.New("is not a regular file")
	case errors.As(err, &pathErr):
		return "", errors.New(pathErr.Err.Error())
	}
	return "", err
}

// TokenFileError is a token file that cannot be used, and what to do.
type TokenFileError struct {
	Path, Why string
}

func (e *TokenFileError) Error() string {
	return fmt.Sprintf("web identity token file %s (%s) %s; write a fresh OIDC token there (GitLab: id_tokens; EKS: the service account token) or unset %s",
		termsafe.String(e.Path), TokenFileVar, e.Why, TokenFileVar)
}

// webIdentitySource is the entry role of the environment, with its
// stable identity: the role, session name and the token's issuer, subject
// and audience (never the token), or, for a token still to be asked for
// at GitHub, the request endpoint (one per job: one subject). ok is false
// when the environment names no web identity.
func webIdentitySource(req Request, env Env) (src Source, ok bool, err error) {
	role := env.Get(RoleARNVar)
	if role == "" {
		return Source{}, false, nil
	}
	w := &WebIdentitySource{RoleARN: role, SessionName: cmp.Or(env.Get(RoleSessionNameVar), req.SessionName, "awsrole")}
	var id string
	switch {
	case env.Get(TokenFileVar) != "":
		w.TokenFile = env.Get(TokenFileVar)
		tok, err := ReadTokenFile(w.TokenFile)
		if err != nil {
			return Source{}, true, &TokenFileError{Path: w.TokenFile, Why: err.Error()}
		}
		c, err := ParseClaims(tok)
		if err != nil {
			return Source{}, true, &TokenFileError{Path: w.TokenFile, Why: err.Error()}
		}
		id = c.identity()
	case env.Get(GitLabTokenVar) != "":
		w.TokenVar = GitLabTokenVar
		c, err := ParseClaims(env.Get(GitLabTokenVar))
		if err != nil {
			return Source{}, true, fmt.Errorf("%s %s; give it a token with id_tokens in the job (see docs/ci.md), or unset it", GitLabTokenVar, err)
		}
		id = c.identity()
	case env.Get(GitHubRequestURLVar) != "" && env.Get(GitHubRequestTokenVar) != "":
		w.RequestURL = env.Get(GitHubRequestURLVar)
		id = "github\x00" + w.RequestURL + "\x00" + STSAudience
	default:
		// AWS_ROLE_ARN alone gives no credentials, as in the SDKs.
		return Source{}, false, nil
	}
	return Source{Kind: SourceWebIdentity, Chained: true, WebIdentity: w,
		Identity: "web_identity\x00" + role + "\x00" + w.SessionName + "\x00" + id}, true, nil
}

// identity is what names the holder of a token: issuer, subject, audience.
func (c Claims) identity() string {
	return "jwt\x00" + c.Issuer + "\x00" + c.Subject + "\x00" + strings.Join(c.Audience, ",")
}
