package reliability

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsrole/awsrole/internal/creds"
	"github.com/awsrole/awsrole/internal/human"
	"github.com/awsrole/awsrole/internal/stsstub"

	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

// stsAnswers holds the malformed answers of testdata/reliability/sts.
const stsAnswers = "../../testdata/reliability/sts"

// faultCase is one way STS (or the way to it) fails an entry.
type faultCase struct {
	name string
	// prepare arranges the fault and returns what changes in the shell's
	// environment, and a counter of the requests that reach STS.
	prepare func(t *testing.T, w *world, role string) (env map[string]*string, requests func() int)
	cause   []string      // what the message must say besides the role
	max     time.Duration // bound on the failing call; default creds.Timeout + 3s
	min     time.Duration // the failing call takes at least this long
}

// stubFault injects n faults f at the stub's AssumeRole.
func stubFault(n int, f stsstub.Fault) func(*testing.T, *world, string) (map[string]*string, func() int) {
	return func(t *testing.T, w *world, role string) (map[string]*string, func() int) {
		w.Stub.FailNext("AssumeRole", n, f)
		return nil, func() int { return calls(w.Stub) }
	}
}

// stubEnv changes the shell's environment and counts at the stub.
func stubEnv(env map[string]*string) func(*testing.T, *world, string) (map[string]*string, func() int) {
	return func(t *testing.T, w *world, role string) (map[string]*string, func() int) {
		return env, func() int { return calls(w.Stub) }
	}
}

// answering points STS at a server of our own that answers every request
// with status 200 and the named file of testdata/reliability/sts.
func answering(file string) func(*testing.T, *world, string) (map[string]*string, func() int) {
	return func(t *testing.T, w *world, role string) (map[string]*string, func() int) {
		body, err := os.ReadFile(filepath.Join(stsAnswers, file))
		if err != nil {
			t.Fatal(err)
		}
		var n atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			n.Add(1)
			ct := "text/xml"
			if strings.HasSuffix(file, ".html") {
				ct = "text/html"
			}
			rw.Header().Set("Content-Type", ct)
			rw.Write(body)
		}))
		t.Cleanup(srv.Close)
		return map[string]*string{"AWS_ENDPOINT_URL_STS": sp(srv.URL)}, func() int { return int(n.Load()) }
	}
}

// temporarySource gets temporary credentials of the user from the stub
// (GetSessionToken) and makes them the shell's own, then expires them.
func temporarySource(t *testing.T, w *world, role string) (map[string]*string, func() int) {
	client := sts.New(sts.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(w.Stub.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(userKey, userSecret, ""),
	})
	out, err := client.GetSessionToken(context.Background(), &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	w.Stub.ExpireAll()
	c := out.Credentials
	before := calls(w.Stub)
	return map[string]*string{
			"AWS_ACCESS_KEY_ID":     c.AccessKeyId,
			"AWS_SECRET_ACCESS_KEY": c.SecretAccessKey,
			"AWS_SESSION_TOKEN":     c.SessionToken,
		}, func() int {
			return calls(w.Stub) - before
		}
}

// refused points STS at a port nobody listens on; after the failure a
// stub takes the port, so that any later attempt is counted.
func refused(t *testing.T, w *world, role string) (map[string]*string, func() int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var late *stsstub.Server
	t.Cleanup(func() {
		if late != nil {
			late.Close()
		}
	})
	return map[string]*string{"AWS_ENDPOINT_URL_STS": sp("http://" + addr)}, func() int {
		if late == nil {
			// Called first after the failing call: from now on, count.
			if late, err = stsstub.StartAddr(addr); err != nil {
				t.Fatalf("listen on %s again: %v", addr, err)
			}
			return 0
		}
		return calls(late)
	}
}

func faultCases() []faultCase {
	return []faultCase{
		{name: "access-denied", prepare: stubFault(1, stsstub.Fault{Status: 403, Code: "AccessDenied",
			Message: "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: sts:AssumeRole"}),
			cause: []string{"AccessDenied", "is not authorized to perform"}},
		{name: "validation-error", prepare: stubFault(1, stsstub.Fault{Code: "ValidationError",
			Message: "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint"}),
			cause: []string{"ValidationError", "failed to satisfy constraint"}},
		{name: "internal-error-500", prepare: stubFault(10, stsstub.Fault{Status: 500}),
			cause: []string{"InternalFailure"}},
		{name: "unavailable-503", prepare: stubFault(10, stsstub.Fault{Status: 503}),
			cause: []string{"ServiceUnavailable"}},
		{name: "throttling", prepare: stubFault(10, stsstub.Fault{Code: "Throttling", Message: "Rate exceeded"}),
			cause: []string{"Throttling", "Rate exceeded"}},
		{name: "connection-dropped", prepare: stubFault(10, stsstub.Fault{Close: true}),
			cause: []string{"closed the connection without answering"}},
		{name: "never-answers", prepare: stubFault(10, stsstub.Fault{Hang: time.Minute}),
			cause: []string{"did not answer within 10s"}, min: 9 * time.Second, max: 12 * time.Second},
		{name: "connection-refused", prepare: refused,
			cause: []string{"cannot reach", "connection refused"}},
		{name: "unknown-source-key", prepare: stubEnv(map[string]*string{"AWS_ACCESS_KEY_ID": sp("AKIAUNKNOWNUNKNOWN00")}),
			cause: []string{"InvalidClientTokenId"}},
		{name: "wrong-source-secret", prepare: stubEnv(map[string]*string{"AWS_SECRET_ACCESS_KEY": sp("not-the-secret-not-the-secret-not-the-se")}),
			cause: []string{"SignatureDoesNotMatch"}},
		{name: "expired-source-credentials", prepare: temporarySource,
			cause: []string{"ExpiredToken"}},
		{name: "no-source-credentials", prepare: stubEnv(map[string]*string{"AWS_ACCESS_KEY_ID": nil, "AWS_SECRET_ACCESS_KEY": nil}),
			cause: []string{"no source credentials"}},
		{name: "answer-already-expired", prepare: func(t *testing.T, w *world, role string) (map[string]*string, func() int) {
			w.Stub.SetSessionDuration(time.Second)
			return nil, func() int { return calls(w.Stub) }
		}, cause: []string{"STS returned credentials that expire at", "within the refresh window"}},
		{name: "answer-expiry-in-the-past", prepare: answering("past-expiration.xml"),
			cause: []string{"expire at " + human.Time(time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)) + ", already past"}}, // one time format, as every message
		{name: "answer-expiry-malformed", prepare: answering("malformed-expiration.xml"),
			cause: []string{"did not answer like STS", "in an hour or so"}},
		{name: "answer-expiry-impossible", prepare: answering("impossible-expiration.xml"),
			cause: []string{"did not answer like STS", "2099-02-30T25:61:00Z"}},
		{name: "answer-expiry-missing", prepare: answering("missing-expiration.xml"),
			cause: []string{"without complete credentials"}},
		{name: "answer-no-credentials", prepare: answering("no-credentials.xml"),
			cause: []string{"without complete credentials"}},
		{name: "answer-html-page", prepare: answering("captive-portal.html"),
			cause: []string{"did not answer like STS"}},
		{name: "answer-empty", prepare: answering("empty.xml"),
			cause: []string{}},
	}
}

// TestSTSFaults enters a project while STS fails in every way we know, from
// a real bash: one line naming the role and the cause, nothing on stdout,
// the environment unchanged, nothing cached, and no further request to STS
// at the next three prompts.
func TestSTSFaults(t *testing.T) {
	t.Parallel()
	timed(t)
	for _, c := range faultCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			role := "arn:aws:iam::222222222222:role/" + c.name
			proj := w.project(c.name, role, "")
			env, requests := c.prepare(t, w, role)
			sh := mustShell(t, w, w.Home, with(w.Env, env))

			r := sh.mustStep(t, proj)
			checkFailure(t, r, append([]string{"awsrole: assume " + role + ": "}, c.cause...)...)
			if c.max == 0 {
				c.max = creds.Timeout + 3*time.Second // slack for a busy machine, not for STS
			}
			if r.Elapsed > c.max || r.Elapsed < c.min {
				t.Errorf("the failing call took %s, want %s..%s", r.Elapsed, c.min, c.max)
			}
			if n := len(assumeCalls(w.Stub, "")); n > 3 {
				t.Errorf("%d AssumeRole requests for one prompt, want at most 3 (the SDK's attempts):\n%s", n, hermetic.DescribeCalls(w.Stub.Calls()))
			}
			if files, _ := filepath.Glob(filepath.Join(w.cacheDir(), "*.json")); len(files) > 0 {
				t.Errorf("a failed entry left cached credentials: %v", files)
			}
			t.Logf("%s", strings.TrimSpace(r.Stderr))

			before := requests()
			for i := 0; i < 3; i++ {
				r := sh.mustStep(t, proj)
				checkQuiet(t, r)
				if r.RC != 0 {
					t.Errorf("prompt %d after the failure: exit status %d", i+2, r.RC)
				}
			}
			if n := requests() - before; n != 0 {
				t.Errorf("the 3 prompts after the failure sent %d more requests to STS, want none", n)
			}
			if d := managedDiff(sh.Orig, sh.Env); d != "" {
				t.Errorf("after the failure the shell no longer has its own values:\n%s", d)
			}
		})
	}
}

// TestSTSHangTwoShells: two shells enter the same project at once while
// STS never answers. One waits for the other's fetch (the lock), and that
// wait counts against the same bound: neither prompt takes longer than
// creds.Timeout (before the fix, the second took two timeouts, 20 s).
func TestSTSHangTwoShells(t *testing.T) {
	t.Parallel()
	timed(t)
	w := newWorld(t)
	role := "arn:aws:iam::222222222222:role/hang-two"
	proj := w.project("hang-two", role, "")
	w.Stub.FailNext("AssumeRole", 10, stsstub.Fault{Hang: time.Minute})
	shells := []*shell{mustShell(t, w, w.Home, w.Env), mustShell(t, w, w.Home, w.Env)}
	steps := make([]*step, len(shells))
	errs := make([]error, len(shells))
	done := make(chan int)
	for i, sh := range shells {
		go func() {
			steps[i], errs[i] = sh.step(proj, 0)
			done <- i
		}()
	}
	for range shells {
		<-done
	}
	for i, r := range steps {
		if errs[i] != nil {
			t.Fatalf("shell %d: %v", i, errs[i])
		}
		checkFailure(t, r, "awsrole: assume "+role+": ")
		t.Logf("shell %d after %s: %s", i, r.Elapsed.Round(time.Millisecond), strings.TrimSpace(r.Stderr))
		if bound := creds.Timeout + 4*time.Second; r.Elapsed > bound {
			t.Errorf("shell %d: the prompt took %s, over %s", i, r.Elapsed, bound)
		}
	}
	// The waiting shell may still try once with what is left of its
	// bound when the lock comes free: at most one request each.
	if got := assumeCalls(w.Stub, role); len(got) > 2 {
		t.Errorf("%d AssumeRole requests, want at most 2:\n%s", len(got), hermetic.DescribeCalls(got))
	}
}
