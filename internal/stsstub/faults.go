package stsstub

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// This file injects failures: FailNext queues them per action, ServeHTTP
// takes them before answering, in whatever protocol the action speaks.

// Fault describes an injected failure; see FailNext.
type Fault struct {
	Status  int           // HTTP status; defaults to 400 when Code is set
	Code    string        // error code, e.g. AccessDenied, Throttling; defaults from Status
	Message string        // error message; defaults to a generic one
	Hang    time.Duration // sleep this long before answering (alone: then answer normally)
	Close   bool          // drop the connection without answering
	// Padding answers normally, the body after this many spaces (a valid
	// reply too big to read whole), streamed, never held in memory.
	Padding int64
	// Replace answers normally with these fields of the credentials in
	// the reply ("AccessKeyId", "SecretAccessKey", "SessionToken")
	// replaced, or, in another JSON reply, these top-level fields (e.g.
	// StartDeviceAuthorization's "verificationUriComplete"): a hostile or
	// broken STS, portal or OIDC service.
	Replace map[string]string
}

// replaceCredentials applies f.Replace to the credentials in resp, of
// AssumeRole, GetSessionToken or GetRoleCredentials, or to the top-level
// fields of another JSON reply.
func replaceCredentials(resp any, with map[string]string) {
	var xc *xmlCredentials
	switch r := resp.(type) {
	case *assumeRoleResponse:
		xc = &r.Result.Credentials
	case *getSessionTokenResponse:
		xc = &r.Result.Credentials
	case map[string]any:
		if rc, ok := r["roleCredentials"].(map[string]any); ok {
			for k, v := range with {
				rc[strings.ToLower(k[:1])+k[1:]] = v
			}
			return
		}
		for k, v := range with {
			r[k] = v
		}
		return
	default:
		return
	}
	for k, v := range with {
		switch k {
		case "AccessKeyId":
			xc.AccessKeyID = v
		case "SecretAccessKey":
			xc.SecretAccessKey = v
		case "SessionToken":
			xc.SessionToken = v
		}
	}
}

// paddedWriter sends pad spaces before the body (where a client must read
// through them to reach the reply), announced in its Content-Length.
type paddedWriter struct {
	http.ResponseWriter
	pad int64
}

func (p *paddedWriter) WriteHeader(status int) {
	if n, err := strconv.ParseInt(p.Header().Get("Content-Length"), 10, 64); err == nil {
		p.Header().Set("Content-Length", strconv.FormatInt(n+p.pad, 10))
	}
	p.ResponseWriter.WriteHeader(status)
}

func (p *paddedWriter) Write(b []byte) (int, error) {
	chunk := bytes.Repeat([]byte{' '}, 64<<10)
	for ; p.pad > 0; p.pad -= int64(len(chunk)) {
		if _, err := p.ResponseWriter.Write(chunk[:min(p.pad, int64(len(chunk)))]); err != nil {
			return 0, err // the client stopped reading: as it should
		}
	}
	return p.ResponseWriter.Write(b)
}

type faultRule struct {
	action string
	pass   int // calls still answered normally before the rule fails any
	left   int
	f      Fault
}

// FailNext makes the next n calls of action ("" = any action) fail with f; n <= 0 cancels earlier faults for action.
// Actions are API names of any of the services, e.g. AssumeRole, GetRoleCredentials, CreateToken.
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

// FailAfter lets the next pass calls of action be answered normally, then
// fails the n after them with f, so that a test can arm a fault before
// the call it must not hit, whenever the calls come.
func (s *Server) FailAfter(action string, pass, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultRule{action: action, pass: pass, left: n, f: f})
}

func (s *Server) takeFault(action string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.faults {
		if r.action == "" || r.action == action {
			if r.pass > 0 {
				r.pass--
				return Fault{}, false
			}
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

// faultError turns f into an error response, with codes defaulted the way
// the service speaking proto names them.
func faultError(f Fault, proto protocol) *apiError {
	e := &apiError{Status: f.Status, Code: f.Code, Message: f.Message}
	if e.Status == 0 {
		e.Status = http.StatusBadRequest
	}
	if e.Code == "" {
		e.Code = defaultCode(e.Status, proto)
	}
	if e.Message == "" {
		e.Message = "stsstub: injected " + e.Code
	}
	return e
}

func defaultCode(status int, proto protocol) string {
	if proto == protoQuery || proto == protoPage {
		switch {
		case status == http.StatusForbidden:
			return "AccessDenied"
		case status == http.StatusTooManyRequests:
			return "Throttling"
		case status == http.StatusServiceUnavailable:
			return "ServiceUnavailable"
		case status >= 500:
			return "InternalFailure"
		}
		return "ValidationError"
	}
	switch {
	case status == http.StatusUnauthorized && proto == protoOAuth:
		return "InvalidClientException"
	case status == http.StatusUnauthorized:
		return "UnauthorizedException"
	case status == http.StatusForbidden && proto == protoOAuth:
		return "AccessDeniedException"
	case status == http.StatusForbidden:
		return "ForbiddenException"
	case status == http.StatusNotFound:
		return "ResourceNotFoundException"
	case status == http.StatusTooManyRequests && proto == protoOAuth:
		return "SlowDownException"
	case status == http.StatusTooManyRequests:
		return "TooManyRequestsException"
	case status >= 500 && proto == protoOAuth:
		return "InternalServerException"
	case status >= 500:
		return "ServiceUnavailableException"
	}
	return "InvalidRequestException"
}
