// Package stsstub serves a local stand-in for AWS STS and IAM Identity
// Center over plain HTTP on 127.0.0.1, for tests and demos.
//
// One Server, one listener, routed by method and path:
//
//   - STS (sts.go): the AWS Query protocol that aws-sdk-go-v2 and the aws
//     CLI use, on any path not claimed below. SigV4 signatures are verified
//     (sigv4.go) against the keys the stub knows: long-term keys added with
//     AddUser and every temporary credential it issued. AssumeRole,
//     GetSessionToken and GetCallerIdentity.
//   - The IAM Identity Center portal (sso.go, service id "SSO", REST-JSON):
//     GetRoleCredentials, ListAccounts, ListAccountRoles, Logout, with the
//     bearer token in x-amz-sso_bearer_token.
//   - IAM Identity Center OIDC (oidc.go, service id "SSO OIDC", REST-JSON):
//     RegisterClient, StartDeviceAuthorization, CreateToken (device code and
//     refresh token grants), and GET /device?user_code=… that approves a
//     device sign-in the way a user's browser would.
//   - IAM (iam.go, Query protocol, signed for "iam"): CreateAccessKey,
//     DeleteAccessKey and ListAccessKeys of the caller's own user, for key
//     rotation; SetIAMLag makes new keys wait as IAM's do.
//
// Every request is recorded (Calls, Count) under its API name, and any of
// them can be made to fail on demand (FailNext). Clients reach the stub
// through the SDKs' standard service-specific endpoint variables:
// AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL_SSO_OIDC and
// AWS_ENDPOINT_URL_IAM, all set to Server.URL.
package stsstub

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// maxBody caps the request body the stub reads.
const maxBody = 1 << 20

// Server is a running STS and IAM Identity Center stand-in.
type Server struct {
	// URL is the base URL for AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL_SSO and
	// AWS_ENDPOINT_URL_SSO_OIDC, like http://127.0.0.1:PORT.
	URL string

	ln   net.Listener
	hs   *http.Server
	done chan struct{}

	// handlers tracks running requests so Close can wait for them.
	handlers sync.WaitGroup
	closing  bool

	mu              sync.Mutex
	keys            map[string]*principal
	calls           []Call
	callBase        int // number of calls forgotten by ResetCalls
	faults          []*faultRule
	sessionDuration time.Duration
	secretOverride  *string
	mfaRoles        map[string]mfaDevice // role ARN → required MFA
	mfaDevices      map[string]string    // serial → valid code
	externalIDs     map[string]string    // role ARN → required external id
	sso             ssoState
	hook            func(Call)
	signinTokens    map[string]string       // console sign-in token → the access key id it was made for
	oidcProviders   map[string]oidcProvider // issuer → the audiences it accepts
	webTrust        map[string][]webTrust   // role ARN → the web identities it trusts
	now             func() time.Time
	iamLag          time.Duration // a new access key works this long after it is made
}

// Call records one request the stub received.
type Call struct {
	Action          string // API name, e.g. AssumeRole, GetRoleCredentials, CreateToken
	AccessKeyID     string
	RoleArn         string
	RoleSessionName string
	ExternalID      string
	SerialNumber    string
	TokenCode       string
	DurationSeconds int
	SourceIdentity  string            // AssumeRole
	Tags            map[string]string // AssumeRole session tags; nil when none
	TransitiveTags  []string          // AssumeRole TransitiveTagKeys
	InheritedTags   map[string]string // AssumeRole: transitive tags of the caller's session; nil when none
	Policy          string            // AssumeRole inline session policy
	PolicyArns      []string          // AssumeRole managed session policies
	AccountID       string            // GetRoleCredentials, ListAccountRoles
	RoleName        string            // GetRoleCredentials
	GrantType       string            // CreateToken
	StartURL        string            // StartDeviceAuthorization
	UserCode        string            // ApproveDevice (GET /device)
	Region          string            // region from the SigV4 credential scope
	Time            time.Time         // when the request arrived
	Status          int               // HTTP status sent; 0 if none was sent (dropped or still running)
	Err             string            // error code sent, "" on success
	Issued          string            // AssumeRole: the access key id of the credentials answered
	SigninToken     string            // login: the token the sign-in URL carried
	Destination     string            // login: where the console sign-in goes
}

type principalKind int

const (
	kindUser         principalKind = iota // long-term key
	kindSessionToken                      // issued by GetSessionToken
	kindRole                              // issued by AssumeRole or GetRoleCredentials
)

// principal is the identity behind an access key id.
type principal struct {
	kind    principalKind
	secret  string
	token   string    // session token for issued credentials
	expires time.Time // zero for long-term keys
	// notBefore: a key made by CreateAccessKey is refused until then
	// (IAM's eventual consistency; SetIAMLag).
	notBefore time.Time
	created   time.Time // a long-term key's CreateDate
	arn       string
	userID    string
	account   string
	mfaSerial string // MFA the credentials were obtained with, if any
	mfaCode   string
	// chained: assumed with a role session's credentials (role chaining).
	chained bool
	// sourceIdentity and transitive tags a session carries on to the
	// roles assumed with it, as STS does.
	sourceIdentity string
	transitive     map[string]string
}

// apiError is an error response in any of the protocols.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// protocol is how an operation encodes its answers.
type protocol int

const (
	protoQuery    protocol = iota // STS: XML
	protoRESTJSON                 // SSO portal: JSON, {"message"} errors
	protoOAuth                    // SSO OIDC: JSON, {"error","error_description"} errors
	protoPage                     // the device approval page: plain text
)

// operation is one routed request: what to record and how to answer.
type operation struct {
	call   Call
	proto  protocol
	err    *apiError                           // found while parsing; answered instead of handle
	handle func(reqID string) (any, *apiError) // the success response, or an error
}

// Start starts a server listening on 127.0.0.1 on a free port.
func Start() (*Server, error) { return StartAddr("127.0.0.1:0") }

// StartAddr starts a server listening on addr, e.g. "127.0.0.1:0".
func StartAddr(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("stsstub: listen: %w", err)
	}
	s := &Server{
		URL:          "http://" + ln.Addr().String(),
		ln:           ln,
		done:         make(chan struct{}),
		keys:         map[string]*principal{},
		mfaRoles:     map[string]mfaDevice{},
		mfaDevices:   map[string]string{},
		externalIDs:  map[string]string{},
		sso:          newSSOState(),
		signinTokens: map[string]string{},
		now:          time.Now,
	}
	s.hs = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = s.hs.Serve(ln) }()
	return s, nil
}

// Close stops the server, drops open connections and waits for running handlers.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.closing = true
	close(s.done)
	s.mu.Unlock()
	_ = s.hs.Close()
	s.handlers.Wait()
}

// Calls returns every request received so far, in arrival order, including rejected ones.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// ResetCalls forgets the recorded calls.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callBase += len(s.calls)
	s.calls = nil
}

// Count returns the number of successful calls of action ("" = any action).
func (s *Server) Count(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Status == http.StatusOK && (action == "" || c.Action == action) {
			n++
		}
	}
	return n
}

// SetCallHook sets a function called with each call once it has been answered (or dropped).
func (s *Server) SetCallHook(f func(Call)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = f
}

// route picks the operation for r; whatever no other service claims is STS.
func (s *Server) route(r *http.Request, body []byte, readErr error) *operation {
	switch r.Method + " " + r.URL.Path {
	case "GET /federation/credentials", "GET /assignment/accounts", "GET /assignment/roles", "POST /logout":
		return s.ssoOperation(r)
	case "POST /client/register", "POST /device_authorization", "POST /token":
		return s.oidcOperation(r, body, readErr)
	case "GET /device":
		return s.devicePage(r)
	case "GET /federation":
		return s.federationOperation(r)
	}
	return s.stsOperation(r, body, readErr)
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		http.Error(w, "stsstub closed", http.StatusServiceUnavailable)
		return
	}
	s.handlers.Add(1)
	s.mu.Unlock()
	defer s.handlers.Done()

	reqID := newRequestID()
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	op := s.route(r, body, readErr)
	idx := s.record(&op.call)

	f, faulted := s.takeFault(op.call.Action)
	if faulted {
		if f.Hang > 0 {
			t := time.NewTimer(f.Hang)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				s.finish(idx, 0, "ClientGone")
				return
			case <-s.done:
				t.Stop()
				s.finish(idx, 0, "ServerClosed")
				return
			}
		}
		if f.Close {
			// Recorded first: the client sees the dropped connection at
			// once and may read the log before this handler goes on.
			s.finish(idx, 0, "ConnectionClosed")
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
				}
			} else {
				panic(http.ErrAbortHandler)
			}
			return
		}
		if f.Status != 0 || f.Code != "" {
			e := faultError(f, op.proto)
			writeErrorAs(w, op.proto, e, reqID)
			s.finish(idx, e.Status, e.Code)
			return
		}
	}

	var resp any
	e := op.err
	if e == nil {
		resp, e = op.handle(reqID)
	}
	if e != nil {
		writeErrorAs(w, op.proto, e, reqID)
		s.finish(idx, e.Status, e.Code)
		return
	}
	issued := ""
	switch ar := resp.(type) {
	case *assumeRoleResponse:
		issued = ar.Result.Credentials.AccessKeyID
	case *assumeRoleWithWebIdentityResponse:
		issued = ar.Result.Credentials.AccessKeyID
	}
	if issued != "" {
		s.mu.Lock()
		if i := idx - s.callBase; i >= 0 && i < len(s.calls) {
			s.calls[i].Issued = issued
		}
		s.mu.Unlock()
	}
	if faulted && f.Replace != nil {
		replaceCredentials(resp, f.Replace)
	}
	if faulted && f.Padding > 0 {
		w = &paddedWriter{ResponseWriter: w, pad: f.Padding}
	}
	switch op.proto {
	case protoQuery:
		writeXML(w, http.StatusOK, resp, reqID)
	case protoPage:
		writeText(w, http.StatusOK, resp.(string), reqID)
	default:
		writeJSON(w, http.StatusOK, resp, reqID)
	}
	s.finish(idx, http.StatusOK, "")
}

func writeErrorAs(w http.ResponseWriter, proto protocol, e *apiError, reqID string) {
	switch proto {
	case protoQuery:
		writeError(w, e, reqID)
	case protoPage:
		writeText(w, e.Status, e.Code+": "+e.Message+"\n", reqID)
	default:
		writeJSONError(w, proto, e, reqID)
	}
}

func (s *Server) record(c *Call) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.Time = s.now()
	s.calls = append(s.calls, *c)
	return s.callBase + len(s.calls) - 1
}

func (s *Server) finish(idx, status int, code string) {
	s.mu.Lock()
	var c Call
	found := false
	if i := idx - s.callBase; i >= 0 && i < len(s.calls) { // ResetCalls may have run meanwhile
		s.calls[i].Status = status
		s.calls[i].Err = code
		c, found = s.calls[i], true
	}
	hook := s.hook
	s.mu.Unlock()
	if hook != nil && found {
		hook(c)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

const (
	base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// randomString returns n random characters from alphabet, whose length must divide 256.
func randomString(n int, alphabet string) string {
	b := randomBytes(n)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// stableID derives a 17-character upper-case id from s.
func stableID(s string) string {
	h := sha256.Sum256([]byte(s))
	return base32.StdEncoding.EncodeToString(h[:])[:17]
}

func newRequestID() string {
	b := hex.EncodeToString(randomBytes(16))
	return b[0:8] + "-" + b[8:12] + "-" + b[12:16] + "-" + b[16:20] + "-" + b[20:32]
}
