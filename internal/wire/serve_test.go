package wire_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/wire"
)

// fakeHandler answers each op as awsrole-sts's would, without AWS.
func fakeHandler(_ context.Context, call wire.Call) (wire.Reply, error) {
	switch call.Op {
	case wire.OpCredentials:
		if call.Request.RoleARN == "arn:aws:iam::222222222222:role/denied" {
			return wire.Reply{}, errors.New("assume role: AccessDenied:\n  not   allowed")
		}
		return wire.Reply{Credentials: &credcache.Credentials{AccessKeyID: "ASIAFAKE", SecretAccessKey: "s", SessionToken: "t",
			Expiration: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), RoleARN: call.Request.RoleARN}}, nil
	case wire.OpLogin:
		if call.Login.Session == "cancelled" {
			return wire.Reply{}, fmt.Errorf("sign-in: %w", &wire.SignInError{Msg: "sign-in given up with Ctrl-C"})
		}
		return wire.Reply{}, nil
	case wire.OpSignin:
		return wire.Reply{SigninToken: "token-for-" + call.Signin.TokenURL}, nil
	case wire.OpAssignments:
		return wire.Reply{Assignments: []wire.Assignment{{AccountID: "222222222222", RoleName: "Deploy"}}}, nil
	}
	return wire.Reply{}, errors.New("awsrole-sts: unknown operation " + string(call.Op))
}

func callJSON(c wire.Call) string {
	data, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return string(data)
}

// want is what a reply must hold: err is its error's start ("" none).
type want struct {
	status      int
	err         string
	signIn      bool
	key         string // the credentials' access key id
	token       string
	assignments int
}

func (w want) check(t *testing.T, status int, r wire.Reply) {
	t.Helper()
	if status != w.status {
		t.Errorf("status %d, want %d", status, w.status)
	}
	if r.Version != wire.ProtocolVersion {
		t.Errorf("reply version %d, want %d", r.Version, wire.ProtocolVersion)
	}
	if !strings.HasPrefix(r.Error, w.err) || (w.err == "") != (r.Error == "") || r.SignIn != w.signIn {
		t.Errorf("error %q (sign-in %v), want %q (sign-in %v)", r.Error, r.SignIn, w.err, w.signIn)
	}
	key := ""
	if r.Credentials != nil {
		key = r.Credentials.AccessKeyID
	}
	if key != w.key || r.SigninToken != w.token || len(r.Assignments) != w.assignments {
		t.Errorf("reply %+v, want %+v", r, w)
	}
}

// TestServe: one call in, one reply out, for every op and every way a
// call can be wrong; no process, no AWS.
func TestServe(t *testing.T) {
	v := wire.ProtocolVersion
	badRequest := "awsrole-sts: bad request: "
	for _, tt := range []struct {
		name string
		in   string
		want want
	}{
		{"credentials", callJSON(wire.Call{Version: v, Op: wire.OpCredentials}), want{key: "ASIAFAKE"}},
		// The error comes back on one line, and alone.
		{"credentials refused", `{"version":` + fmt.Sprint(v) + `,"op":"credentials","request":{"role_arn":"arn:aws:iam::222222222222:role/denied"}}`,
			want{err: "assume role: AccessDenied: not allowed"}},
		{"login", callJSON(wire.Call{Version: v, Op: wire.OpLogin, Login: wire.Login{Session: "corp"}}), want{}},
		// A sign-in failure says so, for the prompts after it.
		{"login given up", callJSON(wire.Call{Version: v, Op: wire.OpLogin, Login: wire.Login{Session: "cancelled"}}),
			want{err: "sign-in: sign-in given up with Ctrl-C", signIn: true}},
		{"signin", callJSON(wire.Call{Version: v, Op: wire.OpSignin, Signin: wire.Signin{TokenURL: "u"}}), want{token: "token-for-u"}},
		{"assignments", callJSON(wire.Call{Version: v, Op: wire.OpAssignments, Login: wire.Login{Session: "corp"}}), want{assignments: 1}},
		{"unknown op", callJSON(wire.Call{Version: v, Op: "dance"}), want{err: "awsrole-sts: unknown operation dance"}},
		// A call of another version is refused, never carried out.
		{"older caller", callJSON(wire.Call{Version: v - 1, Op: wire.OpCredentials}),
			want{status: 2, err: fmt.Sprintf("awsrole-sts speaks protocol version %d, the caller %d; install awsrole and awsrole-sts from the same release", v, v-1)}},
		{"no version", `{"op":"credentials"}`, want{status: 2, err: fmt.Sprintf("awsrole-sts speaks protocol version %d, the caller 0;", v)}},
		{"malformed", `{"version":`, want{status: 2, err: badRequest}},
		{"empty", ``, want{status: 2, err: badRequest}},
		{"not an object", `"credentials"`, want{status: 2, err: badRequest}},
		{"oversize", `{"version":` + fmt.Sprint(v) + `,"op":"credentials","request":{"policy":"` + strings.Repeat("x", wire.MaxCall) + `"}}`,
			want{status: 2, err: badRequest}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			status := wire.Serve(context.Background(), strings.NewReader(tt.in), &out, fakeHandler)
			if strings.Count(out.String(), "\n") != 1 {
				t.Fatalf("want one reply line, got %q", out.String())
			}
			var r wire.Reply
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatalf("reply is not JSON: %v: %q", err, out.String())
			}
			tt.want.check(t, status, r)
		})
	}
}

// failingWriter refuses every write, as a closed stdout does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }

func TestServeUnwritableReply(t *testing.T) {
	in := callJSON(wire.Call{Version: wire.ProtocolVersion, Op: wire.OpSignin})
	if status := wire.Serve(context.Background(), strings.NewReader(in), failingWriter{}, fakeHandler); status != 1 {
		t.Errorf("status %d, want 1", status)
	}
}
