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
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/awsrole/awsrole/internal/privfile"
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
	MFASerial     string
	Duration      time.Duration // 0 when the file does not say

	allowKey string // trust-store name for this path and content
}

// dirKeys are the keys of .awsrole.toml, in the order messages list them.
var dirKeys = []string{"role_arn", "region", "session_name", "duration", "external_id", "source_profile", "mfa_serial"}

// setDirKey validates the value of a known key and stores it in c.
func setDirKey(c *Config, key string, v any) (err error) {
	switch key {
	case "role_arn":
		var s string
		if s, err = asString(v, strconv.Quote(exampleRoleARN)); err == nil {
			err = ValidateRoleARN(s)
		}
		c.RoleARN = s
	case "region":
		c.Region, err = checkRegion(v)
	case "session_name":
		c.SessionName, err = checkSessionName(v)
	case "duration":
		c.Duration, err = checkDuration(v, roleDuration)
	case "external_id":
		c.ExternalID, err = checkExternalID(v)
	case "source_profile":
		c.SourceProfile, err = checkSourceProfile(v)
	case "mfa_serial":
		c.MFASerial, err = checkMFASerial(v)
	default:
		panic("dirconfig: no setter for " + key)
	}
	return err
}

// userOnlyKeys belong in the user config, never in a per-directory file.
var userOnlyKeys = []string{"mfa_command", "refresh_before", "trusted_dirs", "session_token_duration"}

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
	"aws_region":         "region",
	"aws_default_region": "region",
}

// Load reads, parses and validates the .awsrole.toml at path.
func Load(path string) (*Config, error) {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	data, fi, err := readChecked(path, nil)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil || !privfile.SameFile(fi, real) {
		return nil, &Error{Path: path, Msg: "changed while it was read; run the command again"}
	}
	c, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	c.RealPath, c.allowKey = real, allowKey(real, data)
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
		allowKey: allowKey(path, data),
	}
	for _, k := range d.keys {
		if slices.Contains(dirKeys, k) {
			if err := setDirKey(c, k, d.value(k)); err != nil {
				return nil, d.keyErr(k, err)
			}
			continue
		}
		return nil, d.keyErr(k, dirKeyError(k, d.value(k)))
	}
	if c.RoleARN == "" {
		why := "it is not set"
		switch {
		case strings.TrimSpace(d.text) == "":
			why = "the file is empty"
		case len(d.keys) == 0:
			why = "the file has only comments"
		}
		return nil, &Error{Path: path, Key: "role_arn",
			Msg: "is required, but " + why + `; add a line role_arn = "` + exampleRoleARN + `"`}
	}
	return c, nil
}

// dirKeyError explains why key may not appear in a per-directory file.
func dirKeyError(key string, v any) error {
	norm := normalizeKey(key)
	if slices.Contains(userOnlyKeys, norm) {
		return fmt.Errorf("not allowed in a per-directory file; put it in %s", displayPath(UserConfigPath()))
	}
	if where, ok := awsEnvKeys[norm]; ok {
		return fmt.Errorf("not allowed in a per-directory file; put it in %s", where)
	}
	if slices.Contains(credentialKeys, norm) {
		return errors.New("credentials must not be in a per-directory file; remove it (and rotate the key if it was ever committed): awsrole takes base credentials from your environment or source_profile")
	}
	return unknownKey(key, v, dirKeys, dirAliases)
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

// allowKey names the allow-file for this path and content, as direnv does:
// sha256(absolute path + "\n" + content), so any edit revokes trust.
func allowKey(path string, data []byte) string {
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
