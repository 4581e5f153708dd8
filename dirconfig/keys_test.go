package dirconfig

import (
	"reflect"
	"regexp"
	"testing"
)

// keySamples holds a valid value for every key of either file, as TOML.
var keySamples = map[string]string{
	"role_arn": `"arn:aws:iam::123456789012:role/deploy"`, "sso_session": `"corp"`, "sso_account_id": `"123456789012"`,
	"sso_role_name": `"Deploy"`, "region": `"eu-west-1"`, "session_name": `"alice-x"`, "duration": `"2h"`,
	"external_id": `"ext-id"`, "source_profile": `"corp"`, "mfa_serial": `"arn:aws:iam::123456789012:mfa/alice"`,
	"via": `["arn:aws:iam::123456789012:role/jump"]`, "source_identity": `"alice"`, "tags": `{ team = "payments" }`,
	"transitive_tag_keys": `["team"]`, "policy_arns": `["arn:aws:iam::aws:policy/ReadOnlyAccess"]`,
	"policy":      `'{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'`,
	"policy_file": `"p.json"`, "environment": `"prod"`, "confirm": `true`,
	"refresh_before": `"7m"`, "mfa_command": `"op item get aws --otp"`, "session_token_duration": `"3h"`,
	"trusted_dirs": `["/srv/work"]`, "console_federation_url": `"https://signin.example.com/federation"`,
	"environment_colors": `{ prod = "red" }`, "credentials": `"endpoint"`, "endpoint_idle": `"2m"`, "sso_login": `"auto"`,
	"source_keys": `"alice"`, "keyring_backend": `"pass"`,
}

// TestKeyTables: every row has a lowercase snake_case name, appears once,
// and stores a valid value in a field of its own; together the rows reach
// every settable field, so a field without a key (or a key setting the
// wrong field) fails here.
func TestKeyTables(t *testing.T) {
	checkKeyTable(t, "project", projectKeys, func() *Config { return &Config{} }, "Path", "Dir", "Hash", "RealPath")
	checkKeyTable(t, "user", userKeys, func() *UserConfig { return defaultUserConfig("/x") }, "Path")
}

func checkKeyTable[F any](t *testing.T, file string, table keyTable[F], fresh func() *F, notKeys ...string) {
	t.Helper()
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	reached := map[string]string{}
	for _, k := range table {
		if !snake.MatchString(k.name) || reached[k.name] != "" {
			t.Errorf("%s key %q: not snake_case, or listed twice", file, k.name)
		}
		if name, ok := fieldSetBy(t, file, k, fresh); ok {
			reached[k.name] = name
		}
	}
	fields := map[string]bool{}
	for _, f := range reached {
		fields[f] = true
	}
	for _, f := range notKeys {
		fields[f] = true
	}
	typ := reflect.TypeFor[F]()
	for i := range typ.NumField() {
		if fl := typ.Field(i); fl.IsExported() && !fields[fl.Name] {
			t.Errorf("%s field %s is set by no key: add a row for it", file, fl.Name)
		}
	}
}

// fieldSetBy is the one exported field of F that k sets from its sample
// value; false (and the test failed) when there is none, or more than one.
func fieldSetBy[F any](t *testing.T, file string, k configKey[F], fresh func() *F) (string, bool) {
	t.Helper()
	sample, ok := keySamples[k.name]
	if !ok {
		t.Errorf("%s key %q has no sample in keySamples; add a valid value", file, k.name)
		return "", false
	}
	d, err := decode("/x", []byte("v = "+sample+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := fresh()
	if err := k.set(f, d.value("v")); err != nil {
		t.Errorf("%s key %s = %s: %v", file, k.name, sample, err)
		return "", false
	}
	before, after := reflect.ValueOf(fresh()).Elem(), reflect.ValueOf(f).Elem()
	changed := []string{}
	for i := range after.NumField() {
		if before.Type().Field(i).IsExported() && !reflect.DeepEqual(before.Field(i).Interface(), after.Field(i).Interface()) {
			changed = append(changed, before.Type().Field(i).Name)
		}
	}
	if len(changed) != 1 {
		t.Errorf("%s key %s sets fields %v, want exactly one", file, k.name, changed)
		return "", false
	}
	return changed[0], true
}
