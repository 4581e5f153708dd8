package engine_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/engine"
	"github.com/awsrole/awsrole/internal/testrig"
)

func sp(s string) *string { return &s }

func TestNewProject(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	stores := engine.Stores{AWS: testrig.AWSFiles(t, testrig.AWSConfig, "")}
	user := &dirconfig.UserConfig{Path: filepath.Join(dir, "user.toml"), RefreshBefore: 5 * time.Minute}
	parse := func(t *testing.T, content string) *dirconfig.Config {
		cfg, err := dirconfig.Parse(filepath.Join(dir, "p", ".awsrole.toml"), []byte(content))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	keys := map[string]*string{"AWS_ACCESS_KEY_ID": sp("AKIA"), "AWS_SECRET_ACCESS_KEY": sp("s")}
	work := map[string]*string{"AWS_PROFILE": sp("work")}
	tests := []struct {
		name      string
		file      string
		originals map[string]*string
		user      string // user config sso_session
		region    string
		from      string
		ca        bool
		duration  time.Duration
		capped    bool
		label     string
		err       string
	}{
		{name: "keys, file region", file: "role_arn = \"arn:aws:iam::222222222222:role/a\"\nregion = \"eu-west-1\"\nduration = \"2h\"\n", originals: keys,
			region: "eu-west-1", from: ".awsrole.toml", duration: 2 * time.Hour, label: "arn:aws:iam::222222222222:role/a"},
		{name: "profile region carried", file: "role_arn = \"arn:aws:iam::222222222222:role/a\"\nduration = \"2h\"\n", originals: work,
			region: "eu-central-1", from: `profile "work"`, ca: true, duration: time.Hour, capped: true, label: "arn:aws:iam::222222222222:role/a"},
		{name: "the user's own region wins over the profile's", file: "role_arn = \"arn:aws:iam::222222222222:role/a\"\n",
			originals: map[string]*string{"AWS_PROFILE": sp("work"), "AWS_REGION": sp("us-west-1")}, ca: true, duration: time.Hour, label: "arn:aws:iam::222222222222:role/a"},
		{name: "sso in the file", file: "sso_session = \"corp\"\nsso_account_id = \"333333333333\"\nsso_role_name = \"Admin\"\n", originals: nil,
			duration: time.Hour, label: "sso:333333333333/Admin"},
		{name: "sso session from the user config", file: "sso_account_id = \"333333333333\"\nsso_role_name = \"Admin\"\n", user: "corp",
			duration: time.Hour, label: "sso:333333333333/Admin"},
		{name: "no sso session anywhere", file: "sso_account_id = \"333333333333\"\nsso_role_name = \"Admin\"\n",
			err: ".awsrole.toml:1: sso_account_id: needs an sso_session"},
		{name: "unknown sso session names the file and line", file: "\nsso_session = \"nope\"\nsso_account_id = \"333333333333\"\nsso_role_name = \"Admin\"\n",
			err: `.awsrole.toml:2: sso_session: "nope" has no [sso-session nope] section`},
		{name: "unknown source profile names the file and line", file: "role_arn = \"arn:aws:iam::222222222222:role/a\"\nsource_profile = \"wrok\"\n",
			err: `.awsrole.toml:2: source_profile: profile "wrok" is not in`},
	}
	// The user's default MFA device goes with long-term keys only; a
	// file's device with a session source is refused, naming the key.
	u := *user
	u.MFASerial = "arn:aws:iam::111111111111:mfa/alice"
	role := "role_arn = \"arn:aws:iam::222222222222:role/a\"\n"
	if p, err := stores.NewProject(parse(t, role), &u, work); err != nil || p.Request.MFASerial != "" {
		t.Errorf("user mfa_serial with an SSO profile: %v, %q", err, p.Request.MFASerial)
	}
	if p, err := stores.NewProject(parse(t, role), &u, keys); err != nil || p.Request.MFASerial != u.MFASerial {
		t.Errorf("user mfa_serial with long-term keys: %v, %+v", err, p)
	}
	if _, err := stores.NewProject(parse(t, role+"mfa_serial = \"arn:aws:iam::111111111111:mfa/alice\"\n"), user, work); err == nil || !strings.Contains(err.Error(), ".awsrole.toml:2: mfa_serial: cannot be used with") {
		t.Errorf("file mfa_serial with an SSO profile: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := *user
			u.SSOSession = tt.user
			p, err := stores.NewProject(parse(t, tt.file), &u, tt.originals)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Region != tt.region || !strings.HasSuffix(p.RegionFrom, tt.from) || p.Duration != tt.duration || (p.CappedBy != "") != tt.capped || p.Label() != tt.label {
				t.Fatalf("got region %q from %q, duration %s capped %q, label %s", p.Region, p.RegionFrom, p.Duration, p.CappedBy, p.Label())
			}
			d := p.Desired(credcache.Credentials{AccessKeyID: "ASIA", SecretAccessKey: "s", SessionToken: "t", Expiration: time.Now()}, tt.originals)
			if got := d["AWS_CA_BUNDLE"]; (got != nil) != tt.ca {
				t.Errorf("AWS_CA_BUNDLE = %v, want set: %v", got, tt.ca)
			}
			if got := d["AWS_REGION"]; tt.region != "" && (got == nil || *got != tt.region) || tt.region == "" && got != nil {
				t.Errorf("AWS_REGION = %v, want %q", got, tt.region)
			}
			if v, ok := d["AWS_PROFILE"]; !ok || v != nil {
				t.Error("AWS_PROFILE is not unset while active")
			}
		})
	}
}
