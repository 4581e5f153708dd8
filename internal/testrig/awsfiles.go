package testrig

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/awsrole/awsrole/internal/awsconfig"
)

// AWSConfig is a ~/.aws/config with the profiles users have: an
// [sso-session] and a profile using it, a legacy SSO profile, a role
// chain, credential_source = Environment, a region-only profile and a
// source_profile loop.
const AWSConfig = `[default]
region = us-west-2

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1

[profile work]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = Deploy
region = eu-central-1
ca_bundle = /etc/corp-ca.pem

[profile legacy]
sso_start_url = https://old.awsapps.com/start
sso_region = us-east-1
sso_account_id = 222222222222
sso_role_name = Old

[profile jump]
role_arn = arn:aws:iam::111111111111:role/jump
source_profile = keys

[profile keys]
region = ap-south-1

[profile fromenv]
role_arn = arn:aws:iam::111111111111:role/jump
credential_source = Environment

[profile regiononly]
region = eu-north-1

[profile loop]
role_arn = arn:aws:iam::111111111111:role/x
source_profile = loop2

[profile loop2]
role_arn = arn:aws:iam::111111111111:role/y
source_profile = loop
`

// AWSFiles writes config and credentials as a user's ~/.aws files in a
// new temporary home and returns their paths.
func AWSFiles(t testing.TB, config, credentials string) awsconfig.Paths {
	home := t.TempDir()
	p := awsconfig.PathsFromEnv(func(k string) string { return map[string]string{"HOME": home}[k] })
	if err := os.MkdirAll(filepath.Dir(p.Config), 0o700); err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string]string{p.Config: config, p.Credentials: credentials} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return p
}
