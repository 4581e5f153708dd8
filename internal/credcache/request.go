package credcache

import (
	"time"
)

// Request is everything that decides which credentials come back.
type Request struct {
	RoleARN       string  `json:"role_arn,omitempty"` // "" when an SSO role is the end of the chain
	SSO           SSORole `json:"sso,omitzero"`       // an IAM Identity Center role as the source
	SessionName   string  `json:"session_name,omitempty"`
	ExternalID    string  `json:"external_id,omitempty"`
	SourceProfile string  `json:"source_profile,omitempty"`
	MFASerial     string  `json:"mfa_serial,omitempty"`
	MFACommand    string  `json:"mfa_command,omitempty"` // the user config's: prints a code
	// MFADuration is how long one code lasts (GetSessionToken).
	MFADuration time.Duration `json:"mfa_duration,omitempty"`
	Region      string        `json:"region,omitempty"` // the file's region; "" = the source's
	Duration    time.Duration `json:"duration,omitempty"`
	// Window: cached credentials with less than this left are renewed.
	Window time.Duration `json:"window,omitempty"`
}

// SSORole is an account and permission set reached through an sso-session
// of the user's ~/.aws/config.
type SSORole struct {
	Session   string `json:"session,omitempty"`
	AccountID string `json:"account_id,omitempty"`
	RoleName  string `json:"role_name,omitempty"`
}

// Label names what req's credentials are for: the role, else the SSO role.
func (req Request) Label() string {
	if req.RoleARN != "" {
		return req.RoleARN
	}
	return req.SSO.ARN()
}

// ARN is the IAM role a permission set creates in the account, in the
// form prompts and status show: arn:aws:iam::ACCOUNT:role/NAME.
func (s SSORole) ARN() string {
	if s.AccountID == "" {
		return ""
	}
	return "arn:aws:iam::" + s.AccountID + ":role/" + s.RoleName
}

// Effective is the duration STS will be asked for, and why it is shorter
// than asked ("" when it is not): a role assumed from a session lasts at
// most ChainedMax.
func (req Request) Effective(src Source) (time.Duration, string) {
	d := req.Duration
	if req.RoleARN == "" || d <= ChainedMax {
		return d, ""
	}
	switch {
	case req.MFASerial != "":
		return ChainedMax, "STS caps a role assumed from an MFA session at " + ChainedMax.String()
	case src.Chained:
		return ChainedMax, "STS caps a role assumed from " + src.Describe() + " (role chaining) at " + ChainedMax.String()
	}
	return d, ""
}

// ProtocolVersion is the version of the request and reply between awsrole
// and awsrole-sts; a helper of another version is refused, not guessed at.
const ProtocolVersion = 2

// Op is what awsrole asks awsrole-sts to do.
type Op string

// The operations of awsrole-sts.
const (
	OpCredentials Op = "credentials" // credentials for Request
	OpLogin       Op = "login"       // IAM Identity Center sign-in for Login
	OpAssignments Op = "assignments" // accounts and roles the user can reach
)

// Call is one request to awsrole-sts. The helper runs with the user's own
// environment (awsrole's exported credentials replaced by the originals),
// so the request carries no credentials.
type Call struct {
	Version int     `json:"version"`
	Op      Op      `json:"op"`
	Request Request `json:"request,omitzero"`
	Login   Login   `json:"login,omitzero"`
}

// Login asks for an IAM Identity Center sign-in.
type Login struct {
	Session   string `json:"session"`
	NoBrowser bool   `json:"no_browser,omitempty"`
}

// Reply is awsrole-sts's answer: a result, or the one-line error.
type Reply struct {
	Version     int          `json:"version"`
	Credentials *Credentials `json:"credentials,omitempty"`
	Assignments []Assignment `json:"assignments,omitempty"`
	Error       string       `json:"error,omitempty"`
}

// Assignment is one account and permission set the user can reach.
type Assignment struct {
	AccountID   string `json:"account_id"`
	AccountName string `json:"account_name,omitempty"`
	RoleName    string `json:"role_name"`
}
