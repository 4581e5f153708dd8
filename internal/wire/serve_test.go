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

// TestServe: one call in, one reply out, for every op and every way a
// call can be wrong; no process, no AWS.
func TestServe(t *testing.T) {
	v := wire.ProtocolVersion
	for _, tt := range []struct {
		name   string
		in     string
		status int
		check  func(t *testing.T, r wire.Reply)
	}{
		{"credentials", callJSON(wire.Call{Version: v, Op: wire.OpCredentials}), 0, func(t *testing.T, r wire.Reply) {
			if r.Credentials == nil || r.Credentials.AccessKeyID != "ASIAFAKE" || r.Error != "" {
				t.Errorf("reply %+v", r)
			}
		}},
		{"credentials refused", `{"version":` + fmt.Sprint(v) + `,"op":"credentials","request":{"role_arn":"arn:aws:iam::222222222222:role/denied"}}`, 0, func(t *testing.T, r wire.Reply) {
			if r.Error != "assume role: AccessDenied: not allowed" || r.SignIn || r.Credentials != nil {
				t.Errorf("the error must come back on one line, and alone: %+v", r)
			}
		}},
		{"login", callJSON(wire.Call{Version: v, Op: wire.OpLogin, Login: wire.Login{Session: "corp"}}), 0, func(t *testing.T, r wire.Reply) {
			if r.Error != "" || r.SignIn {
				t.Errorf("reply %+v", r)
			}
		}},
		{"login given up", callJSON(wire.Call{Version: v, Op: wire.OpLogin, Login: wire.Login{Session: "cancelled"}}), 0, func(t *testing.T, r wire.Reply) {
			if !r.SignIn || !strings.Contains(r.Error, "Ctrl-C") {
				t.Errorf("a sign-in failure must say so (SignIn): %+v", r)
			}
		}},
		{"signin", callJSON(wire.Call{Version: v, Op: wire.OpSignin, Signin: wire.Signin{TokenURL: "u"}}), 0, func(t *testing.T, r wire.Reply) {
			if r.SigninToken != "token-for-u" {
				t.Errorf("reply %+v", r)
			}
		}},
		{"assignments", callJSON(wire.Call{Version: v, Op: wire.OpAssignments, Login: wire.Login{Session: "corp"}}), 0, func(t *testing.T, r wire.Reply) {
			if len(r.Assignments) != 1 || r.Assignments[0].RoleName != "Deploy" {
				t.Errorf("reply %+v", r)
			}
		}},
		{"unknown op", callJSON(wire.Call{Version: v, Op: "dance"}), 0, func(t *testing.T, r wire.Reply) {
			if r.Error != "awsrole-sts: unknown operation dance" {
				t.Errorf("reply %+v", r)
			}
		}},
		{"older caller", callJSON(wire.Call{Version: v - 1, Op: wire.OpCredentials}), 2, func(t *testing.T, r wire.Reply) {
			if want := fmt.Sprintf("awsrole-sts speaks protocol version %d, the caller %d; install awsrole and awsrole-sts from the same release", v, v-1); r.Error != want {
				t.Errorf("error %q, want %q", r.Error, want)
			}
			if r.Credentials != nil {
				t.Error("a call of another version was carried out")
			}
		}},
		{"no version", `{"op":"credentials"}`, 2, func(t *testing.T, r wire.Reply) {
			if !strings.Contains(r.Error, "the caller 0") {
				t.Errorf("reply %+v", r)
			}
		}},
		{"malformed", `{"version":`, 2, func(t *testing.T, r wire.Reply) {
			if !strings.HasPrefix(r.Error, "awsrole-sts: bad request: ") {
				t.Errorf("reply %+v", r)
			}
		}},
		{"empty", ``, 2, func(t *testing.T, r wire.Reply) {
			if !strings.HasPrefix(r.Error, "awsrole-sts: bad request: ") {
				t.Errorf("reply %+v", r)
			}
		}},
		{"not an object", `"credentials"`, 2, func(t *testing.T, r wire.Reply) {
			if !strings.HasPrefix(r.Error, "awsrole-sts: bad request: ") {
				t.Errorf("reply %+v", r)
			}
		}},
		{"oversize", `{"version":` + fmt.Sprint(v) + `,"op":"credentials","request":{"policy":"` + strings.Repeat("x", wire.MaxCall) + `"}}`, 2, func(t *testing.T, r wire.Reply) {
			if !strings.HasPrefix(r.Error, "awsrole-sts: bad request: ") || r.Credentials != nil {
				t.Errorf("a call over MaxCall was read: %+v", r)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			status := wire.Serve(context.Background(), strings.NewReader(tt.in), &out, fakeHandler)
			if status != tt.status {
				t.Errorf("status %d, want %d", status, tt.status)
			}
			if strings.Count(out.String(), "\n") != 1 {
				t.Fatalf("want one reply line, got %q", out.String())
			}
			var r wire.Reply
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatalf("reply is not JSON: %v: %q", err, out.String())
			}
			if r.Version != v {
				t.Errorf("reply version %d, want %d", r.Version, v)
			}
			tt.check(t, r)
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
