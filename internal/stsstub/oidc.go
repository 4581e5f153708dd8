package stsstub

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// This file is IAM Identity Center OIDC (service id "SSO OIDC",
// REST-JSON): client registration, the OAuth device authorization grant
// (RFC 8628) and the refresh token grant. The user's side of the device
// flow is GET /device?user_code=…, which approves at once, so a $BROWSER
// script that fetches verificationUriComplete finishes the sign-in.

const (
	ssoTokenTTL           = 8 * time.Hour
	clientRegistrationTTL = 90 * 24 * time.Hour
	deviceCodeTTL         = 10 * time.Minute
	devicePollInterval    = 1 // seconds

	grantDeviceCode   = "urn:ietf:params:oauth:grant-type:device_code"
	grantRefreshToken = "refresh_token"
)

// oidcClient is one RegisterClient registration.
type oidcClient struct {
	secret  string
	expires time.Time
}

// deviceAuth is one StartDeviceAuthorization waiting for, or given, approval.
type deviceAuth struct {
	userCode, clientID, startURL string
	expires                      time.Time
	approvedBy                   string // user who approved; "" while pending
	used                         bool   // a token was issued for it
}

// registerClient adds a client registration and returns its id.
func (st *ssoState) registerClient(now time.Time) (string, *oidcClient) {
	id := randomString(22, base64URLAlphabet)
	c := &oidcClient{secret: "eyJraWQiOiJrZXktc3R1YiJ9." + randomString(80, base64URLAlphabet), expires: now.Add(clientRegistrationTTL)}
	st.clients[id] = c
	return id, c
}

// ApproveDevice approves the device sign-in with userCode as the current
// SSO user, as GET <URL>/device?user_code=… does.
func (s *Server) ApproveDevice(userCode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.approveDeviceLocked(userCode); e != nil {
		return errors.New(e.Message)
	}
	return nil
}

func (s *Server) approveDeviceLocked(userCode string) *apiError {
	d, ok := s.sso.devices[s.sso.userCodes[strings.ToUpper(userCode)]]
	if !ok {
		return invalidRequest("stsstub: no device sign-in with user code " + userCode)
	}
	if !s.now().Before(d.expires) {
		return &apiError{http.StatusBadRequest, "ExpiredTokenException", "stsstub: the device sign-in with user code " + userCode + " has expired"}
	}
	d.approvedBy = s.sso.user
	return nil
}

// devicePage is the user's browser approving a device sign-in.
func (s *Server) devicePage(r *http.Request) *operation {
	code := r.URL.Query().Get("user_code")
	op := &operation{proto: protoPage, call: Call{Action: "ApproveDevice", UserCode: code}}
	op.handle = func(string) (any, *apiError) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if e := s.approveDeviceLocked(code); e != nil {
			return nil, e
		}
		return "Request approved: you may close this window.\n", nil
	}
	return op
}

// oidcRequest holds the members of every OIDC operation's JSON input that the stub reads.
type oidcRequest struct {
	ClientName   string `json:"clientName"`
	ClientType   string `json:"clientType"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	StartURL     string `json:"startUrl"`
	GrantType    string `json:"grantType"`
	DeviceCode   string `json:"deviceCode"`
	RefreshToken string `json:"refreshToken"`
}

// oidcOperation parses an OIDC request.
func (s *Server) oidcOperation(r *http.Request, body []byte, readErr error) *operation {
	op := &operation{proto: protoOAuth}
	var in oidcRequest
	switch {
	case readErr != nil:
		op.err = invalidRequest("The request body could not be read.")
	case len(body) > maxBody:
		op.err = &apiError{http.StatusRequestEntityTooLarge, "InvalidRequestException", "Request body is too large."}
	case json.Unmarshal(body, &in) != nil:
		op.err = invalidRequest("The request body is not a JSON object.")
	}
	switch r.URL.Path {
	case "/client/register":
		op.call.Action = "RegisterClient"
		op.handle = func(string) (any, *apiError) { return s.registerClient(in) }
	case "/device_authorization":
		op.call.Action, op.call.StartURL = "StartDeviceAuthorization", in.StartURL
		op.handle = func(string) (any, *apiError) { return s.startDeviceAuthorization(in) }
	default: // /token
		op.call.Action, op.call.GrantType = "CreateToken", in.GrantType
		if r.URL.Query().Has("aws_iam") {
			op.call.Action = "CreateTokenWithIAM"
			op.err = &apiError{http.StatusBadRequest, "UnsupportedGrantTypeException", "stsstub does not serve CreateTokenWithIAM"}
		}
		op.handle = func(string) (any, *apiError) { return s.createToken(in) }
	}
	return op
}

func (s *Server) registerClient(in oidcRequest) (any, *apiError) {
	if in.ClientName == "" {
		return nil, invalidRequest("clientName is required")
	}
	if in.ClientType != "public" {
		return nil, &apiError{http.StatusBadRequest, "InvalidClientMetadataException", "Invalid client type: " + in.ClientType}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	id, c := s.sso.registerClient(now)
	return map[string]any{
		"clientId":              id,
		"clientSecret":          c.secret,
		"clientIdIssuedAt":      now.Unix(),
		"clientSecretExpiresAt": c.expires.Unix(),
	}, nil
}

// clientLocked checks a client's credentials. s.mu must be held.
func (s *Server) clientLocked(id, secret string) *apiError {
	c, ok := s.sso.clients[id]
	if !ok || !constantTimeEqual(c.secret, secret) {
		return &apiError{http.StatusUnauthorized, "InvalidClientException", "Invalid client provided"}
	}
	if !s.now().Before(c.expires) {
		return &apiError{http.StatusUnauthorized, "InvalidClientException", "Client secret has expired"}
	}
	return nil
}

func (s *Server) startDeviceAuthorization(in oidcRequest) (any, *apiError) {
	if in.StartURL == "" {
		return nil, invalidRequest("startUrl is required")
	}
	if _, err := url.Parse(in.StartURL); err != nil {
		return nil, invalidRequest("Invalid start url")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.clientLocked(in.ClientID, in.ClientSecret); e != nil {
		return nil, e
	}
	var userCode string
	for {
		userCode = randomString(4, base32Alphabet) + "-" + randomString(4, base32Alphabet)
		if _, dup := s.sso.userCodes[userCode]; !dup {
			break
		}
	}
	deviceCode := randomString(64, base64URLAlphabet)
	s.sso.devices[deviceCode] = &deviceAuth{userCode: userCode, clientID: in.ClientID, startURL: in.StartURL, expires: s.now().Add(deviceCodeTTL)}
	s.sso.userCodes[userCode] = deviceCode
	return map[string]any{
		"deviceCode":              deviceCode,
		"userCode":                userCode,
		"verificationUri":         s.URL + "/device",
		"verificationUriComplete": s.URL + "/device?user_code=" + userCode,
		"expiresIn":               int(deviceCodeTTL / time.Second),
		"interval":                devicePollInterval,
	}, nil
}

func invalidGrant(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidGrantException", msg}
}

func (s *Server) createToken(in oidcRequest) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.clientLocked(in.ClientID, in.ClientSecret); e != nil {
		return nil, e
	}
	var sess ssoSession
	switch in.GrantType {
	case grantDeviceCode:
		d, ok := s.sso.devices[in.DeviceCode]
		switch {
		case !ok || d.clientID != in.ClientID || d.used:
			return nil, invalidGrant("Invalid device code provided")
		case !s.now().Before(d.expires):
			return nil, &apiError{http.StatusBadRequest, "ExpiredTokenException", "Device code has expired"}
		case d.approvedBy == "":
			return nil, &apiError{http.StatusBadRequest, "AuthorizationPendingException", "Authorization is still pending"}
		}
		d.used = true
		sess = ssoSession{user: d.approvedBy, startURL: d.startURL, clientID: in.ClientID}
	case grantRefreshToken:
		r, ok := s.sso.refresh[in.RefreshToken]
		if !ok || r.revoked || r.clientID != in.ClientID {
			return nil, invalidGrant("Invalid refresh token provided")
		}
		sess = ssoSession{user: r.user, startURL: r.startURL, clientID: r.clientID}
	case "":
		return nil, invalidRequest("grantType is required")
	default:
		return nil, &apiError{http.StatusBadRequest, "UnsupportedGrantTypeException", "Unsupported grant type: " + in.GrantType}
	}
	access, refresh := s.issueSSOTokenLocked(sess, ssoTokenTTL)
	return map[string]any{
		"accessToken":  access,
		"refreshToken": refresh,
		"tokenType":    "Bearer",
		"expiresIn":    int(ssoTokenTTL / time.Second),
	}, nil
}

// oauthError is the OAuth "error" value the OIDC service sends with code.
func oauthError(code string) string {
	switch code {
	case "AuthorizationPendingException":
		return "authorization_pending"
	case "SlowDownException":
		return "slow_down"
	case "ExpiredTokenException":
		return "expired_token"
	case "InvalidGrantException":
		return "invalid_grant"
	case "InvalidClientException":
		return "invalid_client"
	case "InvalidRequestException":
		return "invalid_request"
	case "InvalidScopeException":
		return "invalid_scope"
	case "UnsupportedGrantTypeException":
		return "unsupported_grant_type"
	case "UnauthorizedClientException":
		return "unauthorized_client"
	case "AccessDeniedException":
		return "access_denied"
	case "InternalServerException":
		return "server_error"
	}
	return code
}
