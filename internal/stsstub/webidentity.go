package stsstub

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// oidcProvider is an IAM OIDC identity provider of the stub's account:
// the issuer and the audiences (client ids) it accepts.
type oidcProvider struct {
	audiences []string
}

// webTrust is a role's trust in web identities: tokens of issuer whose
// sub matches pattern (StringLike: * and ?).
type webTrust struct {
	issuer, pattern string
}

// AddOIDCProvider registers issuer (its URL, the tokens' iss) with the
// audiences it accepts, as IAM's CreateOpenIDConnectProvider does. STS
// fetches the issuer's keys from its discovery document at each call.
func (s *Server) AddOIDCProvider(issuer string, audiences ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.oidcProviders == nil {
		s.oidcProviders = map[string]oidcProvider{}
	}
	s.oidcProviders[strings.TrimSuffix(issuer, "/")] = oidcProvider{audiences: audiences}
}

// TrustWebIdentity makes roleArn trust only tokens of issuer whose sub
// matches pattern (* and ? as in a trust policy's StringLike); a role with
// no such rule trusts every registered provider's tokens.
func (s *Server) TrustWebIdentity(roleArn, issuer, pattern string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.webTrust == nil {
		s.webTrust = map[string][]webTrust{}
	}
	s.webTrust[roleArn] = append(s.webTrust[roleArn], webTrust{issuer: strings.TrimSuffix(issuer, "/"), pattern: pattern})
}

// webClaims are the claims STS checks.
type webClaims struct {
	jwt.Claims
}

func invalidToken(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidIdentityToken", msg}
}

// assumeRoleWithWebIdentity is STS's unsigned call: the token is the
// proof. It checks, as STS does, that the token's issuer is a registered
// provider, its signature against the issuer's keys (JWKS, fetched through
// its discovery document), its audience and expiry, and the role's trust.
func (s *Server) assumeRoleWithWebIdentity(params url.Values) (*assumeRoleWithWebIdentityResult, *apiError) {
	roleArn := params.Get("RoleArn")
	m := roleArnRE.FindStringSubmatch(roleArn)
	if m == nil {
		return nil, validationError("1 validation error detected: Value '" + roleArn + "' at 'roleArn' failed to satisfy constraint: Member must be a role ARN")
	}
	partition, account, roleName := m[1], m[2], m[3]
	session := params.Get("RoleSessionName")
	if !sessionNameRE.MatchString(session) {
		return nil, validationError("1 validation error detected: Value '" + session + "' at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64 and satisfy regular expression pattern: [\\w+=,.@-]*")
	}
	dur, e := durationParam(params, 3600, 900, 43200)
	if e != nil {
		return nil, e
	}
	raw := params.Get("WebIdentityToken")
	if len(raw) < 4 || len(raw) > 20000 {
		return nil, validationError("1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length between 4 and 20000")
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384})
	if err != nil {
		return nil, invalidToken("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
	}
	var unverified webClaims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil || unverified.Issuer == "" {
		return nil, invalidToken("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
	}
	issuer := strings.TrimSuffix(unverified.Issuer, "/")
	s.mu.Lock()
	prov, known := s.oidcProviders[issuer]
	trust := s.webTrust[roleArn]
	now := s.now()
	s.mu.Unlock()
	if !known {
		return nil, invalidToken("No OpenIDConnect provider found in your account for " + unverified.Issuer)
	}
	keys, e := fetchKeys(issuer)
	if e != nil {
		return nil, e
	}
	var c webClaims
	if err := tok.Claims(keys, &c); err != nil {
		return nil, invalidToken("The web identity token's signature does not verify with the keys of " + unverified.Issuer)
	}
	if c.Expiry == nil || !now.Before(c.Expiry.Time()) {
		exp := "(none)"
		if c.Expiry != nil {
			exp = c.Expiry.Time().UTC().Format(time.RFC3339)
		}
		return nil, &apiError{http.StatusBadRequest, "ExpiredTokenException",
			fmt.Sprintf("Token expired: current date/time %s must be before the expiration date/time %s", now.UTC().Format(time.RFC3339), exp)}
	}
	if !slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(prov.audiences, a) }) {
		return nil, invalidToken("Incorrect token audience")
	}
	if len(trust) > 0 && !slices.ContainsFunc(trust, func(t webTrust) bool { return t.issuer == issuer && like(t.pattern, c.Subject) }) {
		return nil, accessDenied("Not authorized to perform sts:AssumeRoleWithWebIdentity")
	}
	np := &principal{
		kind:    kindRole,
		arn:     "arn:" + partition + ":sts::" + account + ":assumed-role/" + roleName + "/" + session,
		userID:  "AROA" + stableID(roleArn) + ":" + session,
		account: account,
	}
	s.mu.Lock()
	akid := s.issueLocked(np, now, time.Duration(dur)*time.Second)
	s.mu.Unlock()
	u, _ := url.Parse(issuer)
	return &assumeRoleWithWebIdentityResult{
		Credentials:                 xmlCreds(akid, np),
		SubjectFromWebIdentityToken: c.Subject,
		AssumedRoleUser:             assumedRoleUser{AssumedRoleID: np.userID, Arn: np.arn},
		Provider:                    u.Host + u.Path,
		Audience:                    strings.Join(c.Audience, ","),
	}, nil
}

// fetchKeys gets the issuer's keys as STS does: its discovery document,
// then the jwks_uri it names. Any failure is IDPCommunicationError.
func fetchKeys(issuer string) (*jose.JSONWebKeySet, *apiError) {
	idpErr := func(why string) *apiError {
		return &apiError{http.StatusBadRequest, "IDPCommunicationError",
			"Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements (" + why + ")"}
	}
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(u string, v any) error {
		resp, err := client.Get(u)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s answered %d", path.Base(u), resp.StatusCode)
		}
		return json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(v)
	}
	var disc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := get(issuer+"/.well-known/openid-configuration", &disc); err != nil || disc.JWKSURI == "" {
		return nil, idpErr("discovery document")
	}
	var keys jose.JSONWebKeySet
	if err := get(disc.JWKSURI, &keys); err != nil || len(keys.Keys) == 0 {
		return nil, idpErr("JWKS")
	}
	return &keys, nil
}

// like matches s against a StringLike pattern: * any run, ? one character.
func like(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if like(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && like(pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && like(pattern[1:], s[1:])
}

// Secrets are the secret access keys and session tokens of every
// credential the stub has issued: what no log may ever hold.
func (s *Server) Secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, p := range s.keys {
		if p.kind != kindUser {
			out = append(out, p.secret, p.token)
		}
	}
	return out
}
