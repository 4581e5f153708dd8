package engine_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credreq"
)

// fakeEndpoint stands in for the credential endpoint: a URI per role, or
// a failure to start.
type fakeEndpoint struct {
	fail     error
	users    map[int]string
	released int
	// down: no server runs (killed); token: the running one's token file
	// ("" = the port 4242 one).
	down  bool
	token string
}

func (f *fakeEndpoint) tok() string {
	if f.token == "" {
		return "/state/endpoint/tokens/4242"
	}
	return f.token
}

func (f *fakeEndpoint) Serve(req credreq.Request, _ credreq.Source, _ *dirconfig.Config, pid int, _ map[string]*string) (string, string, error) {
	if f.fail != nil {
		return "", "", f.fail
	}
	f.users[pid] = req.RoleARN
	f.down = false
	return "http://127.0.0.1:4242/v1/" + req.RoleARN[len(req.RoleARN)-1:], f.tok(), nil
}

func (f *fakeEndpoint) Release(pid int) { delete(f.users, pid); f.released++ }

func (f *fakeEndpoint) Running() (int, string, string, bool) {
	return 0, "http://127.0.0.1:4242", f.tok(), f.fail == nil && !f.down
}

// A prompt in the project while the server the shell's URI names is gone
// (killed), or answers with another token (started again), registers
// again: the server starts, and the shell gets its URI and token. While it
// runs, a prompt changes nothing.
func TestEndpointGoneRegistersAgain(t *testing.T) {
	w, ep, _ := endpointWorld(t)
	w.cd(t, w.a)
	delete(ep.users, w.pid)
	if res := w.cd(t, w.a); len(res.Changes) != 0 || ep.users[w.pid] != "" {
		t.Fatalf("a prompt while the server runs: changes %v, registered %q", res.Changes, ep.users[w.pid])
	}
	ep.down = true
	w.cd(t, w.a)
	if ep.users[w.pid] != roleA || ep.down {
		t.Errorf("a prompt after the server was killed did not register again (registered %q)", ep.users[w.pid])
	}
	ep.token = "/state/endpoint/tokens/4343"
	w.cd(t, w.a)
	if got := w.env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]; got != ep.token {
		t.Errorf("after a restart with another token file the shell holds %q, want %s", got, ep.token)
	}
	if got := w.env["AWSROLE_DIR"]; got != w.a {
		t.Errorf("AWSROLE_DIR = %q, want %s", got, w.a)
	}
}

func endpointWorld(t *testing.T) (*failWorld, *fakeEndpoint, *strings.Builder) {
	w := newFailWorld(t)
	conf := filepath.Join(w.home, ".config", "awsrole", "config.toml")
	if err := os.MkdirAll(filepath.Dir(conf), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("credentials = \"endpoint\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ep := &fakeEndpoint{users: map[int]string{}}
	var notice strings.Builder
	w.e.Endpoint, w.e.Notice = ep, &notice
	// The user's own web identity (the source now), which the SDKs'
	// chains would pick before the endpoint.
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(unsignedJWT), 0o600); err != nil {
		t.Fatal(err)
	}
	w.env["AWS_ROLE_ARN"] = "arn:aws:iam::111111111111:role/web"
	w.env["AWS_WEB_IDENTITY_TOKEN_FILE"] = tokenFile
	return w, ep, &notice
}

// In endpoint mode a project's shell holds the URI and token, none of the
// keys nor anything that would win over them; switching switches the URI;
// leaving restores everything and tells the endpoint the shell is gone.
func TestEndpointMode(t *testing.T) {
	w, ep, notice := endpointWorld(t)
	w.cd(t, w.a)
	for name, want := range map[string]string{
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "http://127.0.0.1:4242/v1/a",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/state/endpoint/tokens/4242",
		"AWSROLE_ARN":                            roleA,
	} {
		if got := w.env[name]; got != want {
			t.Errorf("in A: %s = %q, want %q", name, got, want)
		}
	}
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION",
		"AWS_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_AUTHORIZATION_TOKEN"} {
		if v, ok := w.env[name]; ok {
			t.Errorf("in A: %s = %q, want unset", name, v)
		}
	}
	if ep.users[w.pid] != roleA {
		t.Errorf("the endpoint has %q registered for the shell, want %s", ep.users[w.pid], roleA)
	}
	w.cd(t, w.b)
	if got := w.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]; got != "http://127.0.0.1:4242/v1/b" {
		t.Errorf("in B: URI %q, want B's", got)
	}
	w.cd(t, w.home)
	if _, ok := ep.users[w.pid]; ok || ep.released == 0 {
		t.Errorf("leaving did not release the shell: %v", ep.users)
	}
	if w.env["AWS_ROLE_ARN"] != "arn:aws:iam::111111111111:role/web" || !strings.HasSuffix(w.env["AWS_WEB_IDENTITY_TOKEN_FILE"], "/token") {
		t.Errorf("after leaving: AWS_ROLE_ARN %q, AWS_WEB_IDENTITY_TOKEN_FILE %q, want the user's own", w.env["AWS_ROLE_ARN"], w.env["AWS_WEB_IDENTITY_TOKEN_FILE"])
	}
	delete(w.env, "AWS_ROLE_ARN")
	delete(w.env, "AWS_WEB_IDENTITY_TOKEN_FILE")
	w.wantLeft(t, "after leaving")
	if notice.Len() != 0 {
		t.Errorf("notices: %q", notice.String())
	}
}

// When the endpoint cannot start, entering falls back to the keys for this
// shell, with one line saying why.
func TestEndpointFallback(t *testing.T) {
	w, ep, notice := endpointWorld(t)
	ep.fail = errors.New("listen on 127.0.0.1: address already in use")
	w.cd(t, w.a)
	if w.env["AWS_ACCESS_KEY_ID"] != "ASIAa" || w.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] != "" {
		t.Errorf("fallback: key %q, URI %q; want the keys", w.env["AWS_ACCESS_KEY_ID"], w.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
	}
	lines := strings.Split(strings.TrimSpace(notice.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "address already in use; using environment credentials in this shell") {
		t.Errorf("fallback notice: %q, want one line with the reason", notice.String())
	}
}

// A [default] profile with keys wins over the endpoint in every SDK: one
// line at entry says so, none at refreshes.
func TestEndpointDefaultProfileNotice(t *testing.T) {
	w, _, notice := endpointWorld(t)
	creds := filepath.Join(w.home, "credentials")
	if err := os.WriteFile(creds, []byte("[default]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w.useAWS(filepath.Join(w.home, "config"), creds)
	w.cd(t, w.a)
	if got := notice.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "[default] profile") {
		t.Errorf("notice at entry: %q, want one line about the [default] profile", got)
	}
}

// unsignedJWT is a token's shape with its claims (iss, sub, aud): what
// Resolve reads for the cache key; nothing here checks a signature.
const unsignedJWT = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwic3ViIjoicmVwbzpvcmcvYXBwIiwiYXVkIjoic3RzLmFtYXpvbmF3cy5jb20ifQ.c2ln"
