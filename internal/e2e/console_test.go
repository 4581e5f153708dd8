package e2e

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const consoleStartURL = "https://corp.awsapps.com/start"

// ssoHome writes an [sso-session corp] and a valid token for it, and lets
// the stand-in's SSO user use Deploy in 222222222222.
func (r *rig) ssoHome() {
	r.t.Helper()
	r.write(".aws/config", "[sso-session corp]\nsso_start_url = "+consoleStartURL+"\nsso_region = us-east-1\n")
	access, refresh := r.Stub.IssueSSOToken(consoleStartURL, time.Hour)
	id, secret, regExp := r.Stub.SSOClient()
	tok, _ := json.Marshal(map[string]string{"startUrl": consoleStartURL, "region": "us-east-1", "accessToken": access,
		"expiresAt": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "refreshToken": refresh,
		"clientId": id, "clientSecret": secret, "registrationExpiresAt": regExp.UTC().Format(time.RFC3339)})
	sum := sha1.Sum([]byte("corp"))
	p := r.write(filepath.Join(".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json"), string(tok))
	os.Chmod(p, 0o600)
	r.Stub.AssignSSO("222222222222", "Deploy")
}

// TestConsole: `console --print` gives a login address whose token the
// stand-in issued, for a direct role (with SessionDuration), a chained
// role (without) and an IAM Identity Center role; without --print the
// browser ($BROWSER, a recording script) gets the same kind of address;
// nothing of it on stderr.
func TestConsole(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, map[string]*string{"AWS_SESSION_TOKEN": sp(""),
		"AWS_ENDPOINT_URL_SSO": nil, "AWS_ENDPOINT_URL_SSO_OIDC": nil})
	r.Env["AWS_ENDPOINT_URL_SSO"], r.Env["AWS_ENDPOINT_URL_SSO_OIDC"] = sp(r.Stub.URL), sp(r.Stub.URL)
	r.userConfig("console_federation_url = \"" + r.Stub.URL + "/federation\"\n")
	r.ssoHome()
	direct := r.project("direct", roleDeploy, "e2e-console", "eu-west-1", true)
	chainFile := r.write("chained/.awsrole.toml", "role_arn = \""+roleDeploy+"\"\nvia = [\""+roleJump+"\"]\nsession_name = \"e2e-console\"\n")
	chained := filepath.Dir(chainFile)
	r.awsrole(chained, "allow", chained)
	ssoFile := r.write("sso/.awsrole.toml", "sso_session = \"corp\"\nsso_account_id = \"222222222222\"\nsso_role_name = \"Deploy\"\n")
	sso := filepath.Dir(ssoFile)
	r.awsrole(sso, "allow", sso)

	for _, tt := range []struct {
		name, dir    string
		args         []string
		wantDuration bool
		dest         string
	}{
		{"direct", direct, []string{"--service", "s3"}, true, "https://console.aws.amazon.com/s3/home?region=eu-west-1"},
		{"chained", chained, []string{"--region", "us-west-2"}, false, "https://console.aws.amazon.com/console/home?region=us-west-2"},
		{"sso", sso, nil, true, "https://console.aws.amazon.com/console/home?region=us-east-1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r.Stub.ResetCalls()
			out, stderr, code := r.run(tt.dir, nil, append([]string{"console", "--print"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("console --print: exit %d, stderr %q", code, stderr)
			}
			if stderr != "" {
				t.Errorf("console --print wrote on stderr: %q", stderr)
			}
			login := strings.TrimSpace(out)
			u, err := url.Parse(login)
			if err != nil || !strings.HasPrefix(login, r.Stub.URL+"/federation?") {
				t.Fatalf("console --print: %q is not a login address at the stand-in", login)
			}
			q := u.Query()
			if q.Get("Action") != "login" || q.Get("Destination") != tt.dest || q.Get("SigninToken") == "" {
				t.Errorf("login address %s: want Action=login, Destination=%s and a token", login, tt.dest)
			}
			var tokenCall bool
			for _, c := range r.Stub.Calls() {
				if c.Action == "getSigninToken" {
					tokenCall = true
					if c.Status != 200 || (c.DurationSeconds != 0) != tt.wantDuration {
						t.Errorf("getSigninToken: status %d, SessionDuration %d; want 200 and a duration %v", c.Status, c.DurationSeconds, tt.wantDuration)
					}
				}
			}
			if !tokenCall {
				t.Errorf("no getSigninToken at the stand-in")
			}
			// The address signs in (the stand-in knows the token).
			resp, err := http.Get(login)
			if err != nil || resp.StatusCode != 200 {
				t.Errorf("opening the login address: %v %v", err, resp)
			}
			if resp != nil {
				resp.Body.Close()
			}
		})
	}

	// The browser gets the address as its argument, and stderr stays clean.
	got := filepath.Join(r.Root, "browser-got")
	browser := r.write(filepath.Join(r.Root, "browser.sh"), "#!/bin/sh\nprintf '%s' \"$1\" > "+got+".tmp && mv "+got+".tmp "+got+"\n")
	os.Chmod(browser, 0o755)
	out, stderr, code := r.run(direct, map[string]*string{"BROWSER": sp(browser)}, "console")
	if code != 0 || out != "" || stderr != "" {
		t.Fatalf("console with $BROWSER: exit %d, stdout %q, stderr %q; want 0 and nothing", code, out, stderr)
	}
	var addr []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if addr, _ = os.ReadFile(got); len(addr) > 0 {
			break
		}
	}
	if !strings.HasPrefix(string(addr), r.Stub.URL+"/federation?") || !strings.Contains(string(addr), "SigninToken=") {
		t.Errorf("the browser got %q, want the login address", addr)
	}
	// No browser and no display: one line, no address.
	_, stderr, code = r.run(direct, map[string]*string{"BROWSER": nil, "DISPLAY": nil, "WAYLAND_DISPLAY": nil}, "console")
	if code == 0 || strings.Contains(stderr, "SigninToken") || strings.Contains(stderr, "federation") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("console without a browser: exit %d, stderr %q", code, stderr)
	}
}
