package creds

import (
	"os"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/credreq"
)

// TestNoProfileWithoutChangingTheEnvironment: the process's environment
// names a profile that does not exist (AWS_PROFILE, AWS_DEFAULT_PROFILE),
// the source is decided elsewhere (the user's keys, an sso-session): the
// fetch works with and without a [default] profile, and the environment,
// which the endpoint server shares between requests, is left as it was.
func TestNoProfileWithoutChangingTheEnvironment(t *testing.T) {
	for _, withDefault := range []bool{false, true} {
		srv := ssoWorld(t)
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		writeToken(t, srv, time.Hour, true)
		if withDefault {
			data, _ := os.ReadFile(os.Getenv("AWS_CONFIG_FILE"))
			os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), append([]byte("[default]\nregion = eu-central-1\nretry_mode = standard\n"), data...), 0o600)
		}
		t.Setenv("AWS_PROFILE", "gone")
		t.Setenv("AWS_DEFAULT_PROFILE", "gone-too")
		ssoReq := Request{SSO: credreq.SSORole{Session: "corp", AccountID: "222222222222", RoleName: "Deploy"}, Duration: time.Hour, Window: 5 * time.Minute}
		for name, req := range map[string]Request{"keys": request(), "sso": ssoReq} {
			if _, err := get(&Getter{Now: time.Now}, req, userEnv()); err != nil {
				t.Errorf("default %v, %s: %v", withDefault, name, err)
			}
		}
		if os.Getenv("AWS_PROFILE") != "gone" || os.Getenv("AWS_DEFAULT_PROFILE") != "gone-too" {
			t.Fatal("the process's environment changed")
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Errorf("left in TMPDIR: %v", left)
		}
	}
}
