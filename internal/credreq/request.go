// Package credreq is what a directory asks for and where its base
// credentials come from, read without the AWS SDK: Request (the role, its
// chain and every parameter of each AssumeRole), Source (the user's keys,
// a profile, an IAM Identity Center role) and Resolve, which picks the
// source from the user's environment and ~/.aws as the SDK would.
//
// Both binaries share it: awsrole resolves at the prompt, awsrole-sts
// receives the Request over the wire and resolves again in its own
// environment (the same one).
package credreq

import (
	"slices"
	"time"
)

// ChainedMax is what STS allows a role session assumed with temporary
// credentials (role chaining: an SSO role, a role profile, an MFA session,
// a hop); awsrole caps the duration rather than fail.
const ChainedMax = time.Hour

// Request is everything that decides which credentials come back.
//
// Every field is part of the cache key (credcache keys each step by the
// whole hop, MFA session and source) unless its key tag says otherwise:
// key:"source" is read by Resolve and counted through Source.Identity;
// key:"-" never changes what comes back, only how or when it is fetched.
// credcache's TestKeysCountEveryField fails for a field that does neither.
type Request struct {
	RoleARN       string  `json:"role_arn,omitempty"`        // "" when an SSO role is the end of the chain
	SSO           SSORole `json:"sso,omitzero" key:"source"` // an IAM Identity Center role as the source
	SessionName   string  `json:"session_name,omitempty"`
	ExternalID    string  `json:"external_id,omitempty"`
	SourceProfile string  `json:"source_profile,omitempty" key:"source"`
	// SourceKeys names long-term keys in the OS keyring (awsrole keys add).
	SourceKeys string `json:"source_keys,omitempty" key:"source"`
	MFASerial  string `json:"mfa_serial,omitempty"`
	MFACommand string `json:"mfa_command,omitempty" key:"-"` // the user config's: prints a code
	// SSOLogin: an expired IAM Identity Center sign-in is renewed with
	// the device flow on the terminal, when there is one (the user
	// config's sso_login = "auto").
	SSOLogin bool `json:"sso_login,omitempty" key:"-"`
	// MFADuration is how long one code lasts (GetSessionToken).
	MFADuration time.Duration `json:"mfa_duration,omitempty"`
	Region      string        `json:"region,omitempty" key:"-"` // the file's region; "" = the source's (a session serves every region)
	Duration    time.Duration `json:"duration,omitempty"`
	// Window: cached credentials with less than this left are renewed.
	Window time.Duration `json:"window,omitempty" key:"-"`

	// Via are roles assumed in order from the source before RoleARN.
	Via []string `json:"via,omitempty"`
	// SourceIdentity is sent on every hop (expanded: no {user}).
	SourceIdentity string `json:"source_identity,omitempty"`
	// Tags are session tags; TransitiveTagKeys are passed on the first
	// hop and carried by STS through the rest of the chain.
	Tags              map[string]string `json:"tags,omitempty"`
	TransitiveTagKeys []string          `json:"transitive_tag_keys,omitempty"`
	// PolicyARNs and Policy are session policies of the last hop.
	PolicyARNs []string `json:"policy_arns,omitempty"`
	Policy     string   `json:"policy,omitempty"`
}

// Hop is one AssumeRole of a request: every parameter that changes its
// result, so the hop's cache key is derived from it alone.
type Hop struct {
	RoleARN           string
	SessionName       string
	ExternalID        string
	SourceIdentity    string
	Tags              map[string]string
	TransitiveTagKeys []string
	PolicyARNs        []string
	Policy            string
	Duration          time.Duration // 0: the STS default
}

// Hops are the AssumeRole calls of req, in order: each role of Via, then
// RoleARN. Source identity goes with every hop; tags marked transitive go
// with the first only (STS carries them on and refuses them again), the
// others with every hop; session policies and the external id with the
// last. A hop after the first is chained, capped at ChainedMax.
func (req Request) Hops() []Hop {
	if req.RoleARN == "" {
		return nil
	}
	arns := append(append([]string(nil), req.Via...), req.RoleARN)
	// The duration asked for; the hop caps it when its caller turns out
	// to be a session. In a chain every hop is capped.
	dur := req.Duration
	if len(req.Via) > 0 {
		dur = min(dur, ChainedMax)
	}
	hops := make([]Hop, len(arns))
	for i, arn := range arns {
		h := Hop{RoleARN: arn, SessionName: req.SessionName, SourceIdentity: req.SourceIdentity, Duration: dur}
		if i == 0 {
			h.Tags, h.TransitiveTagKeys = req.Tags, req.TransitiveTagKeys
		} else {
			h.Tags = req.nonTransitiveTags()
		}
		if i == len(arns)-1 {
			h.ExternalID, h.PolicyARNs, h.Policy = req.ExternalID, req.PolicyARNs, req.Policy
		}
		hops[i] = h
	}
	return hops
}

func (req Request) nonTransitiveTags() map[string]string {
	var out map[string]string
	for k, v := range req.Tags {
		if !slices.Contains(req.TransitiveTagKeys, k) {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// Chained reports whether the credentials handed out for req come from
// role chaining (a role assumed with a role's session), which the console
// federation endpoint refuses a SessionDuration for.
func (req Request) Chained(src Source) bool {
	return req.RoleARN != "" && (len(req.Via) > 0 || src.Chained && req.MFASerial == "")
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
	return req.SSO.Label()
}

// SSOPrefix starts the Label of an IAM Identity Center permission set.
const SSOPrefix = "sso:"

// Label names the permission set in its account, as AWSROLE_ARN, prompts
// and status show it: "sso:ACCOUNT/NAME" (a prompt's ${AWSROLE_ARN##*/}
// is NAME). It is no ARN on purpose: the IAM role IAM Identity Center
// makes for a permission set is AWSReservedSSO_NAME_<hash> under
// aws-reserved/sso.amazonaws.com/ (what get-caller-identity reports), and
// arn:aws:iam::ACCOUNT:role/NAME names a role that does not exist.
func (s SSORole) Label() string {
	if s.AccountID == "" {
		return ""
	}
	return SSOPrefix + s.AccountID + "/" + s.RoleName
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
	case len(req.Via) > 0:
		return ChainedMax, "STS caps every role of a chain (via) at " + ChainedMax.String()
	case req.MFASerial != "":
		return ChainedMax, "STS caps a role assumed from an MFA session at " + ChainedMax.String()
	case src.Chained:
		return ChainedMax, "STS caps a role assumed from " + src.Describe() + " (role chaining) at " + ChainedMax.String()
	}
	return d, ""
}
