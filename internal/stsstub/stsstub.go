// Package stsstub serves a local stand-in for AWS STS over plain HTTP on
// 127.0.0.1, for tests and demos. It speaks the AWS Query protocol that
// aws-sdk-go-v2 and the aws CLI use for STS, verifies SigV4 signatures
// against the keys it knows (long-term keys added with AddUser and the
// temporary credentials it issued), serves AssumeRole, GetSessionToken and
// GetCallerIdentity, records and counts calls, and fails on demand. Clients
// reach it through the standard AWS_ENDPOINT_URL_STS environment variable.
package stsstub

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Namespace is the XML namespace of STS responses.
const Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// maxBody caps the request body the stub reads.
const maxBody = 1 << 20

// Server is a running STS stand-in.
type Server struct {
	// URL is the base URL to put in AWS_ENDPOINT_URL_STS, like http://127.0.0.1:PORT.
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
	hook            func(Call)
	now             func() time.Time
}

// Call records one request the stub received.
type Call struct {
	Action          string
	AccessKeyID     string
	RoleArn         string
	RoleSessionName string
	ExternalID      string
	SerialNumber    string
	TokenCode       string
	DurationSeconds int
	Region          string    // region from the SigV4 credential scope
	Time            time.Time // when the request arrived
	Status          int       // HTTP status sent; 0 if none was sent (dropped or still running)
	Err             string    // error code sent, "" on success
}

// Fault describes an injected failure; see FailNext.
type Fault struct {
	Status  int           // HTTP status; defaults to 400 when Code is set
	Code    string        // error code, e.g. AccessDenied, Throttling; defaults from Status
	Message string        // error message; defaults to a generic one
	Hang    time.Duration // sleep this long before answering (alone: then answer normally)
	Close   bool          // drop the connection without answering
}

type faultRule struct {
	action string
	left   int
	f      Fault
}

type mfaDevice struct{ serial, code string }

type principalKind int

const (
	kindUser         principalKind = iota // long-term key
	kindSessionToken                      // issued by GetSessionToken
	kindRole                              // issued by AssumeRole
)

// principal is the identity behind an access key id.
type principal struct {
	kind      principalKind
	secret    string
	token     string    // session token for issued credentials
	expires   time.Time // zero for long-term keys
	arn       string
	userID    string
	account   string
	mfaSerial string // MFA the credentials were obtained with, if any
	mfaCode   string
}

// apiError is an STS error response.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// Start starts a server listening on 127.0.0.1 on a free port.
func Start() (*Server, error) { return StartAddr("127.0.0.1:0") }

// StartAddr starts a server listening on addr, e.g. "127.0.0.1:0".
func StartAddr(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("stsstub: listen: %w", err)
	}
	s := &Server{
		URL:         "http://" + ln.Addr().String(),
		ln:          ln,
		done:        make(chan struct{}),
		keys:        map[string]*principal{},
		mfaRoles:    map[string]mfaDevice{},
		mfaDevices:  map[string]string{},
		externalIDs: map[string]string{},
		now:         time.Now,
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

// AddUser registers a long-term access key for the IAM user (or root) ARN.
func (s *Server) AddUser(accessKeyID, secret, arn string) {
	account := "000000000000"
	if parts := strings.Split(arn, ":"); len(parts) >= 6 && parts[4] != "" {
		account = parts[4]
	}
	userID := "AIDA" + stableID(arn)
	if strings.HasSuffix(arn, ":root") {
		userID = account
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[accessKeyID] = &principal{kind: kindUser, secret: secret, arn: arn, userID: userID, account: account}
}

// SetSessionDuration makes issued credentials expire after d regardless of DurationSeconds; 0 restores normal behaviour.
func (s *Server) SetSessionDuration(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessionDuration = d
}

// FailNext makes the next n calls of action ("" = any action) fail with f; n <= 0 cancels earlier faults for action.
func (s *Server) FailNext(action string, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		kept := s.faults[:0]
		for _, r := range s.faults {
			if r.action != action {
				kept = append(kept, r)
			}
		}
		s.faults = kept
		return
	}
	s.faults = append(s.faults, &faultRule{action: action, left: n, f: f})
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

// SetSecretOverride makes the next issued credentials use secret as their secret access key.
func (s *Server) SetSecretOverride(secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secretOverride = &secret
}

// RequireMFA makes AssumeRole of roleArn require MFA device serial with the given code.
//
// The MFA may come from the caller's credentials (issued by GetSessionToken
// with that serial and code, or by an AssumeRole that carried it) or from
// SerialNumber/TokenCode on the AssumeRole call itself, as with real STS.
// Any call presenting serial with another code is denied.
func (s *Server) RequireMFA(roleArn, serial, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mfaRoles[roleArn] = mfaDevice{serial: serial, code: code}
	s.mfaDevices[serial] = code
}

// RequireExternalID makes AssumeRole of roleArn require the given ExternalId.
func (s *Server) RequireExternalID(roleArn, externalID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.externalIDs[roleArn] = externalID
}

// ExpireAll makes every credential issued so far expire now.
func (s *Server) ExpireAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, p := range s.keys {
		if p.kind != kindUser {
			p.expires = now
		}
	}
}

// SetCallHook sets a function called with each call once it has been answered (or dropped).
func (s *Server) SetCallHook(f func(Call)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = f
}

// ServeHTTP answers one STS request.
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
	params, perr := requestParams(r, body, readErr)

	authz := r.Header.Get("Authorization")
	c := Call{
		Action:          params.Get("Action"),
		AccessKeyID:     accessKeyIDFromAuthorization(authz),
		RoleArn:         params.Get("RoleArn"),
		RoleSessionName: params.Get("RoleSessionName"),
		ExternalID:      params.Get("ExternalId"),
		SerialNumber:    params.Get("SerialNumber"),
		TokenCode:       params.Get("TokenCode"),
	}
	c.DurationSeconds, _ = strconv.Atoi(params.Get("DurationSeconds"))
	if a, err := parseAuthorization(authz); err == nil {
		c.Region = a.region
	}
	idx := s.record(&c)

	if f, ok := s.takeFault(c.Action); ok {
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
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
				}
			} else {
				panic(http.ErrAbortHandler)
			}
			s.finish(idx, 0, "ConnectionClosed")
			return
		}
		if f.Status != 0 || f.Code != "" {
			e := faultError(f)
			writeError(w, e, reqID)
			s.finish(idx, e.Status, e.Code)
			return
		}
	}

	var resp any
	e := perr
	if e == nil {
		resp, e = s.dispatch(r, body, params, reqID)
	}
	if e != nil {
		writeError(w, e, reqID)
		s.finish(idx, e.Status, e.Code)
		return
	}
	writeXML(w, http.StatusOK, resp, reqID)
	s.finish(idx, http.StatusOK, "")
}

// requestParams merges the query string and a form-encoded body.
func requestParams(r *http.Request, body []byte, readErr error) (url.Values, *apiError) {
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return params, &apiError{http.StatusBadRequest, "MalformedQueryString", "The query string is malformed."}
	}
	if readErr != nil {
		return params, &apiError{http.StatusBadRequest, "IncompleteBody", "The request body could not be read."}
	}
	if len(body) > maxBody {
		return params, &apiError{http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "Request body is too large."}
	}
	ct := r.Header.Get("Content-Type")
	if r.Header.Get("X-Amz-Target") != "" || r.Header.Get("Smithy-Protocol") != "" ||
		strings.HasPrefix(ct, "application/x-amz-json") || strings.HasPrefix(ct, "application/cbor") {
		return params, &apiError{http.StatusBadRequest, "InvalidAction",
			fmt.Sprintf("stsstub speaks only the AWS Query protocol (got Content-Type %q, X-Amz-Target %q)", ct, r.Header.Get("X-Amz-Target"))}
	}
	if len(body) > 0 {
		bv, err := url.ParseQuery(string(body))
		if err != nil {
			return params, &apiError{http.StatusBadRequest, "MalformedQueryString", "The request body is not valid form encoding."}
		}
		for k, v := range bv {
			params[k] = v
		}
	}
	return params, nil
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

func (s *Server) takeFault(action string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.faults {
		if r.action == "" || r.action == action {
			f := r.f
			r.left--
			if r.left <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f, true
		}
	}
	return Fault{}, false
}

func faultError(f Fault) *apiError {
	e := &apiError{Status: f.Status, Code: f.Code, Message: f.Message}
	if e.Status == 0 {
		e.Status = http.StatusBadRequest
	}
	if e.Code == "" {
		switch {
		case e.Status == http.StatusForbidden:
			e.Code = "AccessDenied"
		case e.Status == http.StatusTooManyRequests:
			e.Code = "Throttling"
		case e.Status == http.StatusServiceUnavailable:
			e.Code = "ServiceUnavailable"
		case e.Status >= 500:
			e.Code = "InternalFailure"
		default:
			e.Code = "ValidationError"
		}
	}
	if e.Message == "" {
		e.Message = "stsstub: injected " + e.Code
	}
	return e
}

func (s *Server) dispatch(r *http.Request, body []byte, params url.Values, reqID string) (any, *apiError) {
	p, e := s.authenticate(r, body)
	if e != nil {
		return nil, e
	}
	meta := responseMetadata{RequestID: reqID}
	switch action := params.Get("Action"); action {
	case "AssumeRole":
		res, e := s.assumeRole(p, params)
		if e != nil {
			return nil, e
		}
		return &assumeRoleResponse{Xmlns: Namespace, Result: *res, Metadata: meta}, nil
	case "GetSessionToken":
		res, e := s.getSessionToken(p, params)
		if e != nil {
			return nil, e
		}
		return &getSessionTokenResponse{Xmlns: Namespace, Result: *res, Metadata: meta}, nil
	case "GetCallerIdentity":
		res := getCallerIdentityResult{Arn: p.arn, UserID: p.userID, Account: p.account}
		return &getCallerIdentityResponse{Xmlns: Namespace, Result: res, Metadata: meta}, nil
	case "":
		return nil, &apiError{http.StatusBadRequest, "MissingAction", "Missing Action"}
	default:
		return nil, &apiError{http.StatusBadRequest, "InvalidAction", "Could not find operation " + action + " for version 2011-06-15"}
	}
}

// authenticate finds the principal behind the request's SigV4 signature.
func (s *Server) authenticate(r *http.Request, body []byte) (principal, *apiError) {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return principal{}, &apiError{http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"}
	}
	a, err := parseAuthorization(authz)
	if err != nil {
		return principal{}, errIncompleteSignature(err.Error())
	}
	s.mu.Lock()
	pp, ok := s.keys[a.accessKeyID]
	var p principal
	if ok {
		p = *pp
	}
	now := s.now()
	s.mu.Unlock()
	invalid := &apiError{http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."}
	if !ok {
		return p, invalid
	}
	token := r.Header.Get("X-Amz-Security-Token")
	if p.kind == kindUser {
		if token != "" {
			return p, invalid
		}
	} else if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(p.token)) != 1 {
		return p, invalid
	}
	if !p.expires.IsZero() && !now.Before(p.expires) {
		return p, &apiError{http.StatusBadRequest, "ExpiredToken", "The security token included in the request is expired"}
	}
	if e := verifySignature(r, a, body, p.secret, now); e != nil {
		return p, e
	}
	return p, nil
}

var (
	roleArnRE     = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$`)
	sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDRE  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	tokenCodeRE   = regexp.MustCompile(`^\d{6}$`)
	serialRE      = regexp.MustCompile(`^[\w+=/:,.@-]{9,256}$`)
)

func validationError(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "ValidationError", msg}
}

func accessDenied(msg string) *apiError {
	return &apiError{http.StatusForbidden, "AccessDenied", msg}
}

// durationParam parses DurationSeconds with its default and bounds.
func durationParam(params url.Values, def, lo, hi int) (int, *apiError) {
	v := params.Get("DurationSeconds")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, validationError("1 validation error detected: Value '" + v + "' at 'durationSeconds' failed to satisfy constraint: Member must be an integer")
	}
	if n < lo {
		return 0, validationError(fmt.Sprintf("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", n, lo))
	}
	if n > hi {
		return 0, validationError(fmt.Sprintf("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to %d", n, hi))
	}
	return n, nil
}

// checkMFAParams validates SerialNumber/TokenCode and, for a known device, the code.
// It must be called with s.mu held.
func (s *Server) checkMFAParamsLocked(serial, code string) *apiError {
	if serial == "" && code == "" {
		return nil
	}
	if serial != "" && !serialRE.MatchString(serial) {
		return validationError("1 validation error detected: Value '" + serial + "' at 'serialNumber' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=/:,.@-]*")
	}
	if code != "" && !tokenCodeRE.MatchString(code) {
		return validationError("1 validation error detected: Value at 'tokenCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\d]*")
	}
	if serial == "" || code == "" {
		return accessDenied("MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user.")
	}
	if want, known := s.mfaDevices[serial]; known && subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
		return accessDenied("MultiFactorAuthentication failed with invalid MFA one time pass code. ")
	}
	return nil
}

func (s *Server) assumeRole(p principal, params url.Values) (*assumeRoleResult, *apiError) {
	roleArn := params.Get("RoleArn")
	if roleArn == "" {
		return nil, validationError("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	}
	m := roleArnRE.FindStringSubmatch(roleArn)
	if m == nil {
		return nil, validationError(roleArn + " is invalid")
	}
	partition, account, roleName := m[1], m[2], m[3]
	session := params.Get("RoleSessionName")
	if session == "" {
		return nil, validationError("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	}
	if !sessionNameRE.MatchString(session) {
		return nil, validationError("1 validation error detected: Value '" + session + "' at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64 and satisfy regular expression pattern: [\\w+=,.@-]*")
	}
	dur, e := durationParam(params, 3600, 900, 43200)
	if e != nil {
		return nil, e
	}
	if p.kind == kindRole && dur > 3600 {
		return nil, validationError("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	extID := params.Get("ExternalId")
	if extID != "" && (len(extID) < 2 || len(extID) > 1224 || !externalIDRE.MatchString(extID)) {
		return nil, validationError("1 validation error detected: Value '" + extID + "' at 'externalId' failed to satisfy constraint: Member must have length between 2 and 1224 and satisfy regular expression pattern: [\\w+=,.@:\\/-]*")
	}
	serial, code := params.Get("SerialNumber"), params.Get("TokenCode")
	notAuthorized := accessDenied("User: " + p.arn + " is not authorized to perform: sts:AssumeRole on resource: " + roleArn)

	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.checkMFAParamsLocked(serial, code); e != nil {
		return nil, e
	}
	mfaSerial, mfaCode := p.mfaSerial, p.mfaCode
	if serial != "" {
		mfaSerial, mfaCode = serial, code
	}
	if want, ok := s.mfaRoles[roleArn]; ok && (mfaSerial != want.serial || mfaCode != want.code) {
		return nil, notAuthorized
	}
	if want, ok := s.externalIDs[roleArn]; ok && extID != want {
		return nil, notAuthorized
	}
	now := s.now()
	roleID := "AROA" + stableID(roleArn)
	np := &principal{
		kind:      kindRole,
		arn:       "arn:" + partition + ":sts::" + account + ":assumed-role/" + roleName + "/" + session,
		userID:    roleID + ":" + session,
		account:   account,
		mfaSerial: mfaSerial,
		mfaCode:   mfaCode,
	}
	akid := s.issueLocked(np, now, time.Duration(dur)*time.Second)
	res := &assumeRoleResult{
		Credentials:     xmlCreds(akid, np),
		SourceIdentity:  params.Get("SourceIdentity"),
		AssumedRoleUser: assumedRoleUser{AssumedRoleID: np.userID, Arn: np.arn},
	}
	return res, nil
}

func (s *Server) getSessionToken(p principal, params url.Values) (*getSessionTokenResult, *apiError) {
	if p.kind != kindUser {
		return nil, accessDenied("Cannot call GetSessionToken with session credentials")
	}
	dur, e := durationParam(params, 43200, 900, 129600)
	if e != nil {
		return nil, e
	}
	serial, code := params.Get("SerialNumber"), params.Get("TokenCode")
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.checkMFAParamsLocked(serial, code); e != nil {
		return nil, e
	}
	np := &principal{
		kind:      kindSessionToken,
		arn:       p.arn,
		userID:    p.userID,
		account:   p.account,
		mfaSerial: serial,
		mfaCode:   code,
	}
	akid := s.issueLocked(np, s.now(), time.Duration(dur)*time.Second)
	return &getSessionTokenResult{Credentials: xmlCreds(akid, np)}, nil
}

// issueLocked fills in np's secret, token and expiry, registers it under a
// fresh access key id and returns that id. s.mu must be held.
func (s *Server) issueLocked(np *principal, now time.Time, dur time.Duration) string {
	if s.sessionDuration > 0 {
		dur = s.sessionDuration
	}
	np.expires = now.Add(dur)
	np.secret = randomString(40, base64Alphabet)
	if s.secretOverride != nil {
		np.secret = *s.secretOverride
		s.secretOverride = nil
	}
	np.token = "FwoGZXIvYXdzE" + base64.StdEncoding.EncodeToString(randomBytes(300))
	for {
		akid := "ASIA" + randomString(16, base32Alphabet)
		if _, dup := s.keys[akid]; !dup {
			s.keys[akid] = np
			return akid
		}
	}
}

func xmlCreds(akid string, p *principal) xmlCredentials {
	return xmlCredentials{
		AccessKeyID:     akid,
		SecretAccessKey: p.secret,
		SessionToken:    p.token,
		Expiration:      p.expires.UTC().Truncate(time.Second).Format(time.RFC3339),
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

// XML shapes of STS responses.

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type xmlCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type assumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type assumeRoleResult struct {
	Credentials     xmlCredentials  `xml:"Credentials"`
	AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
	SourceIdentity  string          `xml:"SourceIdentity,omitempty"`
}

type assumeRoleResponse struct {
	XMLName  xml.Name         `xml:"AssumeRoleResponse"`
	Xmlns    string           `xml:"xmlns,attr"`
	Result   assumeRoleResult `xml:"AssumeRoleResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type getSessionTokenResult struct {
	Credentials xmlCredentials `xml:"Credentials"`
}

type getSessionTokenResponse struct {
	XMLName  xml.Name              `xml:"GetSessionTokenResponse"`
	Xmlns    string                `xml:"xmlns,attr"`
	Result   getSessionTokenResult `xml:"GetSessionTokenResult"`
	Metadata responseMetadata      `xml:"ResponseMetadata"`
}

type getCallerIdentityResult struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

type getCallerIdentityResponse struct {
	XMLName  xml.Name                `xml:"GetCallerIdentityResponse"`
	Xmlns    string                  `xml:"xmlns,attr"`
	Result   getCallerIdentityResult `xml:"GetCallerIdentityResult"`
	Metadata responseMetadata        `xml:"ResponseMetadata"`
}

type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func writeError(w http.ResponseWriter, e *apiError, reqID string) {
	var er errorResponse
	er.Xmlns = Namespace
	er.Error.Type = "Sender"
	if e.Status >= 500 {
		er.Error.Type = "Receiver"
	}
	er.Error.Code = e.Code
	er.Error.Message = e.Message
	er.RequestID = reqID
	writeXML(w, e.Status, &er, reqID)
}

func writeXML(w http.ResponseWriter, status int, v any, reqID string) {
	out, err := xml.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		out = []byte("<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>stsstub: cannot encode response</Message></Error></ErrorResponse>")
	}
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("X-Amzn-Requestid", reqID)
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write(out)
}
