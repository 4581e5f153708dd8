// Package dirconfig finds, reads and validates the per-directory
// .awsrole.toml, the user's own config, and the allow/deny trust store.
//
// A per-directory file may come from anyone (a cloned repository), so it is
// read defensively and may only name a role and how to assume it; anything
// that decides where requests go or runs a command lives in the user config
// or the AWS environment. Every error is one line naming the file, the line
// and the key, and says what to do.
package dirconfig

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// FileName is the name of the per-directory config file.
const FileName = ".awsrole.toml"

// MaxFileSize is the largest config file read; larger ones are refused unread.
const MaxFileSize = 1 << 20

// Config is one validated .awsrole.toml.
type Config struct {
	Path, Dir string // absolute path of the file, and its directory
	Hash      string // hex sha256 of the raw content
	// RealPath is Path with every symlink resolved (filepath.EvalSymlinks):
	// trust is judged on it, so trusted_dirs, allow and deny apply where a
	// link lands, and the allow hash covers it, so pointing a link elsewhere
	// revokes the approval.
	RealPath string

	RoleARN       string
	Region        string
	SessionName   string
	ExternalID    string
	SourceProfile string
	// SourceKeys names long-term keys stored with `awsrole keys add`
	// ("" = the user config's, when the file names no other source).
	SourceKeys string
	MFASerial  string
	Duration   time.Duration // 0 when the file does not say

	// An IAM Identity Center account and permission set as the source;
	// SSOSession "" means the user config's sso_session.
	SSOSession, SSOAccountID, SSORoleName string

	// Via are roles assumed in order from the source before RoleARN.
	Via []string
	// Identity controls, sent with AssumeRole: SourceIdentity on every
	// hop ("" = the user config's; may hold {user}), Tags and
	// TransitiveTagKeys, and the session policies of the last hop.
	SourceIdentity    string
	Tags              map[string]string
	TransitiveTagKeys []string
	PolicyARNs        []string
	Policy            string // inline, or the content of PolicyFile once loaded
	PolicyFile        string // relative to Dir, as the file says

	// Guardrails: a label for prompts (AWSROLE_ENV) and colours, and
	// whether entering asks first.
	Environment string
	Confirm     bool

	approval approval       // trust-store names for this path and content
	lines    map[string]int // key -> line, for errors found after parsing
}

// KeyError is a problem with key found after parsing (e.g. against the
// user's ~/.aws/config), naming the file and the key's line.
func (c *Config) KeyError(key string, err error) error {
	return &Error{Path: c.Path, Line: c.lines[key], Key: key, Msg: err.Error()}
}

// awsEnvKeys decide where requests go or run a command; awsrole takes them
// only from the standard AWS environment, naming the variable to use.
var awsEnvKeys = map[string]string{
	"endpoint_url":           "the AWS environment (AWS_ENDPOINT_URL_STS)",
	"endpoint":               "the AWS environment (AWS_ENDPOINT_URL_STS)",
	"sts_endpoint":           "the AWS environment (AWS_ENDPOINT_URL_STS)",
	"sts_regional_endpoints": "the AWS environment (AWS_STS_REGIONAL_ENDPOINTS)",
	"ca_bundle":              "the AWS environment (AWS_CA_BUNDLE)",
	"credential_process":     "a profile in your ~/.aws/config, and name that profile here with source_profile",
	"credential_source":      "a profile in your ~/.aws/config, and name that profile here with source_profile",
}

// credentialKeys are secrets that must not sit in a project file.
var credentialKeys = []string{"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token"}

// dirAliases are names from ~/.aws/config and the STS API that mean one of
// our keys but are too far apart for the typo check.
var dirAliases = map[string]string{
	"role_session_name":  "session_name",
	"rolesessionname":    "session_name",
	"duration_seconds":   "duration",
	"durationseconds":    "duration",
	"profile":            "source_profile",
	"role":               "role_arn",
	"rolearn":            "role_arn",
	"externalid":         "external_id",
	"serial_number":      "mfa_serial",
	"account_id":         "sso_account_id",
	"sso_account":        "sso_account_id",
	"permission_set":     "sso_role_name",
	"sso_role":           "sso_role_name",
	"sso_start_url":      "sso_session",
	"sso_region":         "sso_session",
	"aws_region":         "region",
	"aws_default_region": "region",
	"chain":              "via",
	"role_chain":         "via",
	"sourceidentity":     "source_identity",
	"session_tags":       "tags",
	"transitivetagkeys":  "transitive_tag_keys",
	"policyarns":         "policy_arns",
	"managed_policies":   "policy_arns",
	"session_policy":     "policy",
	"env":                "environment",
	"stage":              "environment",
}

// Load reads, parses and validates the .awsrole.toml at path, trusted or
// not (for commands that show or approve it); the hook judges trust first
// (Judge).
func Load(path string) (*Config, error) {
	r, err := ReadRaw(path)
	if err != nil {
		return nil, err
	}
	c, policy, err := r.parse()
	if err != nil {
		return nil, err
	}
	if err := c.checkPolicy(policy); err != nil {
		return nil, err
	}
	return c, nil
}

// Parse validates the content of a .awsrole.toml without I/O; path (which
// should be absolute) is used for messages, Path, Dir and trust.
func Parse(path string, data []byte) (*Config, error) {
	d, err := decode(path, data)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	c := &Config{
		Path:     path,
		RealPath: path,
		Dir:      filepath.Dir(path),
		Hash:     hex.EncodeToString(sum[:]),
		approval: approvalOf(path, data, nil),
		lines:    map[string]int{},
	}
	seen := func(k string) { c.lines[k] = d.line(k) }
	if err := projectKeys.apply(d, c, seen, dirKeyError); err != nil {
		return nil, err
	}
	if err := c.checkSSO(); err != nil {
		return nil, err
	}
	if err := c.checkControls(); err != nil {
		return nil, err
	}
	if c.RoleARN == "" && c.SSOAccountID == "" {
		why := "it is not set"
		switch {
		case strings.TrimSpace(d.text) == "":
			why = "the file is empty"
		case len(d.keys) == 0:
			why = "the file has only comments"
		}
		return nil, &Error{Path: path, Key: "role_arn",
			Msg: "is required, but " + why + `; add a line role_arn = "` + exampleRoleARN + `" (or name an IAM Identity Center role with sso_account_id and sso_role_name)`}
	}
	return c, nil
}

// dirKeyError explains why key may not appear in a per-directory file.
func dirKeyError(key string, v any) error {
	norm := normalizeKey(key)
	if userKeys.has(norm) {
		// Not a key of this file (those never get here): the user's own.
		return errors.New("not allowed in a per-directory file; put it in your user config, $XDG_CONFIG_HOME/awsrole/config.toml (by default ~/.config/awsrole/config.toml)")
	}
	if where, ok := awsEnvKeys[norm]; ok {
		return fmt.Errorf("not allowed in a per-directory file; put it in %s", where)
	}
	if slices.Contains(credentialKeys, norm) {
		return errors.New("credentials must not be in a per-directory file; remove it (and rotate the key if it was ever committed): awsrole takes base credentials from your environment or source_profile")
	}
	return unknownKey(key, v, projectKeys.names(), dirAliases)
}

// unknownKey builds the message for a key the file type does not know,
// suggesting the nearest known key when the name looks like a typo.
func unknownKey(key string, v any, known []string, aliases map[string]string) error {
	if _, isTable := v.(map[string]any); isTable {
		return fmt.Errorf("unknown table; this file has no [sections] or dotted keys, write the keys at the top level (known keys: %s)",
			strings.Join(known, ", "))
	}
	if _, isTables := v.([]map[string]any); isTables {
		return fmt.Errorf("unknown array of tables; this file has no [[sections]], write the keys at the top level (known keys: %s)",
			strings.Join(known, ", "))
	}
	if a, ok := aliases[normalizeKey(key)]; ok {
		return fmt.Errorf("unknown key; did you mean %s?", a)
	}
	if s := suggestKey(key, known); s != "" {
		if strings.EqualFold(s, key) {
			return fmt.Errorf("unknown key; keys are lowercase: did you mean %s?", s)
		}
		return fmt.Errorf("unknown key; did you mean %s?", s)
	}
	return fmt.Errorf("unknown key; known keys are %s", strings.Join(known, ", "))
}

// allowTag opens what an allow key hashes: the encoding's version.
const allowTag = "awsrole allow v2\x00"

// allowKey names the allow-file for this path and content (and, for a
// file with a policy_file, that file's content), so that any edit revokes
// trust: the sha256 of allowTag and then each field as its length (8 bytes,
// big-endian) and its bytes. Every field has its length, so no two (path,
// content) pairs hash the same bytes, whatever a path holds; direnv's
// path + "\n" + content did not say where a path with a newline ends.
func allowKey(path string, data []byte, policy []byte) string {
	h := sha256.New()
	h.Write([]byte(allowTag))
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte(path))
	field(data)
	if policy != nil {
		field([]byte("policy_file"))
		field(policy)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// legacyAllowKey is the allow key before v2: sha256(path + "\n" + content,
// with "\n\x00policy_file\x00" + the policy after it). It is honoured only
// for a path without control characters, where it is unambiguous, and
// only from an entry that records that very path (Judge).
func legacyAllowKey(path string, data []byte, policy []byte) string {
	if policy != nil {
		data = append(append(append([]byte(nil), data...), "\n\x00policy_file\x00"...), policy...)
	}
	h := sha256.New()
	h.Write([]byte(path + "\n"))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// denyKey names the deny-file for a path: content does not matter.
func denyKey(path string) string {
	sum := sha256.Sum256([]byte(path + "\n"))
	return hex.EncodeToString(sum[:])
}

// checkSSO checks the IAM Identity Center keys together: account and
// permission set come as a pair, and neither another source nor an MFA
// device goes with them (Identity Center has its own MFA).
func (c *Config) checkSSO() error {
	keyErr := func(key, msg string) error { return &Error{Path: c.Path, Line: c.lines[key], Key: key, Msg: msg} }
	switch {
	case c.SSOAccountID != "" && c.SSORoleName == "":
		return keyErr("sso_account_id", `needs sso_role_name, the permission set to use in that account; add a line sso_role_name = "NAME"`)
	case c.SSORoleName != "" && c.SSOAccountID == "":
		return keyErr("sso_role_name", `needs sso_account_id, the account to use it in; add a line sso_account_id = "123456789012"`)
	case c.SSOSession != "" && c.SSOAccountID == "":
		return keyErr("sso_session", "needs sso_account_id and sso_role_name: the account and permission set to sign in to")
	case c.SSOAccountID != "" && c.SourceProfile != "":
		return keyErr("source_profile", "cannot go with sso_account_id: name either a profile or an IAM Identity Center role as the source")
	case c.SSOAccountID != "" && c.MFASerial != "":
		return keyErr("mfa_serial", "cannot go with sso_account_id: IAM Identity Center asks for MFA when you sign in; remove it")
	case c.SSOAccountID != "" && c.SourceKeys != "":
		return keyErr("source_keys", "cannot go with sso_account_id: name either stored keys or an IAM Identity Center role as the source")
	case c.SourceProfile != "" && c.SourceKeys != "":
		return keyErr("source_keys", "cannot go with source_profile: name either stored keys or a profile as the source")
	}
	return nil
}

// withPolicy is what Hash covers for a file with a policy_file: its
// content, then the policy's.
func withPolicy(data, policy []byte) []byte {
	out := append(append([]byte(nil), data...), "\n\x00policy_file\x00"...)
	return append(out, policy...)
}
