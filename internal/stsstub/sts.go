package stsstub

import (
	"cmp"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// This file is the STS side: the AWS Query protocol's actions and the
// knobs tests turn on them. The XML it answers with is in stsxml.go.

type mfaDevice struct{ serial, code string }

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

// SetSessionDuration makes issued credentials (AssumeRole, GetSessionToken, GetRoleCredentials) expire after d
// regardless of the duration asked for; 0 restores normal behaviour.
func (s *Server) SetSessionDuration(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessionDuration = d
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

// stsOperation parses an STS request; its Action names the operation.
func (s *Server) stsOperation(r *http.Request, body []byte, readErr error) *operation {
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
		SourceIdentity:  params.Get("SourceIdentity"),
		Policy:          params.Get("Policy"),
		Tags:            queryTags(params),
		TransitiveTags:  queryList(params, "TransitiveTagKeys.member.%d"),
		PolicyArns:      queryList(params, "PolicyArns.member.%d.arn"),
	}
	c.DurationSeconds, _ = strconv.Atoi(params.Get("DurationSeconds"))
	if c.Action == "AssumeRole" {
		s.mu.Lock()
		if p := s.keys[c.AccessKeyID]; p != nil {
			c.InheritedTags = maps.Clone(p.transitive)
		}
		s.mu.Unlock()
	}
	if a, err := parseAuthorization(authz); err == nil {
		c.Region = a.region
	}
	return &operation{call: c, proto: protoQuery, err: perr, handle: func(reqID string) (any, *apiError) {
		return s.dispatch(r, body, params, reqID)
	}}
}

// queryList reads a Query-protocol list whose Nth member is named by format.
func queryList(params url.Values, format string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := params[fmt.Sprintf(format, i)]
		if !ok || len(v) == 0 {
			return out
		}
		out = append(out, v[0])
	}
}

// queryTags reads AssumeRole's Tags list into a map; nil when there are none.
func queryTags(params url.Values) map[string]string {
	keys := queryList(params, "Tags.member.%d.Key")
	if len(keys) == 0 {
		return nil
	}
	tags := make(map[string]string, len(keys))
	for i, k := range keys {
		tags[k] = params.Get(fmt.Sprintf("Tags.member.%d.Value", i+1))
	}
	return tags
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

func (s *Server) dispatch(r *http.Request, body []byte, params url.Values, reqID string) (any, *apiError) {
	meta := responseMetadata{RequestID: reqID}
	action := params.Get("Action")
	if action == "AssumeRoleWithWebIdentity" {
		// Unsigned: the token is the proof.
		res, e := s.assumeRoleWithWebIdentity(params)
		if e != nil {
			return nil, e
		}
		return &assumeRoleWithWebIdentityResponse{Xmlns: Namespace, Result: *res, Metadata: meta}, nil
	}
	service := "sts"
	if iamActions[action] {
		service = "iam"
	}
	p, e := s.authenticate(r, body, service)
	if e != nil {
		return nil, e
	}
	if service == "iam" {
		return s.iam(p, action, params, meta)
	}
	switch action {
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
func (s *Server) authenticate(r *http.Request, body []byte, service string) (principal, *apiError) {
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
	if !p.notBefore.IsZero() && now.Before(p.notBefore) {
		// A new access key IAM has not yet spread (SetIAMLag).
		return p, invalid
	}
	if e := verifySignature(r, a, body, p.secret, service, now); e != nil {
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
	// Role chaining: a caller that is itself a role session (from AssumeRole
	// or the SSO portal) gets at most an hour, as with real STS.
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
	// Source identity and transitive tags carry through a chain: neither
	// may be changed by a later hop.
	si := params.Get("SourceIdentity")
	if p.sourceIdentity != "" && si != "" && si != p.sourceIdentity {
		return nil, accessDenied("SourceIdentity cannot be changed in a role chain: the session has " + p.sourceIdentity)
	}
	si = cmp.Or(si, p.sourceIdentity)
	tags := queryTags(params)
	transitive := maps.Clone(p.transitive)
	for k := range tags {
		for ik := range p.transitive {
			if strings.EqualFold(k, ik) {
				return nil, validationError("Cannot override transitive tag " + ik + " in a role chain")
			}
		}
	}
	for _, k := range queryList(params, "TransitiveTagKeys.member.%d") {
		v, ok := tags[k]
		if !ok {
			return nil, validationError("Transitive tag key " + k + " is not among the session tags")
		}
		if transitive == nil {
			transitive = map[string]string{}
		}
		transitive[k] = v
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

		chained:        p.kind == kindRole,
		sourceIdentity: si,
		transitive:     transitive,
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
