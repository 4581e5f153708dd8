package engine_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/engine"
	"github.com/awsrole/awsrole/internal/keyindex"
)

// TestSourceKeysProject: a file's source_keys, or the user config's for a
// file that names no source, is the source; the device stored with the
// keys is their MFA device unless the file names one; the index is watched.
func TestSourceKeysProject(t *testing.T) {
	dir := t.TempDir()
	ix := keyindex.In(dir)
	ix.Put("bob", keyindex.Entry{AccessKeyID: "AKIABOB", MFASerial: "arn:aws:iam::111111111111:mfa/bob", Backend: "file"})
	ix.Put("ci", keyindex.Entry{AccessKeyID: "AKIACI", Backend: "file"})
	stores := engine.Stores{Keys: ix}
	parse := func(content string) *dirconfig.Config {
		cfg, err := dirconfig.Parse(filepath.Join(dir, "p", ".awsrole.toml"), []byte(content))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	user := &dirconfig.UserConfig{Path: filepath.Join(dir, "user.toml"), RefreshBefore: 5 * time.Minute, MFASerial: "arn:aws:iam::111111111111:mfa/user"}
	env := map[string]*string{"AWS_ACCESS_KEY_ID": sp("AKIAENV"), "AWS_SECRET_ACCESS_KEY": sp("s"), "AWS_REGION": sp("eu-west-1")}
	role := "role_arn = \"arn:aws:iam::222222222222:role/a\"\n"

	p, err := stores.NewProject(parse(role+"source_keys = \"bob\"\n"), user, env)
	if err != nil {
		t.Fatal(err)
	}
	if p.Source.Kind != credreq.SourceKeys || p.Request.MFASerial != "arn:aws:iam::111111111111:mfa/bob" || len(p.Watch) != 1 || p.Watch[0] != ix.Path {
		t.Errorf("file source_keys: source %+v, mfa %q, watch %v", p.Source, p.Request.MFASerial, p.Watch)
	}
	// Keys stored without a device take the user's default.
	if p, err := stores.NewProject(parse(role+"source_keys = \"ci\"\n"), user, env); err != nil || p.Request.MFASerial != user.MFASerial {
		t.Errorf("keys without a device: %v %+v", err, p)
	}
	// The user config's default applies to a file that names no source...
	u := *user
	u.SourceKeys = "ci"
	if p, err := stores.NewProject(parse(role), &u, env); err != nil || p.Source.Keys == nil || p.Source.Keys.Name != "ci" {
		t.Errorf("user source_keys: %v %+v", err, p)
	}
	// ...and names the user config when it is wrong.
	u.SourceKeys = "cj"
	if _, err := stores.NewProject(parse(role), &u, env); err == nil || !strings.Contains(err.Error(), "user.toml: source_keys: no keys named \"cj\" are stored; did you mean \"ci\"?") {
		t.Errorf("user source_keys unknown: %v", err)
	}
	// A file naming another source keeps it (here a profile that the
	// empty AWS config lacks).
	if _, err := stores.NewProject(parse(role+"source_profile = \"corp\"\n"), &u, env); err == nil || !strings.Contains(err.Error(), ".awsrole.toml:2: source_profile:") {
		t.Errorf("file source_profile with user source_keys: %v", err)
	}
}
