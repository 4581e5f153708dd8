// Package server is the credential endpoint's HTTP side: GET /v1/<id> in
// the container-credentials (ECS) format, from the shared cache, renewing
// through the same providers, cache and lock as the hook. It runs in
// awsrole-sts, which links the AWS SDK and renews in-process; awsrole, on
// the prompt's path, links neither it nor net/http.
package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/endpoint"
	"github.com/awsrole/awsrole/internal/privfile"
)

// CredentialProvider fetches credentials for a request: wire.Helper
// (the cache, else awsrole-sts) in the binary.
type CredentialProvider interface {
	Get(ctx context.Context, req credreq.Request, src credreq.Source, env credreq.Env) (credcache.Credentials, error)
}

// Server answers GET /v1/<id> in the container-credentials format.
type Server struct {
	Store      endpoint.Store       // where the server records itself and reads registrations
	UserConfig string               // the user config file, whose trusted_dirs vouch for files
	Trust      dirconfig.TrustStore // the user's approvals
	Now        func() time.Time
	Creds      CredentialProvider
	// Resolve finds the source of req's base credentials in the server's
	// own environment (the user's, as the starting shell had it).
	Resolve func(req credreq.Request) (credreq.Source, error)
	Env     credreq.Env // the server's own environment, for renewals
	Cache   credcache.Cache
	Token   string

	mu      sync.Mutex
	last    time.Time
	renew   map[string]*sync.Mutex
	served  map[string]endpoint.Served
	written map[string]endpoint.Served
	revoked map[string]bool
}

// ecsCredentials is the container-credentials format the SDKs read.
type ecsCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
	RoleArn         string `json:"RoleArn"`
}

// ecsError is the error body: botocore (and so the aws CLI) and
// aws-sdk-go-v2 show its message. The JS SDK v3 shows none of it: its
// chain ends in "Could not load credentials from any providers" whatever
// the endpoint answers; `awsrole status` shows the reason then.
type ecsError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, ecsError{Code: code, Message: "awsrole: " + msg})
}

// loopbackHost reports whether a Host header names this machine's loopback:
// a page in a browser reaching 127.0.0.1 through a name it controls (DNS
// rebinding) sends that name, and is refused.
func loopbackHost(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// ServeHTTP checks the Host header, then the token, then answers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !loopbackHost(r.Host) {
		fail(w, http.StatusForbidden, "Forbidden", "the credential endpoint answers only requests for 127.0.0.1")
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(s.Token)) != 1 {
		fail(w, http.StatusUnauthorized, "Unauthorized", "missing or wrong token: the credential endpoint takes a new one at every start, in the file AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE names; cd into the project again, and restart a program that read the token only once")
		return
	}
	if r.Method != http.MethodGet {
		fail(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "only GET")
		return
	}
	s.touch()
	if r.URL.Path == "/ping" {
		writeJSON(w, http.StatusOK, map[string]int{"pid": os.Getpid()})
		return
	}
	id, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		fail(w, http.StatusNotFound, "NotFound", "no such credentials")
		return
	}
	reg, err := s.Store.LoadRegistration(id)
	if errors.Is(err, fs.ErrNotExist) {
		if why := s.revokedWhy(id); why != "" {
			fail(w, http.StatusForbidden, "Revoked", why)
			return
		}
		fail(w, http.StatusNotFound, "NotFound", "no role is registered under this id; cd into the project again")
		return
	}
	if err != nil {
		fail(w, http.StatusInternalServerError, "InternalError", credcache.OneLine(err.Error()))
		return
	}
	if err := reg.Approved(s.UserConfig, s.Trust); err != nil {
		s.record(id, reg, credcache.Credentials{}, err)
		var revoked *endpoint.Revoked
		if !errors.As(err, &revoked) {
			fail(w, http.StatusServiceUnavailable, "CredentialsUnavailable", credcache.OneLine(err.Error()))
			return
		}
		// Denied, edited or gone: never served again under this id. The
		// reason stays for status and for the next requests.
		s.Store.Drop(id, reg)
		s.revoke(id)
		fail(w, http.StatusForbidden, "Revoked", credcache.OneLine(err.Error()))
		return
	}
	c, err := s.Credentials(r.Context(), id, reg)
	if err != nil {
		fail(w, http.StatusServiceUnavailable, "CredentialsUnavailable", credcache.OneLine(err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, ecsCredentials{
		AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, Token: c.SessionToken,
		Expiration: c.Expiration.UTC().Format(time.RFC3339), RoleArn: c.RoleARN,
	})
}

// revoke remembers that id was refused for good (its file denied, edited
// or gone), so that later requests hear why rather than a bare 404.
func (s *Server) revoke(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revoked == nil {
		s.revoked = map[string]bool{}
	}
	s.revoked[id] = true
}

// revokedWhy is why id was revoked, "" if it was not.
func (s *Server) revokedWhy(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.revoked[id] {
		return ""
	}
	return s.served[id].Error
}

func (s *Server) touch() {
	s.mu.Lock()
	s.last = s.Now()
	s.mu.Unlock()
}

// LastRequest is when the server last answered an authorised request.
func (s *Server) LastRequest() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *Server) lockFor(id string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.renew == nil {
		s.renew = map[string]*sync.Mutex{}
	}
	m := s.renew[id]
	if m == nil {
		m = &sync.Mutex{}
		s.renew[id] = m
	}
	return m
}

// Credentials returns fresh credentials for reg from the shared cache,
// renewing them (through the same cache, lock and sources as the hook)
// once they are inside the refresh window. Credentials never last less
// than a quarter of their life: the window is at most that, so short
// sessions are not renewed at every request.
func (s *Server) Credentials(ctx context.Context, id string, reg *endpoint.Registration) (credcache.Credentials, error) {
	req := reg.Request
	step := s.Cache.Final(req, reg.Source)
	now := s.Now()
	if c, ok := fresh(step, &req, now); ok {
		s.record(id, reg, c, nil)
		return c, nil
	}
	// One renewal per id at a time; the others then find it in the cache.
	m := s.lockFor(id)
	m.Lock()
	defer m.Unlock()
	now = s.Now()
	if c, ok := fresh(step, &req, now); ok {
		s.record(id, reg, c, nil)
		return c, nil
	}
	c, err := s.renewCreds(ctx, req, reg, step)
	if err != nil {
		if old, ok := credcache.Lookup(step, 0, now, nil); ok {
			// Still valid: keep serving them, and say why they are not
			// renewed.
			s.record(id, reg, old, err)
			return old, nil
		}
		s.record(id, reg, credcache.Credentials{}, err)
		return credcache.Credentials{}, err
	}
	s.record(id, reg, c, nil)
	return c, nil
}

// fresh looks step up with req's window, shortened to a quarter of the
// cached credentials' life; req.Window becomes that window.
func fresh(step credcache.Step, req *credreq.Request, now time.Time) (credcache.Credentials, bool) {
	c, ok := credcache.Lookup(step, 0, now, nil)
	if !ok {
		return c, false
	}
	if fi, err := os.Stat(step.Path); err == nil {
		if life := c.Expiration.Sub(fi.ModTime()); life > 0 {
			req.Window = min(req.Window, life/4)
		}
	}
	return c, c.Expiration.After(now.Add(req.Window))
}

func (s *Server) renewCreds(ctx context.Context, req credreq.Request, reg *endpoint.Registration, step credcache.Step) (credcache.Credentials, error) {
	src, err := s.Resolve(req)
	if err != nil {
		return credcache.Credentials{}, fmt.Errorf("%s: %w", req.Label(), err)
	}
	if s.Cache.Final(req, src).Path != step.Path {
		now, then := src.Describe(), reg.Source.Describe()
		if now == then {
			// The same profile, defined (or keyed) otherwise.
			now, then = now+" as it is now", then+" as it was then"
		}
		return credcache.Credentials{}, fmt.Errorf("%s: the credential endpoint runs with other base credentials (%s) than the shell that registered this role (%s); run: awsrole serve --stop, then cd into the project again",
			req.Label(), now, then)
	}
	c, err := s.Creds.Get(ctx, req, src, s.Env)
	if err != nil && req.MFASerial != "" {
		err = fmt.Errorf("%s may need a new MFA code for %s; the credential endpoint never prompts: type it in a shell in %s at its next renewal, or cd out and back in: %w", req.Label(), req.MFASerial, reg.Dir, err)
	}
	return c, err
}

// record keeps what was served for status; the file is written only when
// something changed.
func (s *Server) record(id string, reg *endpoint.Registration, c credcache.Credentials, err error) {
	e := endpoint.Served{Role: reg.Request.Label(), Dir: reg.Dir, Expiration: c.Expiration, At: s.Now()}
	if err != nil {
		e.Error = credcache.OneLine(err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.served == nil {
		s.served, s.written = map[string]endpoint.Served{}, map[string]endpoint.Served{}
	}
	if e.Expiration.IsZero() {
		// A failure with nothing valid left to serve: what was served
		// before still was (status would say "nothing served").
		e.Expiration = s.served[id].Expiration
	}
	s.served[id] = e
	if w, ok := s.written[id]; ok && w.Expiration.Equal(e.Expiration) && w.Error == e.Error {
		return
	}
	s.written[id] = e
	if data, err := json.Marshal(s.served); err == nil {
		_ = privfile.Write(s.Store.ServedPath(), data)
	}
}
