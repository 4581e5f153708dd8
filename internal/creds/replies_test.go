package creds

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/stsstub"
)

// TestHostileReplies: STS, the portal and its OIDC service answer with a
// reply too big to read, a session token too big for a shell, or empty
// credentials. Each is refused, through the real SDK, with one line that
// names the endpoint; nothing is cached.
func TestHostileReplies(t *testing.T) {
	big := strings.Repeat("FwoGZXIvYXdzE", 200<<10/13+1) // over 200 KiB, valid characters
	ssoReq := Request{SSO: credreq.SSORole{Session: "corp", AccountID: "222222222222", RoleName: "Deploy"}, Duration: time.Hour, Window: 5 * time.Minute}
	tests := []struct {
		name   string
		action string
		fault  stsstub.Fault
		req    Request
		token  time.Duration // a signed-in SSO token's time left (negative: expired, to refresh)
		want   []string
	}{
		{"AssumeRole reply of 32 MiB", "AssumeRole", stsstub.Fault{Padding: 32 << 20}, request(), 0,
			[]string{"sent a reply larger than 1024 KiB", "check AWS_ENDPOINT_URL_STS"}},
		{"portal reply of 32 MiB", "GetRoleCredentials", stsstub.Fault{Padding: 32 << 20}, ssoReq, time.Hour,
			[]string{"sent a reply larger than 1024 KiB", "check AWS_ENDPOINT_URL_SSO"}},
		{"OIDC reply of 32 MiB", "CreateToken", stsstub.Fault{Padding: 32 << 20}, ssoReq, -time.Minute,
			[]string{"sent a reply larger than 1024 KiB"}},
		{"200 KiB session token from STS", "AssumeRole", stsstub.Fault{Replace: map[string]string{"SessionToken": big}}, request(), 0,
			[]string{"STS at ", "a session token of ", "more than a shell can pass to a program (awsrole takes at most 65536)", "check AWS_ENDPOINT_URL_STS"}},
		{"200 KiB session token from the portal", "GetRoleCredentials", stsstub.Fault{Replace: map[string]string{"SessionToken": big}}, ssoReq, time.Hour,
			[]string{"IAM Identity Center portal at ", "a session token of ", "check AWS_ENDPOINT_URL_SSO"}},
		{"empty access key id", "AssumeRole", stsstub.Fault{Replace: map[string]string{"AccessKeyId": ""}}, request(), 0,
			[]string{"STS at ", "an empty access key id"}},
		{"empty secret", "AssumeRole", stsstub.Fault{Replace: map[string]string{"SecretAccessKey": ""}}, request(), 0,
			[]string{"STS at ", "an empty secret access key"}},
		{"empty session token", "AssumeRole", stsstub.Fault{Replace: map[string]string{"SessionToken": ""}}, request(), 0,
			[]string{"STS at ", "an empty session token"}},
		{"empty session token from the portal", "GetRoleCredentials", stsstub.Fault{Replace: map[string]string{"SessionToken": ""}}, ssoReq, time.Hour,
			[]string{"IAM Identity Center portal at ", "an empty session token"}},
		{"access key id with a newline", "AssumeRole", stsstub.Fault{Replace: map[string]string{"AccessKeyId": "ASIA\nexport X=1"}}, request(), 0,
			[]string{"an access key id that is not one"}},
		{"token with a space", "AssumeRole", stsstub.Fault{Replace: map[string]string{"SessionToken": "Fwo GZX"}}, request(), 0,
			[]string{"a session token with characters no token has"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ssoWorld(t)
			if tt.token != 0 {
				writeToken(t, srv, tt.token, true)
			}
			// Every attempt the SDK makes: a hostile endpoint answers
			// the same each time.
			srv.FailNext(tt.action, 3, tt.fault)
			start := time.Now()
			c, err := get(&Getter{Now: time.Now}, tt.req, userEnv())
			if err == nil {
				t.Fatalf("used the reply: key %q, secret of %d bytes, token of %d bytes", c.AccessKeyID, len(c.SecretAccessKey), len(c.SessionToken))
			}
			msg := err.Error()
			for _, w := range append(tt.want, srv.URL) {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "\n") || len(msg) > 600 || strings.Contains(msg, "FwoGZXIvYXdzEFwo") {
				t.Errorf("error is not one short line without the reply in it: %q", msg)
			}
			if d := time.Since(start); d > Timeout {
				t.Errorf("took %s", d)
			}
			n := 0
			for _, c := range srv.Calls() {
				if c.Action == tt.action {
					n++
				}
			}
			// A reply refused is not asked for again; only a connection
			// that the server's half-written reply broke may be.
			if n > 3 {
				t.Errorf("%d %s calls, want at most the SDK's 3 attempts", n, tt.action)
			}
			srv.FailNext(tt.action, 0, stsstub.Fault{})
			// The next call answers normally and is used: nothing bad was cached.
			if _, err := get(&Getter{Now: time.Now}, tt.req, userEnv()); err != nil {
				t.Errorf("after the fault: %v", err)
			}
		})
	}
}

// recordingClient keeps the request it was given.
type recordingClient struct{ got *http.Request }

func (c *recordingClient) Do(r *http.Request) (*http.Response, error) {
	c.got = r
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("ok"))}, nil
}

// writerToBody is a request body with WriteTo, as smithy-go's is.
type writerToBody struct{ io.Reader }

func (writerToBody) Close() error                         { return nil }
func (w writerToBody) WriteTo(d io.Writer) (int64, error) { return io.Copy(d, w.Reader) }

// TestRequestBodyReadOnly: the transport never sees the SDK's request
// body's WriteTo (smithy-go's answers io.EOF once closed, and net/http
// then closed the connection while a large reply was being read), and the
// SDK's own request is left as it was.
func TestRequestBodyReadOnly(t *testing.T) {
	next := &recordingClient{}
	body := writerToBody{strings.NewReader("Action=AssumeRole")}
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Body = body
	if _, err := (boundedClient{next: next}).Do(req); err != nil {
		t.Fatal(err)
	}
	if _, ok := next.got.Body.(io.WriterTo); ok {
		t.Error("the transport got a body with WriteTo")
	}
	if req.Body != io.ReadCloser(body) {
		t.Error("the SDK's request was changed")
	}
	if data, _ := io.ReadAll(next.got.Body); string(data) != "Action=AssumeRole" {
		t.Errorf("the body read through: %q", data)
	}
}
