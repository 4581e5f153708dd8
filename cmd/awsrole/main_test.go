package main

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/testrig"
	"github.com/awsrole/awsrole/internal/testrig/hermetic"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/stsstub"
)

// The user's own long-term key, known to the stand-in; the start URL
// of the scripts' IAM Identity Center.
const (
	ssoStartURL = "https://corp.awsapps.example/start"
	userKey     = "AKIAIOSFODNN7EXAMPLE"
	userSecret  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// binDir holds the three binaries as users install them (testrig.Build):
// the scripts run those, not this test binary in their place, so what they
// show holds for the programs that ship, and each call costs a start of
// the 7 MB awsrole rather than of this 20 MB test binary (three times the
// CPU).
var binDir string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "awsrole-scripts-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	binDir = filepath.Join(tmp, "bin")
	if _, err := testrig.Build(binDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// isServer is whether the NUL-separated command line argv is the
// credential endpoint's: awsrole-sts serve.
func isServer(argv string) bool {
	args := strings.Split(argv, "\x00")
	return len(args) > 1 && filepath.Base(args[0]) == "awsrole-sts" && args[1] == "serve"
}

// binCmd runs the built binary name as `exec name` would: a script line
// "awsrole allow ." or "! awsrole export bash".
func binCmd(name string) scriptCmd {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		err := ts.Exec(name, args...)
		if err != nil {
			ts.Logf("[%v]", err)
		}
		switch {
		case err == nil && neg:
			ts.Fatalf("unexpected command success")
		case err != nil && !neg:
			ts.Fatalf("unexpected command failure")
		}
	}
}

// TestScripts runs the CLI scenarios under testdata/script, each in a fresh
// HOME with XDG dirs under $WORK and its own STS stand-in.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("..", "..", "testdata", "script"),
		Setup: func(env *testscript.Env) error {
			w, err := hermetic.New(env.WorkDir, hermetic.Options{
				User: hermetic.User{Key: userKey, Secret: userSecret, ARN: "arn:aws:iam::111111111111:user/alice"},
			})
			if err != nil {
				return err
			}
			env.Defer(w.Close)
			srv, home := w.Stub, w.Home
			env.Values["sts"] = srv
			env.Values["json-shell"] = &jsonShell{unset: map[string]bool{}}
			env.Values["oidc"] = &oidcWorld{}
			env.Defer(env.Values["oidc"].(*oidcWorld).close)
			w.Env["AWS_ENDPOINT_URL_SSO"], w.Env["AWS_ENDPOINT_URL_SSO_OIDC"] = &srv.URL, &srv.URL
			w.Env["USER_KEY"] = w.Env["AWS_ACCESS_KEY_ID"]
			for k, v := range w.Env {
				env.Setenv(k, *v)
			}
			env.Setenv("PATH", binDir+string(filepath.ListSeparator)+env.Getenv("PATH"))
			// A credential endpoint the script started (endpoint mode)
			// and did not stop goes with it, by the pid it recorded
			// (Linux; elsewhere it exits after the scripts' endpoint_idle).
			env.Defer(func() {
				var i struct{ PID int }
				data, err := os.ReadFile(filepath.Join(home, ".local", "state", "awsrole", "endpoint", "server.json"))
				if err != nil || json.Unmarshal(data, &i) != nil || i.PID <= 0 {
					return
				}
				// Only if that pid is still the server, not a reuse.
				// (awsrole starts it by its path: /…/bin/awsrole-sts serve …)
				if argv, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", i.PID)); err == nil && isServer(string(argv)) {
					syscall.Kill(i.PID, syscall.SIGTERM)
				}
			})
			return nil
		},
		// [tool:NAME] holds when NAME is on PATH, or when
		// AWSROLE_TEST_REQUIRE=all says a missing tool must fail the run
		// (the script then goes on and fails where it runs NAME).
		// [root]: running as root, whom file modes do not stop.
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			name, ok := strings.CutPrefix(cond, "tool:")
			if !ok {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			_, err := exec.LookPath(name)
			return err == nil || testrig.RequireAll(), nil
		},
		Cmds: mergeCmds(oidcCmds, map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"awsrole":         binCmd("awsrole"),
			"awsrole-sts":     binCmd("awsrole-sts"),
			"awsrole-keyring": binCmd("awsrole-keyring"),
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
			// json-prompt [ARGS...]: one prompt of a shell that evaluates
			// `awsrole export json --pid 4242 ARGS...` in the current
			// directory, then applies the answer: a string sets the
			// variable, null unsets it. testscript cannot unset, so an
			// unset variable reads "" in the script and is removed (env -u)
			// only where json-prompt and json-shell run a command. stdout
			// and stderr are awsrole's.
			"json-prompt": func(ts *testscript.TestScript, neg bool, args []string) {
				err := inJSONShell(ts, append([]string{"awsrole", "export", "json", "--pid", "4242"}, args...))
				if (err != nil) != neg {
					ts.Fatalf("awsrole export json: %v", err)
				}
				if err != nil {
					return
				}
				sh := ts.Value("json-shell").(*jsonShell)
				var changes map[string]*string
				if out := ts.ReadFile("stdout"); strings.TrimSpace(out) != "" {
					ts.Check(json.Unmarshal([]byte(out), &changes))
				}
				for name, v := range changes {
					if v == nil {
						sh.unset[name] = true
						ts.Setenv(name, "")
						continue
					}
					delete(sh.unset, name)
					ts.Setenv(name, *v)
				}
			},
			// json-shell CMD [ARGS...]: run CMD in the json-prompt shell's
			// environment, without the variables its prompts unset.
			"json-shell": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) == 0 {
					ts.Fatalf("usage: json-shell CMD [ARGS...]")
				}
				if err := inJSONShell(ts, args); (err != nil) != neg {
					ts.Fatalf("%s: %v", args[0], err)
				}
			},
			// sts-policy POLICY: the last AssumeRole carried POLICY as its
			// inline session policy.
			"sts-policy": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: sts-policy POLICY")
				}
				got := ""
				for _, c := range ts.Value("sts").(*stsstub.Server).Calls() {
					if c.Action == "AssumeRole" {
						got = c.Policy
					}
				}
				if (strings.TrimSpace(got) == args[0]) == neg {
					ts.Fatalf("last AssumeRole policy: %q, want %s%q", got, map[bool]string{true: "not ", false: ""}[neg], args[0])
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
			// sts-user KEY SECRET ARN: the stand-in knows another IAM user's
			// long-term key.
			"sts-user": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 3 {
					ts.Fatalf("usage: sts-user KEY SECRET ARN")
				}
				ts.Value("sts").(*stsstub.Server).AddUser(args[0], args[1], args[2])
			},
			// no-secret SECRET DIR...: no file under the DIRs holds SECRET.
			"no-secret": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: no-secret SECRET DIR...")
				}
				for _, dir := range args[1:] {
					ts.Check(filepath.WalkDir(ts.MkAbs(dir), func(path string, d os.DirEntry, err error) error {
						if err != nil || !d.Type().IsRegular() {
							return err
						}
						data, err := os.ReadFile(path)
						if err == nil && strings.Contains(string(data), args[0]) {
							ts.Fatalf("%s holds the secret", path)
						}
						return err
					}))
				}
			},
			// sts-fail ACTION CODE: the stand-in refuses the next ACTION with
			// the error CODE.
			"sts-fail": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: sts-fail ACTION CODE")
				}
				ts.Value("sts").(*stsstub.Server).FailNext(args[0], 1, stsstub.Fault{Status: 403, Code: args[1], Message: "refused by the test"})
			},
			// sts-session-duration DURATION: the credentials the stand-in
			// issues from now on expire after DURATION, whatever was asked.
			"sts-session-duration": func(ts *testscript.TestScript, neg bool, args []string) {
				d, err := time.ParseDuration(args[0])
				ts.Check(err)
				ts.Value("sts").(*stsstub.Server).SetSessionDuration(d)
			},
			// iam-lag DURATION: new access keys work only DURATION after
			// CreateAccessKey (IAM's eventual consistency).
			"iam-lag": func(ts *testscript.TestScript, neg bool, args []string) {
				d, err := time.ParseDuration(args[0])
				ts.Check(err)
				ts.Value("sts").(*stsstub.Server).SetIAMLag(d)
			},
			// iam-keys ARN N [KEY]: the IAM user ARN has N access keys
			// (and KEY among them; with !, not among them).
			"iam-keys": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 {
					ts.Fatalf("usage: iam-keys ARN N [KEY]")
				}
				keys := ts.Value("sts").(*stsstub.Server).AccessKeys(args[0])
				n, err := strconv.Atoi(args[1])
				ts.Check(err)
				if len(keys) != n {
					ts.Fatalf("%s has keys %v, want %d", args[0], keys, n)
				}
				if len(args) == 3 && slices.Contains(keys, args[2]) == neg {
					ts.Fatalf("%s has keys %v; want %s among them: %v", args[0], keys, args[2], !neg)
				}
			},
			// sts-signed-by KEY: every AssumeRole so far was signed with KEY.
			"sts-signed-by": func(ts *testscript.TestScript, neg bool, args []string) {
				for _, c := range ts.Value("sts").(*stsstub.Server).Calls() {
					if c.Action == "AssumeRole" && c.AccessKeyID != args[0] {
						ts.Fatalf("AssumeRole signed with %s, want %s", c.AccessKeyID, args[0])
					}
				}
			},
		}),
	})
}

// jsonShell is what json-prompt remembers between prompts: the variables
// the answers unset.
type jsonShell struct{ unset map[string]bool }

// inJSONShell runs argv under env, with the variables the json-prompt
// shell has unset removed.
func inJSONShell(ts *testscript.TestScript, argv []string) error {
	sh := ts.Value("json-shell").(*jsonShell)
	var envArgs []string
	for _, name := range slices.Sorted(maps.Keys(sh.unset)) {
		envArgs = append(envArgs, "-u", name)
	}
	return ts.Exec("env", append(envArgs, argv...)...)
}
