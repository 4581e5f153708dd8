package main

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/creds"
	"github.com/awsrole/awsrole/internal/stsstub"
)

// The user's own long-term key, known to the stand-in; the start URL
// of the scripts' IAM Identity Center.
const (
	ssoStartURL = "https://corp.awsapps.example/start"
	userKey     = "AKIAIOSFODNN7EXAMPLE"
	userSecret  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"awsrole":     func() { os.Exit(run(os.Args[1:])) },
		"awsrole-sts": func() { os.Exit(creds.Serve(os.Stdin, os.Stdout)) },
	})
}

// TestScripts runs the CLI scenarios under testdata/script, each in a fresh
// HOME with XDG dirs under $WORK and its own STS stand-in.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("..", "..", "testdata", "script"),
		Setup: func(env *testscript.Env) error {
			srv, err := stsstub.Start()
			if err != nil {
				return err
			}
			srv.AddUser(userKey, userSecret, "arn:aws:iam::111111111111:user/alice")
			env.Defer(srv.Close)
			env.Values["sts"] = srv
			home := filepath.Join(env.WorkDir, "home")
			for k, v := range map[string]string{
				"HOME":                        home,
				"XDG_CONFIG_HOME":             filepath.Join(home, ".config"),
				"XDG_STATE_HOME":              filepath.Join(home, ".local", "state"),
				"XDG_CACHE_HOME":              filepath.Join(home, ".cache"),
				"XDG_DATA_HOME":               filepath.Join(home, ".local", "share"),
				"AWS_CONFIG_FILE":             filepath.Join(home, ".aws", "config"),
				"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, ".aws", "credentials"),
				"AWS_ENDPOINT_URL_STS":        srv.URL,
				"AWS_ENDPOINT_URL_SSO":        srv.URL,
				"AWS_ENDPOINT_URL_SSO_OIDC":   srv.URL,
				"AWS_EC2_METADATA_DISABLED":   "true",
				"AWS_ACCESS_KEY_ID":           userKey,
				"AWS_SECRET_ACCESS_KEY":       userSecret,
				"AWS_REGION":                  "us-east-1",
				"AWS_DEFAULT_REGION":          "us-east-1",
				"USER_KEY":                    userKey,
			} {
				env.Setenv(k, v)
			}
			return os.MkdirAll(home, 0o755)
		},
		// [tool:NAME] holds when NAME is on PATH, or when
		// AWSROLE_TEST_REQUIRE=all says a missing tool must fail the run
		// (the script then goes on and fails where it runs NAME).
		Condition: func(cond string) (bool, error) {
			name, ok := strings.CutPrefix(cond, "tool:")
			if !ok {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			_, err := exec.LookPath(name)
			return err == nil || os.Getenv("AWSROLE_TEST_REQUIRE") == "all", nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// sts-calls ACTION N: the stand-in answered ACTION successfully N times.
			"sts-calls": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: sts-calls ACTION N")
				}
				want, err := strconv.Atoi(args[1])
				ts.Check(err)
				got := ts.Value("sts").(*stsstub.Server).Count(args[0])
				if (got == want) == neg {
					ts.Fatalf("%s calls: got %d, want %s%d", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
				}
			},
			// sso-assign ACCOUNT NAME: the IAM Identity Center user may use
			// the permission set NAME in ACCOUNT.
			"sso-assign": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: sso-assign ACCOUNT NAME")
				}
				ts.Value("sts").(*stsstub.Server).AssignSSO(args[0], args[1])
			},
			// sso-signin SESSION REGION TTL: signs the user in to the
			// sso-session SESSION (start URL ssoStartURL, sso_region
			// REGION) as 'aws sso login' would, for TTL.
			"sso-signin": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 3 {
					ts.Fatalf("usage: sso-signin SESSION REGION TTL")
				}
				ttl, err := time.ParseDuration(args[2])
				ts.Check(err)
				srv := ts.Value("sts").(*stsstub.Server)
				access, refresh := srv.IssueSSOToken(ssoStartURL, ttl)
				id, secret, regExpires := srv.SSOClient()
				data, err := json.Marshal(awsconfig.Token{StartURL: ssoStartURL, Region: args[1], AccessToken: access, RefreshToken: refresh,
					ExpiresAt: time.Now().Add(ttl), ClientID: id, ClientSecret: secret, RegistrationExpiresAt: regExpires})
				ts.Check(err)
				sum := sha1.Sum([]byte(args[0]))
				dir := filepath.Join(ts.Getenv("HOME"), ".aws", "sso", "cache")
				ts.Check(os.MkdirAll(dir, 0o700))
				ts.Check(os.WriteFile(filepath.Join(dir, hex.EncodeToString(sum[:])+".json"), data, 0o600))
			},
			// sso-revoke: IAM Identity Center refuses every access token
			// issued so far (a sign-out elsewhere), while the token files
			// still say they are valid.
			"sso-revoke": func(ts *testscript.TestScript, neg bool, args []string) {
				ts.Value("sts").(*stsstub.Server).ExpireSSOTokens()
			},
			// sts-signed-by KEY: every AssumeRole so far was signed with KEY.
			"sts-signed-by": func(ts *testscript.TestScript, neg bool, args []string) {
				for _, c := range ts.Value("sts").(*stsstub.Server).Calls() {
					if c.Action == "AssumeRole" && c.AccessKeyID != args[0] {
						ts.Fatalf("AssumeRole signed with %s, want %s", c.AccessKeyID, args[0])
					}
				}
			},
		},
	})
}
