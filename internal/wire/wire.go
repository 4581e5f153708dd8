// Package wire is the protocol between awsrole and awsrole-sts, both ends:
// one typed, versioned Call on the helper's stdin and one Reply on its
// stdout. Helper is the caller's end (the cache first, else a new
// awsrole-sts); Serve is the helper's loop, given the Handler that does
// the work (internal/creds, the only package that links the AWS SDK).
//
// It links no AWS SDK and no net/http: the prompt's binary imports it.
package wire

import (
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
)

// ProtocolVersion is the version of the request and reply between awsrole
// and awsrole-sts; a helper of another version is refused, not guessed at.
// 5: Request.SourceKeys (a helper of 4 would ignore it and take another
// source).
const ProtocolVersion = 5

// Op is what awsrole asks awsrole-sts to do.
type Op string

// The operations of awsrole-sts.
const (
	OpCredentials Op = "credentials" // credentials for Request
	OpLogin       Op = "login"       // IAM Identity Center sign-in for Login
	OpAssignments Op = "assignments" // accounts and roles the user can reach
	OpSignin      Op = "signin"      // a console sign-in token for Signin
)

// Call is one request to awsrole-sts. The helper runs with the user's own
// environment (awsrole's exported credentials replaced by the originals),
// so the request carries no credentials.
type Call struct {
	Version int             `json:"version"`
	Op      Op              `json:"op"`
	Request credreq.Request `json:"request,omitzero"`
	Login   Login           `json:"login,omitzero"`
	Signin  Signin          `json:"signin,omitzero"`
}

// Signin asks the console federation endpoint for a sign-in token.
// TokenURL is the whole getSigninToken request, credentials included: it
// travels only over this pipe, never in a log or an error.
type Signin struct {
	TokenURL string `json:"token_url"`
}

// Login asks for an IAM Identity Center sign-in.
type Login struct {
	Session   string `json:"session"`
	NoBrowser bool   `json:"no_browser,omitempty"`
}

// Reply is awsrole-sts's answer: a result, or the one-line error.
type Reply struct {
	Version     int                    `json:"version"`
	Credentials *credcache.Credentials `json:"credentials,omitempty"`
	Assignments []Assignment           `json:"assignments,omitempty"`
	SigninToken string                 `json:"signin_token,omitempty"`
	Error       string                 `json:"error,omitempty"`
	SignIn      bool                   `json:"sign_in,omitempty"` // Error is a SignInError
}

// SignInError is the failure of a sign-in made on the terminal (given up
// with Ctrl-C, refused, or its code expired): the prompts after it do not
// start another, though they try the credentials again.
type SignInError struct{ Msg string }

func (e *SignInError) Error() string { return e.Msg }

// Assignment is one account and permission set the user can reach.
type Assignment struct {
	AccountID   string `json:"account_id"`
	AccountName string `json:"account_name,omitempty"`
	RoleName    string `json:"role_name"`
}
