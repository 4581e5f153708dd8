package dirconfig

import (
	"slices"
	"strconv"
	"time"
)

// The keys of awsrole's two config files, one row a key: its name, the
// validator of its value and the field the value goes to. A key belongs to
// a file by having a row in that file's table; a key of both files
// (session_name, duration, mfa_serial, sso_session, source_identity,
// source_keys) has a
// row in each, with the same validator. Each table is in the order
// messages list the file's keys. A new key is one row and its field.
//
// The refusals are derived from the tables: a project file naming a user
// config key is told to move it to the user config, and the other way
// round (dirKeyError, userKeyError).
var (
	projectKeys = keyTable[Config]{
		key("role_arn", checkRoleARN, func(c *Config) *string { return &c.RoleARN }),
		key("sso_session", checkSSOSession, func(c *Config) *string { return &c.SSOSession }),
		key("sso_account_id", checkAccountID, func(c *Config) *string { return &c.SSOAccountID }),
		key("sso_role_name", checkPermissionSet, func(c *Config) *string { return &c.SSORoleName }),
		key("region", checkRegion, func(c *Config) *string { return &c.Region }),
		key("session_name", checkSessionName, func(c *Config) *string { return &c.SessionName }),
		key("duration", checkRoleDuration, func(c *Config) *time.Duration { return &c.Duration }),
		key("external_id", checkExternalID, func(c *Config) *string { return &c.ExternalID }),
		key("source_profile", checkSourceProfile, func(c *Config) *string { return &c.SourceProfile }),
		key("mfa_serial", checkMFASerial, func(c *Config) *string { return &c.MFASerial }),
		key("source_keys", CheckKeysName, func(c *Config) *string { return &c.SourceKeys }),
		key("via", checkVia, func(c *Config) *[]string { return &c.Via }),
		key("source_identity", checkSourceIdentity, func(c *Config) *string { return &c.SourceIdentity }),
		key("tags", checkTags, func(c *Config) *map[string]string { return &c.Tags }),
		key("transitive_tag_keys", checkTransitiveKeys, func(c *Config) *[]string { return &c.TransitiveTagKeys }),
		key("policy_arns", checkPolicyARNs, func(c *Config) *[]string { return &c.PolicyARNs }),
		key("policy", checkInlinePolicy, func(c *Config) *string { return &c.Policy }),
		key("policy_file", checkPolicyFile, func(c *Config) *string { return &c.PolicyFile }),
		key("environment", checkEnvironment, func(c *Config) *string { return &c.Environment }),
		key("confirm", boolKey("confirm"), func(c *Config) *bool { return &c.Confirm }),
	}

	userKeys = keyTable[UserConfig]{
		key("refresh_before", durationKey(refreshRange), func(u *UserConfig) *time.Duration { return &u.RefreshBefore }),
		key("session_name", checkSessionName, func(u *UserConfig) *string { return &u.SessionName }),
		key("mfa_serial", checkMFASerial, func(u *UserConfig) *string { return &u.MFASerial }),
		key("mfa_command", checkMFACommand, func(u *UserConfig) *string { return &u.MFACommand }),
		key("duration", checkRoleDuration, func(u *UserConfig) *time.Duration { return &u.Duration }),
		key("session_token_duration", durationKey(sessTokenRange), func(u *UserConfig) *time.Duration { return &u.SessionTokenDuration }),
		key("trusted_dirs", checkTrustedDirs, func(u *UserConfig) *[]string { return &u.TrustedDirs }),
		key("sso_session", checkSSOSession, func(u *UserConfig) *string { return &u.SSOSession }),
		key("source_identity", checkSourceIdentity, func(u *UserConfig) *string { return &u.SourceIdentity }),
		key("console_federation_url", checkFederationURL, func(u *UserConfig) *string { return &u.ConsoleFederationURL }),
		key("environment_colors", checkColors, func(u *UserConfig) *map[string]string { return &u.EnvironmentColors }),
		key("credentials", oneOfKey(CredentialsEnv, CredentialsEndpoint), func(u *UserConfig) *string { return &u.CredentialsMode }),
		key("endpoint_idle", durationKey(idleRange), func(u *UserConfig) *time.Duration { return &u.EndpointIdle }),
		key("sso_login", oneOfKey(SSOLoginManual, SSOLoginAuto), func(u *UserConfig) *string { return &u.SSOLogin }),
		key("source_keys", CheckKeysName, func(u *UserConfig) *string { return &u.SourceKeys }),
		key("keyring_backend", checkKeyringBackend, func(u *UserConfig) *string { return &u.KeyringBackend }),
	}
)

// configKey is one key of a file whose settings go into an F.
type configKey[F any] struct {
	name string
	set  func(f *F, v any) error // validates v and stores it
}

// key is the row for name: check validates the decoded value and gives
// what field stores.
func key[F, T any](name string, check func(any) (T, error), field func(*F) *T) configKey[F] {
	return configKey[F]{name: name, set: func(f *F, v any) error {
		x, err := check(v)
		*field(f) = x
		return err
	}}
}

// keyTable is the keys of one file, in the order messages list them.
type keyTable[F any] []configKey[F]

// has reports whether name is a key of the file.
func (t keyTable[F]) has(name string) bool {
	return slices.ContainsFunc(t, func(k configKey[F]) bool { return k.name == name })
}

// names are the file's keys, in the order messages list them.
func (t keyTable[F]) names() []string {
	out := make([]string, len(t))
	for i, k := range t {
		out[i] = k.name
	}
	return out
}

// apply sets f from d's keys in file order: seen (nil: nothing) hears of
// each known key before its value is checked, and refuse explains a key
// the file does not have.
func (t keyTable[F]) apply(d *doc, f *F, seen func(key string), refuse func(key string, v any) error) error {
	for _, name := range d.keys {
		i := slices.IndexFunc(t, func(k configKey[F]) bool { return k.name == name })
		if i < 0 {
			return d.keyErr(name, refuse(name, d.value(name)))
		}
		if seen != nil {
			seen(name)
		}
		if err := t[i].set(f, d.value(name)); err != nil {
			return d.keyErr(name, err)
		}
	}
	return nil
}

// The validators that need more than the value: an example, a range, the
// choices.

func checkRoleARN(v any) (string, error) {
	s, err := asString(v, strconv.Quote(exampleRoleARN))
	if err == nil {
		err = ValidateRoleARN(s)
	}
	return s, err
}

func checkInlinePolicy(v any) (string, error) {
	s, err := asPolicyString(v)
	if err != nil {
		return "", err
	}
	return CheckPolicy(s)
}

func checkMFACommand(v any) (string, error) { return asString(v, `"op item get aws --otp"`) }

func checkRoleDuration(v any) (time.Duration, error) { return checkDuration(v, roleDuration) }

func durationKey(r durationRange) func(any) (time.Duration, error) {
	return func(v any) (time.Duration, error) { return checkDuration(v, r) }
}

func boolKey(name string) func(any) (bool, error) {
	return func(v any) (bool, error) { return checkBool(v, name) }
}

func oneOfKey(def, other string) func(any) (string, error) {
	return func(v any) (string, error) { return checkOneOf(v, def, other) }
}
