// Package oidcissuer is a local OpenID Connect identity provider for tests
// and demos, on 127.0.0.1: it signs real JWTs (RS256, go-jose) with a key
// of its own and serves what STS and a CI runner need of one:
//
//   - GET /.well-known/openid-configuration and GET /.well-known/jwks: the
//     discovery document and the keys, which STS (the stand-in, or moto)
//     checks a token's signature against;
//   - GET /_apis/idtoken?audience=A: GitHub Actions' OIDC request endpoint
//     (ACTIONS_ID_TOKEN_REQUEST_URL), answering {"value": JWT} to the bearer
//     RequestToken (ACTIONS_ID_TOKEN_REQUEST_TOKEN) and 401 to anything else.
//
// Every token it signs, and the request token, is kept (Secrets), so a test
// can look for each of them in every log it captured.
package oidcissuer

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Issuer is a running identity provider.
type Issuer struct {
	// URL is the issuer (iss) and the base of its endpoints, like
	// http://127.0.0.1:PORT.
	URL string
	// RequestToken is the bearer token its GitHub-style request endpoint
	// takes.
	RequestToken string
	// Subject is the sub of the tokens the request endpoint gives.
	Subject string

	srv    *http.Server
	ln     net.Listener
	signer jose.Signer
	keys   jose.JSONWebKeySet

	mu       sync.Mutex
	issued   []string
	requests int
	ttl      time.Duration
	down     bool
}

// Start starts an issuer on a free port of 127.0.0.1 whose request
// endpoint gives tokens for subject.
func Start(subject string) (*Issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	kid := randomHex(8)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("oidcissuer: listen: %w", err)
	}
	is := &Issuer{URL: "http://" + ln.Addr().String(), RequestToken: "ghs_" + randomHex(20), Subject: subject,
		ln: ln, signer: signer, ttl: 5 * time.Minute,
		keys: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", is.discovery)
	mux.HandleFunc("GET /.well-known/jwks", is.jwks)
	mux.HandleFunc("GET /_apis/idtoken", is.request)
	is.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = is.srv.Serve(ln) }()
	return is, nil
}

// Close stops the issuer.
func (is *Issuer) Close() { _ = is.srv.Close() }

// RequestURL is the GitHub-style ACTIONS_ID_TOKEN_REQUEST_URL, with the
// api-version the runner puts in it.
func (is *Issuer) RequestURL() string { return is.URL + "/_apis/idtoken?api-version=2.0" }

// SetDown makes every endpoint answer 503 (down) or work again.
func (is *Issuer) SetDown(down bool) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.down = down
}

// SetTTL sets how long the request endpoint's tokens last.
func (is *Issuer) SetTTL(d time.Duration) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.ttl = d
}

// Requests is how many tokens the request endpoint gave.
func (is *Issuer) Requests() int {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.requests
}

// Token signs a token of this issuer for sub and aud, valid from now for
// ttl (negative: expired already).
func (is *Issuer) Token(sub, aud string, ttl time.Duration) (string, error) {
	now := time.Now()
	return is.Sign(map[string]any{
		"iss": is.URL, "sub": sub, "aud": aud, "jti": randomHex(8),
		"iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(ttl).Unix(),
	})
}

// Sign signs any claims (to test what a token with odd ones does).
func (is *Issuer) Sign(claims map[string]any) (string, error) {
	tok, err := jwt.Signed(is.signer).Claims(claims).Serialize()
	if err != nil {
		return "", err
	}
	is.mu.Lock()
	is.issued = append(is.issued, tok)
	is.mu.Unlock()
	return tok, nil
}

// Secrets are every token signed so far and the request token.
func (is *Issuer) Secrets() []string {
	is.mu.Lock()
	defer is.mu.Unlock()
	return append([]string{is.RequestToken}, is.issued...)
}

func (is *Issuer) isDown(w http.ResponseWriter) bool {
	is.mu.Lock()
	down := is.down
	is.mu.Unlock()
	if down {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	}
	return down
}

func (is *Issuer) discovery(w http.ResponseWriter, r *http.Request) {
	if is.isDown(w) {
		return
	}
	writeJSON(w, map[string]any{
		"issuer": is.URL, "jwks_uri": is.URL + "/.well-known/jwks",
		"subject_types_supported": []string{"public"}, "response_types_supported": []string{"id_token"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "claims_supported": []string{"sub", "aud", "exp", "iat", "iss"},
	})
}

func (is *Issuer) jwks(w http.ResponseWriter, r *http.Request) {
	if is.isDown(w) {
		return
	}
	writeJSON(w, is.keys)
}

// request is GitHub's OIDC request endpoint: the bearer token, then a
// token for the audience asked for (GitHub's default is the repository
// owner's URL; configure-aws-credentials asks for sts.amazonaws.com).
func (is *Issuer) request(w http.ResponseWriter, r *http.Request) {
	if is.isDown(w) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+is.RequestToken {
		w.Header().Set("WWW-Authenticate", "Bearer")
		http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	aud := r.URL.Query().Get("audience")
	if aud == "" {
		aud = "https://github.com/awsrole"
	}
	is.mu.Lock()
	ttl := is.ttl
	is.requests++
	is.mu.Unlock()
	tok, err := is.Token(is.Subject, aud, ttl)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, map[string]any{"count": 1, "value": tok})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return strings.ToLower(hex.EncodeToString(b))
}
