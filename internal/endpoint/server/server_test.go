package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/endpoint"
	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

const role = "arn:aws:iam::222222222222:role/deploy"

var (
	testReq = credreq.Request{RoleARN: role, SessionName: "unit", Duration: time.Hour, Window: 5 * time.Minute}
	testSrc = credreq.Source{Kind: credreq.SourceEnv, Identity: "env:AKIAUNITEXAMPLE00001", Region: "us-east-1"}
)

// fakeCreds issues credentials of life and counts its fetches; fail makes
// it fail.
type fakeCreds struct {
	life  time.Duration
	calls atomic.Int32
	fail  atomic.Bool
}

func (f *fakeCreds) Get(ctx context.Context, req credreq.Request, src credreq.Source, env credreq.Env) (credcache.Credentials, error) {
	n := f.calls.Add(1)
	if f.fail.Load() {
		return credcache.Credentials{}, errors.New("assume " + req.RoleARN + ": the SSO session has expired; run: awsrole login")
	}
	time.Sleep(20 * time.Millisecond) // a fetch takes a while: concurrent requests overlap
	c := credcache.Credentials{AccessKeyID: fmt.Sprintf("ASIAFAKE%012d", n), SecretAccessKey: "secret", SessionToken: "token",
		Expiration: time.Now().Add(f.life).Truncate(time.Second), RoleARN: req.RoleARN}
	data, _ := json.Marshal(c)
	if err := privfile.Write(testCache().Final(req, src).Path, data); err != nil {
		return credcache.Credentials{}, err
	}
	return c, nil
}

// world points the XDG dirs at a temporary directory, with an approved
// project file for the test role in it.
func world(t testing.TB) {
	root := t.TempDir()
	t.Setenv("XDG_STATE_HOME", root+"/state")
	t.Setenv("XDG_CACHE_HOME", root+"/cache")
	t.Setenv("XDG_DATA_HOME", root+"/data")
	t.Setenv("XDG_CONFIG_HOME", root+"/config")
	dir := filepath.Join(root, "p")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, dirconfig.FileName)
	if err := os.WriteFile(path, []byte("role_arn = \""+role+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := dirconfig.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := testTrust().Allow(cfg); err != nil {
		t.Fatal(err)
	}
	testCfg = cfg
}

// testCfg is the project file of the current test's world.
var testCfg *dirconfig.Config

// serve runs a server until the test ends and returns it, its record and
// the id of the registered test request.
func serve(t testing.TB, creds *fakeCreds, idle time.Duration) (*Server, endpoint.Info, string) {
	t.Helper()
	id, err := testStore().Register(testCache(), testReq, testSrc, testCfg, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Store: testStore(), UserConfig: dirconfig.UserConfigPath(xdgdir.FromEnv(os.Getenv).Config), Trust: testTrust(), Now: time.Now, Cache: testCache(), Creds: creds,
		Resolve: func(credreq.Request) (credreq.Source, error) { return testSrc, nil }}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, s, idle, func(err error) { started <- err })
	}()
	t.Cleanup(func() { cancel(); <-done })
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	i, ok := testStore().ReadInfo()
	if !ok {
		t.Fatal("no server.json")
	}
	return s, i, id
}

func get(t testing.TB, url, host, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if host != "" {
		req.Host = host
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestRefusals: the token, the Host header and the id are checked, in
// that order, and each refusal is a JSON message the SDKs show.
func TestRefusals(t *testing.T) {
	world(t)
	creds := &fakeCreds{life: time.Hour}
	s, i, id := serve(t, creds, time.Hour)
	url := i.URL() + "/v1/" + id
	tests := []struct {
		name, url, host, token string
		status                 int
		body                   string
	}{
		{"no token", url, "", "", 401, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"},
		{"wrong token", url, "", s.Token[:len(s.Token)-1] + "x", 401, "Unauthorized"},
		{"token prefix", url, "", s.Token[:10], 401, "Unauthorized"},
		{"rebinding host", url, fmt.Sprintf("evil.example:%d", i.Port), s.Token, 403, "Forbidden"},
		{"rebinding host without port", url, "attacker.test", s.Token, 403, "Forbidden"},
		{"unknown id", i.URL() + "/v1/" + strings.Repeat("0", 32), "", s.Token, 404, "no role is registered"},
		{"malformed id", i.URL() + "/v1/../../token", "", s.Token, 404, "NotFound"},
		{"localhost", url, fmt.Sprintf("localhost:%d", i.Port), s.Token, 200, `"AccessKeyId":"ASIAFAKE`},
		{"ok", url, "", s.Token, 200, `"RoleArn":"` + role + `"`},
	}
	for _, tt := range tests {
		status, body := get(t, tt.url, tt.host, tt.token)
		if status != tt.status || !strings.Contains(body, tt.body) {
			t.Errorf("%s: %d %s, want %d with %q", tt.name, status, body, tt.status, tt.body)
		}
		if status != 200 && !json.Valid([]byte(body)) {
			t.Errorf("%s: body %q is not JSON", tt.name, body)
		}
	}
	_, body := get(t, url, "", s.Token)
	var c map[string]string
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "RoleArn"} {
		if c[k] == "" {
			t.Errorf("answer has no %s: %s", k, body)
		}
	}
	if _, err := time.Parse(time.RFC3339, c["Expiration"]); err != nil {
		t.Errorf("Expiration %q: %v", c["Expiration"], err)
	}
	if n := creds.calls.Load(); n != 1 {
		t.Errorf("%d fetches for requests of one id, want 1 (then the cache)", n)
	}
	for _, f := range []string{testStore().TokenPath(i.Port), testStore().InfoPath(), testStore().RolePath(id), testStore().ServedPath()} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want mode 0600", f, err)
		}
	}
}

// TestBoundToLoopbackOnly reads the kernel's socket tables: the server's
// port is bound to 127.0.0.1 and nothing else.
func TestBoundToLoopbackOnly(t *testing.T) {
	world(t)
	_, i, _ := serve(t, &fakeCreds{life: time.Hour}, time.Hour)
	port := fmt.Sprintf(":%04X", i.Port)
	found := 0
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 4 || !strings.HasSuffix(f[1], port) || f[3] != "0A" { // 0A: LISTEN
				continue
			}
			found++
			if f[1] != "0100007F"+port {
				t.Errorf("%s: port %d listens on %s, want 127.0.0.1 only", table, i.Port, f[1])
			}
		}
	}
	if found != 1 {
		t.Errorf("found %d listening sockets on port %d, want 1", found, i.Port)
	}
}

// TestRenewsOnceBeforeExpiry: credentials inside the window (a quarter of
// their life here) are renewed once however many requests come at once,
// before they expire; a failed renewal keeps serving what is still valid
// and says why in served.json; expired and not renewable is a 503 with the
// reason.
func TestRenewsOnceBeforeExpiry(t *testing.T) {
	world(t)
	creds := &fakeCreds{life: 4 * time.Second}
	s, i, id := serve(t, creds, time.Hour)
	url := i.URL() + "/v1/" + id
	first := func() string {
		_, body := get(t, url, "", s.Token)
		var c struct{ AccessKeyId, Expiration string }
		json.Unmarshal([]byte(body), &c)
		return c.AccessKeyId
	}
	k1 := first()
	// Wait until the credentials are inside a quarter of their life.
	deadline := time.Now().Add(10 * time.Second)
	for creds.calls.Load() == 1 && time.Now().Before(deadline) {
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() { defer wg.Done(); get(t, url, "", s.Token) }()
		}
		wg.Wait()
		time.Sleep(50 * time.Millisecond)
	}
	if n := creds.calls.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2 (one renewal for many concurrent requests)", n)
	}
	if k2 := first(); k2 == k1 {
		t.Errorf("still %s after the renewal", k1)
	}

	creds.fail.Store(true)
	deadline = time.Now().Add(10 * time.Second)
	var status int
	var body string
	for time.Now().Before(deadline) {
		if status, body = get(t, url, "", s.Token); status != 200 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status != 503 || !strings.Contains(body, "SSO session has expired") {
		t.Errorf("expired and not renewable: %d %s, want 503 with the reason", status, body)
	}
	served := testStore().ReadServed()[id]
	if !strings.Contains(served.Error, "SSO session has expired") || served.Role != role {
		t.Errorf("served.json for %s: %+v, want the error", id, served)
	}
}

// TestOtherSource: a server started from other base credentials than the
// registering shell's never renews with them; it says what to do.
func TestOtherSource(t *testing.T) {
	world(t)
	creds := &fakeCreds{life: time.Hour}
	s, i, id := serve(t, creds, time.Hour)
	s.Resolve = func(credreq.Request) (credreq.Source, error) {
		return credreq.Source{Kind: credreq.SourceEnv, Identity: "env:AKIAOTHEREXAMPLE0001", Region: "us-east-1"}, nil
	}
	status, body := get(t, i.URL()+"/v1/"+id, "", s.Token)
	if status != 503 || !strings.Contains(body, "other base credentials") || !strings.Contains(body, "awsrole serve --stop") {
		t.Errorf("%d %s, want 503 saying to restart the server", status, body)
	}
	if n := creds.calls.Load(); n != 0 {
		t.Errorf("%d fetches with the other source", n)
	}
}

// TestIdleExit: the server exits after the idle time without requests,
// but not while a registered process lives.
func TestIdleExit(t *testing.T) {
	world(t)
	if _, err := testStore().Register(testCache(), testReq, testSrc, testCfg, os.Getpid()); err != nil {
		t.Fatal(err)
	}
	s := &Server{Store: testStore(), UserConfig: dirconfig.UserConfigPath(xdgdir.FromEnv(os.Getenv).Config), Trust: testTrust(), Now: time.Now, Cache: testCache(), Creds: &fakeCreds{life: time.Hour}}
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), s, 200*time.Millisecond, nil) }()
	select {
	case err := <-done:
		t.Fatalf("exited with a live registered process: %v", err)
	case <-time.After(time.Second):
	}
	testStore().Release(os.Getpid())
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5s after the last user left, idle 200ms")
	}
	if _, ok := testStore().ReadInfo(); ok {
		t.Error("server.json left behind by a server that exited")
	}
}

// TestOneServer: a second Run while one serves says which one runs.
func TestOneServer(t *testing.T) {
	world(t)
	_, i, _ := serve(t, &fakeCreds{life: time.Hour}, time.Hour)
	err := Run(context.Background(), &Server{Store: testStore(), UserConfig: dirconfig.UserConfigPath(xdgdir.FromEnv(os.Getenv).Config), Trust: testTrust(), Now: time.Now}, time.Hour, nil)
	var running *AlreadyRunning
	if !errors.As(err, &running) || running.Info.Port != i.Port {
		t.Errorf("second Run: %v, want AlreadyRunning on port %d", err, i.Port)
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.0.0.1": true, "localhost:1": true, "LOCALHOST": true, "[::1]:80": true,
		"127.1.2.3:9": true, "evil.example:8080": false, "127.0.0.1.evil.example": false, "": false,
		"0.0.0.0:80": false, "192.168.1.1:80": false, "localhost.evil:80": false,
	} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// BenchmarkEndpointWarm is one GET of a role's credentials from a warm
// cache, over a kept-alive loopback connection, as an SDK makes it.
func BenchmarkEndpointWarm(b *testing.B) {
	world(b)
	s, i, id := serve(b, &fakeCreds{life: time.Hour}, time.Hour)
	url := i.URL() + "/v1/" + id
	get(b, url, "", s.Token) // warm the cache
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", s.Token)
	b.ResetTimer()
	for b.Loop() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
}

// A token heard before a restart is worthless after it: every start takes
// a new one, on the same port when it is free (the running programs read
// the new one from the same file), and on another port the old port's
// file goes, so nothing is sent to whoever holds that port.
func TestTokenRotatesAtEveryStart(t *testing.T) {
	world(t)
	creds := &fakeCreds{life: time.Hour}
	var ports []int
	var tokens []string
	for range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		s := &Server{Store: testStore(), UserConfig: dirconfig.UserConfigPath(xdgdir.FromEnv(os.Getenv).Config), Trust: testTrust(), Now: time.Now, Cache: testCache(), Creds: creds,
			Resolve: func(credreq.Request) (credreq.Source, error) { return testSrc, nil }}
		started, done := make(chan error, 1), make(chan struct{})
		go func() { defer close(done); Run(ctx, s, time.Hour, func(err error) { started <- err }) }()
		if err := <-started; err != nil {
			t.Fatal(err)
		}
		i, _ := testStore().ReadInfo()
		for j, old := range tokens {
			if old == s.Token {
				t.Errorf("start %d took the token of start %d", len(tokens), j)
			}
			if status, body := get(t, i.URL()+"/v1/x", "", old); status != 401 {
				t.Errorf("the token of start %d after a restart: %d %s, want 401", j, status, body)
			}
		}
		if tok, err := testStore().ReadToken(i.Port); err != nil || tok != s.Token {
			t.Errorf("token file %q %v, want the server's", tok, err)
		}
		ports, tokens = append(ports, i.Port), append(tokens, s.Token)
		cancel()
		<-done
		if _, err := os.Stat(testStore().TokenPath(i.Port)); err == nil {
			t.Error("a stopped server left its token file")
		}
	}
	if ports[1] != ports[0] {
		t.Errorf("restarted on port %d, the free previous one was %d", ports[1], ports[0])
	}

	// The port is taken while no server runs: a new one elsewhere.
	taken, err := net.Listen("tcp4", "127.0.0.1:"+fmt.Sprint(ports[0]))
	if err != nil {
		t.Skipf("port %d taken by someone else meanwhile: %v", ports[0], err)
	}
	defer taken.Close()
	stale := testStore().TokenPath(ports[0])
	if err := privfile.Write(stale, []byte(tokens[1])); err != nil { // as kill -9 leaves it
		t.Fatal(err)
	}
	s, i, _ := serve(t, creds, time.Hour)
	if i.Port == ports[0] || s.Token == tokens[1] {
		t.Errorf("port %d token %q, want another port and a new token", i.Port, s.Token)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("the token file of the port someone else holds is still there")
	}
}

// A registration whose file is denied, edited or gone is refused with the
// reason and dropped; later requests hear the reason too.
func TestRevoked(t *testing.T) {
	world(t)
	s, i, id := serve(t, &fakeCreds{life: time.Hour}, time.Hour)
	url := i.URL() + "/v1/" + id
	if status, body := get(t, url, "", s.Token); status != 200 {
		t.Fatalf("before: %d %s", status, body)
	}
	if err := testTrust().DenyPath(testCfg.Path); err != nil {
		t.Fatal(err)
	}
	for n := range 2 {
		status, body := get(t, url, "", s.Token)
		if status != 403 || !strings.Contains(body, "is denied") || !strings.Contains(body, "awsrole allow") {
			t.Errorf("request %d after deny: %d %s, want 403 saying it is denied", n, status, body)
		}
	}
	if _, err := testStore().LoadRegistration(id); err == nil {
		t.Error("the registration of a denied file is still there")
	}
	if e := testStore().ReadServed()[id]; !strings.Contains(e.Error, "is denied") {
		t.Errorf("served.json: %+v, want the reason", e)
	}
}

// testStore is the endpoint's store under the test's XDG_STATE_HOME.
func testStore() endpoint.Store { return endpoint.StoreIn(xdgdir.FromEnv(os.Getenv).State) }

// testCache is the credential cache of the world's XDG directories, as
// awsrole-sts's main builds it.
func testCache() credcache.Cache {
	return credcache.New(filepath.Join(xdgdir.FromEnv(os.Getenv).Cache, credcache.DirName), credreq.EnvOf(os.Environ()))
}

// testTrust is the trust store of the test's XDG_DATA_HOME, as cmd names it.
func testTrust() dirconfig.TrustStore {
	return dirconfig.TrustStore{Dir: xdgdir.FromEnv(os.Getenv).Data}
}
