package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/oidcissuer"
	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

// 11. credentials = "endpoint" (issue 11): a shell in a project holds the
// URI and token of the per-user credential endpoint instead of the keys;
// clients renew from it by themselves.

// uriRE is what AWS_CONTAINER_CREDENTIALS_FULL_URI looks like.
var uriRE = regexp.MustCompile(`^http://127\.0\.0\.1:([0-9]+)/v1/[0-9a-f]{32}$`)

// serverInfo is the endpoint's record under the rig's state dir.
type serverInfo struct {
	PID  int `json:"pid"`
	Port int `json:"port"`
}

func (r *rig) endpointDir() string {
	return filepath.Join(*r.Env["XDG_STATE_HOME"], "awsrole", "endpoint")
}

// server reads the endpoint's record; ok is false when there is none or
// its process is gone.
func (r *rig) server() (serverInfo, bool) {
	var i serverInfo
	data, err := os.ReadFile(filepath.Join(r.endpointDir(), "server.json"))
	if err != nil || json.Unmarshal(data, &i) != nil || i.PID <= 0 {
		return i, false
	}
	return i, alive(i.PID)
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

// endpointMode writes the user config for endpoint mode (extra: more
// lines) and stops, at the end of the test, every server the test started:
// by the pids they recorded.
func (r *rig) endpointMode(extra string) {
	r.userConfig("credentials = \"endpoint\"\n" + extra)
	r.t.Cleanup(r.stopServers)
}

// stopServers kills the servers this rig started (recorded pids only).
func (r *rig) stopServers() {
	for _, pid := range r.serverPIDs() {
		if alive(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// serverPIDs are the pids recorded in server.json over the test, as seen
// now (the last one) plus those remembered by waitServer.
func (r *rig) serverPIDs() []int {
	pids := append([]int(nil), r.seenServers...)
	if i, ok := r.server(); ok {
		pids = append(pids, i.PID)
	}
	return pids
}

// waitServer waits until a live server other than not is recorded.
func (r *rig) waitServer(not int) serverInfo {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if i, ok := r.server(); ok && i.PID != not {
			r.seenServers = append(r.seenServers, i.PID)
			return i
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatalf("no credential endpoint running within 10s")
	return serverInfo{}
}

// wantEndpointActive checks the variables of a role in endpoint mode and
// returns the URI.
func wantEndpointActive(t *testing.T, r *rig, what string, env map[string]*string, role, dir string) string {
	t.Helper()
	wantEnv(t, what, env, map[string]*string{
		"AWSROLE_ARN": sp(role), "AWSROLE_DIR": sp(dir),
		"AWS_ACCESS_KEY_ID": nil, "AWS_SECRET_ACCESS_KEY": nil, "AWS_SESSION_TOKEN": nil,
		"AWS_CREDENTIAL_EXPIRATION": nil, "AWS_PROFILE": nil, "AWS_DEFAULT_PROFILE": nil,
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": nil, "AWS_ROLE_ARN": nil, "AWS_WEB_IDENTITY_TOKEN_FILE": nil,
	})
	uri := env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
	if uri == nil || !uriRE.MatchString(*uri) {
		t.Fatalf("%s: AWS_CONTAINER_CREDENTIALS_FULL_URI = %s, want http://127.0.0.1:PORT/v1/<id>", what, show(uri))
	}
	i, ok := r.server()
	if !ok || uriRE.FindStringSubmatch(*uri)[1] != strconv.Itoa(i.Port) {
		t.Errorf("%s: the URI %s does not name the running server (%+v, running %v)", what, *uri, i, ok)
	}
	// The token file, never the token: the server takes a new one at
	// every start.
	if v, want := env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], r.tokenFile(i.Port); v == nil || *v != want {
		t.Errorf("%s: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = %s, want %s", what, show(v), want)
	}
	if v := env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]; v != nil {
		t.Errorf("%s: AWS_CONTAINER_AUTHORIZATION_TOKEN = %s, want unset", what, show(v))
	}
	return *uri
}

// tokenFile is the file of the token of the server on port.
func (r *rig) tokenFile(port int) string {
	return filepath.Join(r.endpointDir(), "tokens", strconv.Itoa(port))
}

// token reads the token of the server on port ("" when there is none).
func (r *rig) token(port int) string {
	data, _ := os.ReadFile(r.tokenFile(port))
	return string(data)
}

// TestEndpointShell: in endpoint mode the aws CLI in a project reports the
// role through the endpoint, A→B switches the URI and the identity, and
// leaving restores the user's own keys and variables byte for byte.
func TestEndpointShell(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		// The user's own web identity, which the SDKs' chains would pick
		// before the endpoint: hidden while a role is active, and the
		// source of the roles (it comes before keys in the environment).
		is, err := oidcissuer.Start("system:serviceaccount:ns:app")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(is.Close)
		tok, err := is.Token(is.Subject, "sts.amazonaws.com", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		tokenFile := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(tokenFile, []byte(tok), 0o600); err != nil {
			t.Fatal(err)
		}
		r := newRig(t, map[string]*string{
			"AWS_DEFAULT_PROFILE":         sp("corp"),
			"AWS_ROLE_ARN":                sp("arn:aws:iam::111111111111:role/web-identity"),
			"AWS_WEB_IDENTITY_TOKEN_FILE": sp(tokenFile),
		})
		r.Stub.AddOIDCProvider(is.URL, "sts.amazonaws.com")
		r.endpointMode("")
		r.install(kind)
		a := r.project("a", roleDeploy, "e2e-ep-a", "eu-west-1", true)
		b := r.project("b", roleAudit, "e2e-ep-b", "", true)
		r.settle()
		s := r.startShell(kind, "", nil)
		before := s.Managed()

		s.Run(s.Cd(a))
		inA := s.Managed()
		r.waitServer(0)
		uriA := wantEndpointActive(t, r, "in A", inA, roleDeploy, a)
		wantEnv(t, "in A", inA, map[string]*string{"AWS_REGION": sp("eu-west-1")})
		if got, want := callerArn(s), "arn:aws:sts::222222222222:assumed-role/deploy/e2e-ep-a"; got != want {
			t.Errorf("get-caller-identity in A: %q, want %q", got, want)
		}

		s.Run(s.Cd(b))
		inB := s.Managed()
		uriB := wantEndpointActive(t, r, "in B", inB, roleAudit, b)
		if uriA == uriB {
			t.Errorf("switching A→B kept the URI %s", uriA)
		}
		if got, want := callerArn(s), "arn:aws:sts::222222222222:assumed-role/audit/e2e-ep-b"; got != want {
			t.Errorf("get-caller-identity in B: %q, want %q", got, want)
		}
		// Each role is one hop from the web identity's entry role.
		entry := map[string]bool{}
		for _, c := range r.Stub.Calls() {
			if c.Action == "AssumeRoleWithWebIdentity" && c.Issued != "" {
				entry[c.Issued] = true
			}
		}
		for _, session := range []string{"e2e-ep-a", "e2e-ep-b"} {
			if calls := r.assumeCalls(session); len(calls) != 1 || !entry[calls[0].AccessKeyID] {
				t.Errorf("AssumeRole for session %s: %d calls, want 1 signed with the entry role's session; stub log:\n%s",
					session, len(calls), hermetic.DescribeCalls(r.Stub.Calls()))
			}
		}

		out := s.Run("awsrole status")
		for _, want := range []string{"mode:    endpoint", "server:  pid ", "served:  " + roleAudit} {
			if !strings.Contains(out, want) {
				t.Errorf("awsrole status in B: no %q in:\n%s", want, out)
			}
		}

		s.Run(s.Cd(r.Home))
		wantSame(t, "after leaving", before, s.Managed())
		if got := callerArn(s); got != userARN {
			t.Errorf("get-caller-identity after leaving: %q, want the user's own %q", got, userARN)
		}
	})
}

// getEndpoint asks the endpoint as an SDK would, from outside any shell.
func getEndpoint(t *testing.T, uri, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, uri, nil)
	req.Header.Set("Authorization", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestEndpointMFA: in endpoint mode the MFA code is asked at cd, on the
// terminal; the server serves what the MFA session allows and, once a new
// code is needed, answers an error saying so (never prompting), which
// status shows; the next renewal in the shell asks for the code, and the
// endpoint serves again.
func TestEndpointMFA(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, map[string]*string{"AWS_SESSION_TOKEN": sp(""), "AWS_PROFILE": nil})
	r.endpointMode("refresh_before = \"10s\"\n")
	r.Stub.RequireMFA(roleDeploy, mfaSerial, mfaCode)
	r.Stub.SetSessionDuration(20 * time.Second) // the MFA session and the role alike
	r.install("bash")
	a := r.mfaProject("a", roleDeploy, "e2e-ep-mfa", "")
	s := r.startShell("bash", "", nil)

	if lines := errorLines(enterWithCode(t, s, a, mfaCode)); len(lines) != 0 {
		t.Errorf("entering with the right code printed %q", lines)
	}
	env := s.Managed()
	uri := wantEndpointActive(t, r, "in A after the code", env, roleDeploy, a)
	token, _ := os.ReadFile(*env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"])
	if status, body := getEndpoint(t, uri, string(token)); status != 200 {
		t.Fatalf("the endpoint after entering with a code: %d %s", status, body)
	}

	// No prompt in the shell from here: the MFA session runs out, and the
	// server cannot renew without a new code.
	busy.Wait(t)
	var status int
	var body string
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		if status, body = getEndpoint(t, uri, string(token)); status != 200 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if status != 503 || !strings.Contains(body, "new MFA code") || !strings.Contains(body, "never prompts") {
		t.Fatalf("the endpoint once the MFA session is over: %d %s, want 503 saying a code is needed", status, body)
	}
	if n := strings.Count(s.Transcript(), mfaPromptText); n != 1 {
		t.Errorf("%d MFA prompts on the terminal, want only the one at cd: the server must never prompt", n)
	}
	if out, _, _ := r.run(a, nil, "status"); !strings.Contains(out, "the last renewal failed: "+roleDeploy+" may need a new MFA code") {
		t.Errorf("awsrole status does not show the endpoint's error:\n%s", out)
	}

	// The shell's next renewal asks for the code on the terminal.
	p := s.Begin("true")
	s.WaitFor(p.Start, mfaPromptText)
	s.Send(mfaCode)
	s.Finish(p)
	if status, body := getEndpoint(t, uri, string(token)); status != 200 {
		t.Errorf("the endpoint after a new code at the prompt: %d %s", status, body)
	}
}
