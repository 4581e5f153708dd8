// Package transition holds the pure decision at the heart of every hook call:
// given what the shell has active and what the current directory asks for,
// what kind of move is this, and which variables change. It does no I/O, so
// every rule is a table test away.
package transition

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"time"
)

// Exported are the variables awsrole sets while a role is active.
var Exported = []string{
	"AWS_ACCESS_KEY_ID",
	"AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN",
	"AWS_CREDENTIAL_EXPIRATION",
	"AWS_REGION",
	"AWS_DEFAULT_REGION",
	"AWS_CA_BUNDLE",
	"AWSROLE_ARN",
	"AWSROLE_DIR",
	"AWSROLE_ENV",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
}

// Keys are the variables that hold the credentials themselves in env mode;
// endpoint mode unsets them (they would win over the endpoint).
var Keys = []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION"}

// EndpointHidden are the variables endpoint mode saves and unsets besides
// Keys and Hidden: each would win over AWS_CONTAINER_CREDENTIALS_FULL_URI
// in the default chains of botocore, aws-sdk-go-v2 and the JS SDK v3
// (web identity from the environment comes before the container provider;
// a relative URI wins over the full URI), or would be sent in place of
// the token file's token (the JS SDK's fallback sends the token variable).
var EndpointHidden = []string{
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_ROLE_ARN",
	"AWS_ROLE_SESSION_NAME",
}

// Hidden are the variables awsrole saves and unsets while a role is active,
// because they would steer SDKs away from the exported keys.
var Hidden = []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"}

// injected are the variables whose values are always awsrole's while a
// role is active, whatever the user had before.
var injected = map[string]bool{
	"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true,
	"AWS_CREDENTIAL_EXPIRATION": true, "AWSROLE_ARN": true, "AWSROLE_DIR": true, "AWSROLE_ENV": true,
	"AWS_CONTAINER_CREDENTIALS_FULL_URI": true, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": true,
	"AWS_CONTAINER_AUTHORIZATION_TOKEN": true, // what earlier versions exported
}

// Managed is every variable whose original value awsrole saves.
func Managed() []string {
	return append(append(append([]string(nil), Exported...), Hidden...), EndpointHidden...)
}

// StateVar points at the shell's snapshot file; it is awsrole's own, never saved.
const StateVar = "AWSROLE_STATE"

// Kind is the kind of move one hook call makes.
type Kind int

// The kinds of move.
const (
	Stay    Kind = iota // nothing to do
	Enter               // no role active, the directory names one
	Leave               // a role is active, the directory names none
	Switch              // a role is active, the directory names another file or changed content
	Refresh             // same file and content, credentials inside the refresh window
)

// Active is what a shell has active, as recorded in its snapshot.
type Active struct {
	Dir        string             `json:"dir"`
	File       string             `json:"file"`
	Hash       string             `json:"hash"`
	RoleARN    string             `json:"role_arn"`
	Expiration time.Time          `json:"expiration"`
	Originals  map[string]*string `json:"originals"` // managed variables as the user had them; nil = unset
	Applied    map[string]string  `json:"applied"`   // variable -> Digest of the value awsrole put there
}

// Target is the file the current directory asks for; File is "" for none.
type Target struct {
	Dir, File, Hash string
}

// Decide says what kind of move takes the shell from a (nil: nothing
// active) to t, renewing credentials that have less than window left.
func Decide(a *Active, t Target, now time.Time, window time.Duration) Kind {
	switch {
	case a == nil && t.File == "":
		return Stay
	case a == nil:
		return Enter
	case t.File == "":
		return Leave
	case t.File != a.File || t.Hash != a.Hash:
		return Switch
	case !now.Before(a.Expiration.Add(-window)):
		return Refresh
	}
	return Stay
}

// Digest identifies a value awsrole set without storing it (values may be
// secrets); nil (unset) has its own digest.
func Digest(v *string) string {
	if v == nil {
		return "unset"
	}
	sum := sha256.Sum256([]byte(*v))
	return hex.EncodeToString(sum[:])
}

func lookup(env map[string]string, name string) *string {
	if v, ok := env[name]; ok {
		return &v
	}
	return nil
}

func same(a, b *string) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// Originals is the user's own environment for the managed variables: the
// current value, except where awsrole's value is still in place, which gives
// way to the value saved before awsrole touched it. A value the user set by
// hand inside a project counts as theirs.
func Originals(a *Active, env map[string]string) map[string]*string {
	out := make(map[string]*string)
	marked := env["AWSROLE_ARN"] != ""
	for _, name := range Managed() {
		out[name] = lookup(env, name)
		if a == nil {
			if marked && injected[name] {
				// A role is in the environment but its snapshot is not
				// (lost, or loaded by direnv): those values are awsrole's,
				// never the user's own.
				out[name] = nil
			}
			continue
		}
		if d, ok := a.Applied[name]; ok && d == Digest(lookup(env, name)) {
			out[name] = a.Originals[name]
		}
	}
	return out
}

// Plan computes the changes that move env from a to desired (empty desired:
// leave), and the digests of what awsrole now owns. On a refresh of the same
// project, a variable the user changed by hand is left alone and no longer
// awsrole's.
func Plan(a *Active, env map[string]string, desired map[string]*string, sameProject bool) (changes map[string]*string, applied map[string]string) {
	next := Originals(a, env)
	applied = make(map[string]string)
	for name, v := range desired {
		if sameProject && a != nil {
			if d, ok := a.Applied[name]; ok && d != Digest(lookup(env, name)) {
				continue
			}
		}
		next[name] = v
		applied[name] = Digest(v)
	}
	changes = make(map[string]*string)
	for name, v := range next {
		if !same(v, lookup(env, name)) {
			changes[name] = v
		}
	}
	return changes, applied
}

// Names returns the keys of m, sorted.
func Names[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
