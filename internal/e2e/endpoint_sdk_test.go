package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/testrig"

	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

// The long-running clients: each makes one STS client and calls
// GetCallerIdentity every second for argv[1] seconds, printing "ok ARN"
// or "FAIL error" per call.
const (
	botocoreLoop = `import sys, time, botocore.session
client = botocore.session.get_session().create_client("sts")
end = time.time() + float(sys.argv[1])
while time.time() < end:
    try:
        print("ok", client.get_caller_identity()["Arn"], flush=True)
    except Exception as e:
        print("FAIL", repr(e).replace("\n", " "), flush=True)
    time.sleep(1)
`
	jsLoop = `const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
const client = new STSClient({});
const end = Date.now() + Number(process.argv[2]) * 1000;
(async () => {
  while (Date.now() < end) {
    try {
      const out = await client.send(new GetCallerIdentityCommand({}));
      console.log("ok", out.Arn);
    } catch (e) {
      console.log("FAIL", e.name, String(e.message).replace(/\n/g, " "));
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
})();
`
)

// client is one long-running SDK client: its command line (after the
// seconds to run, appended last) or why it cannot run here.
type client struct {
	name string
	argv []string
	skip string
}

// goClient builds testdata/stsloop (aws-sdk-go-v2).
func goClient(t *testing.T) client {
	out := filepath.Join(t.TempDir(), "stsloop")
	if msg, err := exec.Command("go", "build", "-o", out, "./testdata/stsloop").CombinedOutput(); err != nil {
		t.Fatalf("go build ./testdata/stsloop: %v\n%s", err, msg)
	}
	return client{name: "aws-sdk-go-v2", argv: []string{out}}
}

// botocoreClient runs under the interpreter of the aws CLI, which has
// botocore.
func botocoreClient(t *testing.T) client {
	c := client{name: "botocore"}
	f, err := os.Open(filepath.Join(binDir, "aws"))
	if err != nil {
		c.skip = "no aws CLI to borrow python3 with botocore from; install awscli (pip install awscli)"
		return c
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	interp := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "#!"))
	if len(interp) == 0 || exec.Command(interp[0], append(interp[1:], "-c", "import botocore")...).Run() != nil {
		c.skip = "the aws CLI's interpreter " + strings.Join(interp, " ") + " has no botocore; install awscli or botocore"
		return c
	}
	script := testrig.Write(t, t.TempDir(), "loop.py", botocoreLoop)
	c.argv = append(interp[1:len(interp):len(interp)], script)
	c.argv = append([]string{interp[0]}, c.argv...)
	return c
}

// jsClient installs @aws-sdk/client-sts with npm (once per machine, in a
// directory under the temp dir) and runs the loop under node.
func jsClient(t *testing.T) client {
	c := client{name: "js-sdk-v3"}
	node, err := exec.LookPath("node")
	if err != nil {
		c.skip = "node is not on PATH; install nodejs and npm"
		return c
	}
	dir := filepath.Join(os.TempDir(), "awsrole-e2e-node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@aws-sdk", "client-sts", "package.json")); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--silent", "@aws-sdk/client-sts")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			c.skip = fmt.Sprintf("npm install @aws-sdk/client-sts failed (%v: %s); install npm and network access to its registry", err, bytes.TrimSpace(out))
			return c
		}
	}
	script := testrig.Write(t, dir, "loop.js", jsLoop)
	return client{name: c.name, argv: []string{node, script}}
}

// TestEndpointSDKClients: a real long-running client of each SDK, started
// once under `awsrole exec --endpoint`, calls GetCallerIdentity every
// second across three credential lifetimes of 15 s that the stand-in
// issues. Their own refresh margins (botocore 15/10 min, aws-sdk-go-v2
// and the JS SDK 5 min) are longer than those lifetimes, so each asks the
// endpoint at every call, and the stand-in refuses an expired key: zero
// failed calls means every call got credentials the server had renewed in
// time. All three share one role, one cache entry and one server: the
// stand-in sees about one AssumeRole per lifetime, not one per client or
// call.
func TestEndpointSDKClients(t *testing.T) {
	busy.Parallel(t)
	const (
		life    = 15 * time.Second
		seconds = 46 // three lifetimes and a bit
	)
	r := newRig(t, nil)
	// exec's own first fetch must find the 15-s credentials fresh.
	r.endpointMode("refresh_before = \"10s\"\n")
	p := r.project("p", roleDeploy, "e2e-ep-sdk", "", true)
	r.Stub.SetSessionDuration(life)

	clients := []client{goClient(t), botocoreClient(t), jsClient(t)}
	var run []client
	for _, c := range clients {
		if c.skip != "" {
			t.Run(c.name, func(t *testing.T) { testrig.Require(t, c.skip) })
			continue
		}
		run = append(run, c)
	}

	type result struct {
		out, stderr string
		err         error
		pids        int
	}
	results := make([]result, len(run))
	var wg sync.WaitGroup
	start := time.Now()
	var started sync.WaitGroup
	for i, c := range run {
		wg.Add(1)
		started.Add(1)
		go func() {
			defer wg.Done()
			args := append([]string{"exec", "--endpoint", "--dir", p, "--"}, c.argv...)
			args = append(args, fmt.Sprint(seconds))
			cmd := exec.Command(awsroleBin, args...)
			cmd.Dir = r.Home
			cmd.Env = r.Environ(map[string]*string{"PWD": sp(r.Home)})
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Start()
			started.Done()
			if err == nil {
				err = cmd.Wait()
			}
			results[i] = result{stdout.String(), stderr.String(), err, 1}
		}()
	}
	started.Wait()
	busy.Wait(t) // the clients run for three lifetimes, mostly waiting
	// Meanwhile, ask the endpoint as often as an impatient SDK would: what
	// it hands out always has a good part of its life left (it renews
	// before expiry, not at it).
	stop := make(chan struct{})
	minLeft := make(chan time.Duration, 1)
	go func() {
		least := time.Hour
		defer func() { minLeft <- least }()
		info := r.waitServer(0)
		tok := r.token(info.Port)
		// The starter registers the role once the server runs.
		var roles []string
		for deadline := time.Now().Add(10 * time.Second); len(roles) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			roles, _ = filepath.Glob(filepath.Join(r.endpointDir(), "roles", "*.json"))
		}
		if len(roles) != 1 {
			t.Errorf("registrations %q, want one for the one role", roles)
			return
		}
		uri := fmt.Sprintf("http://127.0.0.1:%d/v1/%s", info.Port, strings.TrimSuffix(filepath.Base(roles[0]), ".json"))
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			status, body := getEndpoint(t, uri, tok)
			var c struct{ Expiration string }
			json.Unmarshal([]byte(body), &c)
			exp, err := time.Parse(time.RFC3339, c.Expiration)
			if status != 200 || err != nil {
				t.Errorf("endpoint: %d %s", status, body)
				return
			}
			least = min(least, time.Until(exp))
		}
	}()
	wg.Wait()
	close(stop)
	elapsed := time.Since(start)
	// The window is a quarter of the life (3.75 s), less the stand-in's
	// truncation of expiries to whole seconds.
	if least := <-minLeft; least < 2*time.Second {
		t.Errorf("the endpoint handed out credentials with %s left, want at least 2s of their %s", least.Round(time.Millisecond), life)
	}

	for i, c := range run {
		res := results[i]
		lines := strings.Split(strings.TrimSpace(res.out), "\n")
		ok := 0
		for _, l := range lines {
			if strings.HasPrefix(l, "ok arn:aws:sts::222222222222:assumed-role/deploy/e2e-ep-sdk") {
				ok++
			} else {
				t.Errorf("%s: %q", c.name, l)
			}
		}
		t.Logf("%s: %d calls; stderr: %s", c.name, len(lines), res.stderr)
		// About one a second; on a loaded machine a call can take two (a
		// slow request is retried). That they kept working across the
		// renewals is checked by the keys below.
		if res.err != nil || ok < seconds/2 {
			t.Errorf("%s: %d successful calls in %ds (exit: %v); stderr:\n%s", c.name, ok, seconds, res.err, res.stderr)
		}
	}
	keys := map[string]bool{}
	for _, call := range r.Stub.Calls() {
		if call.Action != "GetCallerIdentity" {
			continue
		}
		keys[call.AccessKeyID] = true
		if call.Status != 200 {
			t.Errorf("GetCallerIdentity with %s failed at the stand-in: %d %s", call.AccessKeyID, call.Status, call.Err)
		}
	}
	if len(keys) < 3 {
		t.Errorf("the clients used %d keys over %s of %s credentials, want at least 3 (they renewed)", len(keys), elapsed.Round(time.Second), life)
	}
	// One per generation of credentials, shared by all clients: the first
	// fetch (the execs share it through the cache lock), then one renewal
	// each time a quarter of the life is left, i.e. every 3/4 of a life.
	assumes := len(r.assumeCalls("e2e-ep-sdk"))
	if limit := 2 + int(elapsed/(life*3/4)); assumes > limit {
		t.Errorf("%d AssumeRole calls for %d clients over %s of %s credentials, want at most %d; stub log:\n%s",
			assumes, len(run), elapsed.Round(time.Second), life, limit, hermetic.DescribeCalls(r.assumeCalls("e2e-ep-sdk")))
	}
	t.Logf("%d clients, %s, %d AssumeRole, %d keys", len(run), elapsed.Round(time.Second), assumes, len(keys))
}
