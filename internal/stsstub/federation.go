package stsstub

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strconv"
)

// This file is the console sign-in federation endpoint: GET /federation
// with Action=getSigninToken turns temporary credentials the stub issued
// into a sign-in token, and Action=login is the address a browser opens
// with it. As with AWS, SessionDuration is refused for credentials from
// role chaining, and long-term keys are refused outright.

// signinSession is the Session parameter of getSigninToken.
type signinSession struct {
	SessionID    string `json:"sessionId"`
	SessionKey   string `json:"sessionKey"`
	SessionToken string `json:"sessionToken"`
}

func (s *Server) federationOperation(r *http.Request) *operation {
	q := r.URL.Query()
	op := &operation{proto: protoRESTJSON, call: Call{Action: q.Get("Action")}}
	switch q.Get("Action") {
	case "getSigninToken":
		var sess signinSession
		jsonErr := json.Unmarshal([]byte(q.Get("Session")), &sess)
		op.call.AccessKeyID = sess.SessionID
		op.call.DurationSeconds, _ = strconv.Atoi(q.Get("SessionDuration"))
		op.handle = func(string) (any, *apiError) {
			if jsonErr != nil {
				return nil, federationError("Session is not a JSON object with sessionId, sessionKey and sessionToken")
			}
			return s.getSigninToken(sess, q.Get("SessionDuration"))
		}
	case "login":
		op.call.SigninToken, op.call.Destination = q.Get("SigninToken"), q.Get("Destination")
		op.proto = protoPage
		op.handle = func(string) (any, *apiError) {
			s.mu.Lock()
			akid, ok := s.signinTokens[op.call.SigninToken]
			s.mu.Unlock()
			if !ok {
				return nil, federationError("unknown or used sign-in token")
			}
			return "signed in with " + akid + " to " + op.call.Destination + "\n", nil
		}
	default:
		op.handle = func(string) (any, *apiError) { return nil, federationError("unknown Action") }
	}
	return op
}

func federationError(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidRequest", msg}
}

func (s *Server) getSigninToken(sess signinSession, duration string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.keys[sess.SessionID]
	switch {
	case p == nil || p.kind == kindUser || sess.SessionToken == "" ||
		subtle.ConstantTimeCompare([]byte(p.secret), []byte(sess.SessionKey)) != 1 ||
		subtle.ConstantTimeCompare([]byte(p.token), []byte(sess.SessionToken)) != 1:
		return nil, &apiError{http.StatusForbidden, "AccessDenied", "the session credentials are not valid temporary credentials"}
	case !s.now().Before(p.expires):
		return nil, &apiError{http.StatusForbidden, "ExpiredToken", "the session credentials have expired"}
	case duration != "" && p.chained:
		return nil, federationError("SessionDuration cannot be used with credentials from role chaining")
	case duration != "":
		if n, err := strconv.Atoi(duration); err != nil || n < 900 || n > 43200 {
			return nil, federationError("SessionDuration must be 900 to 43200 seconds")
		}
	}
	token := randomString(64, base64Alphabet)
	s.signinTokens[token] = sess.SessionID
	return map[string]string{"SigninToken": token}, nil
}
