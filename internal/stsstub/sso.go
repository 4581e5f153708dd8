package stsstub

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// This file is the IAM Identity Center portal (service id "SSO",
// REST-JSON): who may reach which account and role, and the role
// credentials it hands out, which STS then accepts like any it issued.

const (
	defaultSSOUser        = "alice"
	defaultSSOPageSize    = 2 // small, so that every client's paging is exercised
	defaultSSOCredentials = time.Hour
	ssoBearerHeader       = "X-Amz-Sso_bearer_token"
)

// ssoState is the Identity Center side of the stub; Server.mu guards it.
type ssoState struct {
	user          string                                    // who signs in next (device approvals, IssueSSOToken)
	assignments   map[string]map[string]map[string]struct{} // user → account → role names
	accountNames  map[string]string
	pageSize      int
	credDuration  time.Duration
	clients       map[string]*oidcClient // client id → registration
	defaultClient string                 // the client IssueSSOToken's tokens belong to
	devices       map[string]*deviceAuth // device code → sign-in in progress
	userCodes     map[string]string      // user code → device code
	access        map[string]*ssoSession // access token → session
	refresh       map[string]*ssoSession // refresh token → session
}

// ssoSession is who a token speaks for.
type ssoSession struct {
	user, startURL, clientID string
	expires                  time.Time // access tokens only
	revoked                  bool      // refresh tokens only
}

func newSSOState() ssoState {
	st := ssoState{
		user:         defaultSSOUser,
		assignments:  map[string]map[string]map[string]struct{}{},
		accountNames: map[string]string{},
		pageSize:     defaultSSOPageSize,
		credDuration: defaultSSOCredentials,
		clients:      map[string]*oidcClient{},
		devices:      map[string]*deviceAuth{},
		userCodes:    map[string]string{},
		access:       map[string]*ssoSession{},
		refresh:      map[string]*ssoSession{},
	}
	st.defaultClient, _ = st.registerClient(time.Now())
	return st
}

// AddSSOUser registers an Identity Center user and makes it the one who
// signs in from now on (device approvals, IssueSSOToken) and whom
// AssignSSO assigns to. A fresh server's user is "alice".
func (s *Server) AddSSOUser(userName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sso.user = userName
	if s.sso.assignments[userName] == nil {
		s.sso.assignments[userName] = map[string]map[string]struct{}{}
	}
}

// AssignSSO lets the current SSO user (see AddSSOUser) use roleName (a permission set) in accountID.
func (s *Server) AssignSSO(accountID, roleName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byAccount := s.sso.assignments[s.sso.user]
	if byAccount == nil {
		byAccount = map[string]map[string]struct{}{}
		s.sso.assignments[s.sso.user] = byAccount
	}
	if byAccount[accountID] == nil {
		byAccount[accountID] = map[string]struct{}{}
	}
	byAccount[accountID][roleName] = struct{}{}
}

// NameSSOAccount sets the name ListAccounts reports for accountID (default "account-<id>").
func (s *Server) NameSSOAccount(accountID, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sso.accountNames[accountID] = name
}

// SetSSOCredentialDuration sets how long GetRoleCredentials' credentials last (default 1h; 0 restores it).
func (s *Server) SetSSOCredentialDuration(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		d = defaultSSOCredentials
	}
	s.sso.credDuration = d
}

// SetSSOPageSize sets how many items ListAccounts and ListAccountRoles
// return per page when the caller gives no max_result (default 2; 0 restores it).
func (s *Server) SetSSOPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		n = defaultSSOPageSize
	}
	s.sso.pageSize = n
}

// SSOClient returns the OIDC client registration that tokens from
// IssueSSOToken belong to, for the clientId/clientSecret/registrationExpiresAt
// fields of a token cache file; CreateToken refreshes them only with it.
func (s *Server) SSOClient() (clientID, clientSecret string, expiresAt time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.sso.clients[s.sso.defaultClient]
	return s.sso.defaultClient, c.secret, c.expires
}

// IssueSSOToken signs the current SSO user in to startURL without the
// device flow: it returns an access token valid for ttl and a refresh
// token, both issued to the SSOClient registration.
func (s *Server) IssueSSOToken(startURL string, ttl time.Duration) (accessToken, refreshToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueSSOTokenLocked(ssoSession{user: s.sso.user, startURL: startURL, clientID: s.sso.defaultClient}, ttl)
}

func (s *Server) issueSSOTokenLocked(sess ssoSession, ttl time.Duration) (accessToken, refreshToken string) {
	accessToken = "aoa" + randomString(60, base64URLAlphabet)
	refreshToken = "aor" + randomString(60, base64URLAlphabet)
	a, r := sess, sess
	a.expires = s.now().Add(ttl)
	s.sso.access[accessToken] = &a
	s.sso.refresh[refreshToken] = &r
	return accessToken, refreshToken
}

// ExpireSSOTokens makes every SSO access token issued so far expire now; refresh tokens stay valid.
func (s *Server) ExpireSSOTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, t := range s.sso.access {
		t.expires = now
	}
}

// RevokeRefreshTokens makes every SSO refresh token issued so far invalid.
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.sso.refresh {
		t.revoked = true
	}
}

// ssoOperation parses a portal request; its bearer token is checked in the handler.
func (s *Server) ssoOperation(r *http.Request) *operation {
	q := r.URL.Query()
	op := &operation{proto: protoRESTJSON, call: Call{AccountID: q.Get("account_id")}}
	token := r.Header.Get(ssoBearerHeader)
	switch r.URL.Path {
	case "/federation/credentials":
		op.call.Action, op.call.RoleName = "GetRoleCredentials", q.Get("role_name")
		op.handle = func(string) (any, *apiError) { return s.getRoleCredentials(token, op.call.AccountID, op.call.RoleName) }
	case "/assignment/accounts":
		op.call.Action = "ListAccounts"
		op.handle = func(string) (any, *apiError) {
			return s.listAssignments(token, "", q.Get("next_token"), q.Get("max_result"))
		}
	case "/assignment/roles":
		op.call.Action = "ListAccountRoles"
		op.handle = func(string) (any, *apiError) {
			if op.call.AccountID == "" {
				return nil, invalidRequest("account_id is required")
			}
			return s.listAssignments(token, op.call.AccountID, q.Get("next_token"), q.Get("max_result"))
		}
	default: // POST /logout
		op.call.Action = "Logout"
		op.handle = func(string) (any, *apiError) { return s.logout(token) }
	}
	return op
}

func invalidRequest(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidRequestException", msg}
}

// bearerLocked finds the session behind a portal access token. s.mu must be held.
func (s *Server) bearerLocked(token string) (*ssoSession, *apiError) {
	sess, ok := s.sso.access[token]
	if token == "" || !ok || !s.now().Before(sess.expires) {
		return nil, &apiError{http.StatusUnauthorized, "UnauthorizedException", "Session token not found or invalid"}
	}
	return sess, nil
}

func (s *Server) getRoleCredentials(token, account, role string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, e := s.bearerLocked(token)
	if e != nil {
		return nil, e
	}
	if account == "" || role == "" {
		return nil, invalidRequest("account_id and role_name are required")
	}
	if _, ok := s.sso.assignments[sess.user][account][role]; !ok {
		return nil, &apiError{http.StatusForbidden, "ForbiddenException", "No access"}
	}
	h := sha256.Sum256([]byte(account + "/" + role))
	reserved := "AWSReservedSSO_" + role + "_" + hex.EncodeToString(h[:8])
	np := &principal{
		kind:    kindRole,
		arn:     "arn:aws:sts::" + account + ":assumed-role/" + reserved + "/" + sess.user,
		userID:  "AROA" + stableID("arn:aws:iam::"+account+":role/"+reserved) + ":" + sess.user,
		account: account,
	}
	akid := s.issueLocked(np, s.now(), s.sso.credDuration)
	return map[string]any{"roleCredentials": map[string]any{
		"accessKeyId":     akid,
		"secretAccessKey": np.secret,
		"sessionToken":    np.token,
		"expiration":      np.expires.UnixMilli(),
	}}, nil
}

// listAssignments answers ListAccounts (account == "") or ListAccountRoles, one page at a time.
func (s *Server) listAssignments(token, account, nextToken, maxResult string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, e := s.bearerLocked(token)
	if e != nil {
		return nil, e
	}
	size := s.sso.pageSize
	if maxResult != "" {
		n, err := strconv.Atoi(maxResult)
		if err != nil || n < 1 || n > 100 {
			return nil, invalidRequest("max_result must be between 1 and 100")
		}
		size = n
	}
	start := 0
	if nextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(nextToken)
		n, aerr := strconv.Atoi(string(b))
		if err != nil || aerr != nil || n < 0 {
			return nil, invalidRequest("Invalid next token")
		}
		start = n
	}
	mine := s.sso.assignments[sess.user]
	var names []string
	if account == "" {
		for id := range mine {
			names = append(names, id)
		}
	} else {
		roles, ok := mine[account]
		if !ok {
			return nil, &apiError{http.StatusForbidden, "ForbiddenException", "No access"}
		}
		for role := range roles {
			names = append(names, role)
		}
	}
	sort.Strings(names)
	end := min(start+size, len(names))
	start = min(start, end)
	items := make([]map[string]string, 0, end-start)
	for _, name := range names[start:end] {
		if account == "" {
			accountName := s.sso.accountNames[name]
			if accountName == "" {
				accountName = "account-" + name
			}
			items = append(items, map[string]string{"accountId": name, "accountName": accountName, "emailAddress": "aws+" + name + "@example.com"})
		} else {
			items = append(items, map[string]string{"accountId": account, "roleName": name})
		}
	}
	listKey := "roleList"
	if account == "" {
		listKey = "accountList"
	}
	out := map[string]any{listKey: items}
	if end < len(names) {
		out["nextToken"] = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return out, nil
}

func (s *Server) logout(token string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, e := s.bearerLocked(token); e != nil {
		return nil, e
	}
	delete(s.sso.access, token)
	return struct{}{}, nil
}

// constantTimeEqual compares secrets without leaking where they differ.
func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func writeJSON(w http.ResponseWriter, status int, v any, reqID string) {
	out, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		out = []byte(`{"message":"stsstub: cannot encode response"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Requestid", reqID)
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// writeJSONError answers as the REST-JSON services do: the error type in
// the X-Amzn-Errortype header (which the SDKs read first), the message in
// the body; the OIDC service uses OAuth's error/error_description fields.
func writeJSONError(w http.ResponseWriter, proto protocol, e *apiError, reqID string) {
	w.Header().Set("X-Amzn-Errortype", e.Code)
	body := map[string]string{"message": e.Message}
	if proto == protoOAuth {
		body = map[string]string{"error": oauthError(e.Code), "error_description": e.Message}
	}
	writeJSON(w, e.Status, body, reqID)
}

func writeText(w http.ResponseWriter, status int, text, reqID string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Amzn-Requestid", reqID)
	h.Set("Content-Length", strconv.Itoa(len(text)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text))
}
