package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/engine"
	"github.com/awsrole/awsrole/internal/transition"
)

// TestExec: the environment `awsrole exec` gives its command — the keys or
// the endpoint, the user's variables that would steer SDKs away removed —
// and the snapshot of the user's own originals it points at.
func TestExec(t *testing.T) {
	unset := "<unset>"
	for _, tc := range []struct {
		name         string
		userEndpoint bool  // credentials = "endpoint" in the user config
		asked        bool  // --endpoint
		noEndpoint   bool  // the engine has no endpoint to start
		epFail       error // what starting the endpoint fails with
		fromA        bool  // the calling shell has A's role active
		want         map[string]string
		notice       string
		err          string
	}{
		{name: "keys",
			want: map[string]string{"AWS_ACCESS_KEY_ID": "ASIAb", "AWSROLE_ARN": roleB, "AWS_PROFILE": unset, "AWS_CONTAINER_CREDENTIALS_FULL_URI": unset}},
		{name: "keys, from a shell in another project", fromA: true,
			want: map[string]string{"AWS_ACCESS_KEY_ID": "ASIAb", "AWSROLE_ARN": roleB, "AWSROLE_DIR": "b", "AWS_PROFILE": unset}},
		{name: "endpoint asked", asked: true,
			want: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:4242/v1/b", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/state/endpoint/tokens/4242",
				"AWS_ACCESS_KEY_ID": unset, "AWS_SECRET_ACCESS_KEY": unset, "AWSROLE_ARN": roleB}},
		{name: "endpoint from the user config", userEndpoint: true,
			want: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:4242/v1/b", "AWS_ACCESS_KEY_ID": unset}},
		{name: "endpoint asked and failing", asked: true, epFail: errors.New("listen: address already in use"),
			err: "credential endpoint: listen: address already in use"},
		{name: "endpoint asked, none to start", asked: true, noEndpoint: true,
			err: "credential endpoint: no credential endpoint to start"},
		{name: "endpoint from the user config failing", userEndpoint: true, epFail: errors.New("listen: address already in use"),
			want:   map[string]string{"AWS_ACCESS_KEY_ID": "ASIAb", "AWS_CONTAINER_CREDENTIALS_FULL_URI": unset},
			notice: "awsrole: listen: address already in use; using environment credentials for aws\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newFailWorld(t)
			ep := &fakeEndpoint{users: map[int]string{}, fail: tc.epFail}
			if !tc.noEndpoint {
				w.e.Endpoint = ep
			}
			if tc.userEndpoint {
				conf := filepath.Join(w.home, ".config", "awsrole", "config.toml")
				if err := os.MkdirAll(filepath.Dir(conf), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(conf, []byte("credentials = \"endpoint\"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tc.fromA {
				w.cd(t, w.a)
			}
			var notice strings.Builder
			w.e.Notice = &notice
			var environ []string
			for k, v := range w.env {
				environ = append(environ, k+"="+v)
			}
			slices.Sort(environ)
			environ = append(environ, "NOT A VARIABLE")
			pid := w.pid + 1
			got, err := w.e.Exec(context.Background(), w.b, environ, engine.ExecOptions{PID: pid, Endpoint: tc.asked, Command: "aws"})
			if notice.String() != tc.notice {
				t.Errorf("notice %q, want %q", notice.String(), tc.notice)
			}
			if tc.err != "" {
				if err == nil || err.Error() != tc.err || got != nil {
					t.Fatalf("Exec = %q, %v; want the error %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			env := map[string]string{}
			for _, kv := range got {
				k, v, ok := strings.Cut(kv, "=")
				if _, dup := env[k]; dup && ok {
					t.Errorf("%s given twice", k)
				}
				env[k] = v
			}
			if _, ok := env["NOT A VARIABLE"]; !ok {
				t.Error("an entry that is not a variable was dropped")
			}
			for name, want := range tc.want {
				if want == "b" {
					want = w.b
				}
				v, ok := env[name]
				if want == unset && ok || want != unset && v != want {
					t.Errorf("%s = %q (set %v), want %s", name, v, ok, want)
				}
			}
			if registered := ep.users[pid] == roleB; registered != (tc.asked || tc.userEndpoint) && tc.epFail == nil {
				t.Errorf("registered with the endpoint: %v", registered)
			}
			snap, err := w.stores.State.Load(env[transition.StateVar])
			if err != nil {
				t.Fatalf("the command's snapshot: %v", err)
			}
			if snap.PID != pid || snap.File != filepath.Join(w.b, ".awsrole.toml") || snap.RoleARN != roleB || !snap.Expiration.Equal(w.now.Add(time.Hour)) {
				t.Errorf("snapshot of process %d for %s (%s), expiring %s; want B's for process %d", snap.PID, snap.RoleARN, snap.File, snap.Expiration, pid)
			}
			for name, want := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIAUSER", "AWS_SECRET_ACCESS_KEY": "usersecret", "AWS_PROFILE": "corp"} {
				if v := snap.Originals[name]; v == nil || *v != want {
					t.Errorf("snapshot: original %s = %v, want the user's own %q", name, v, want)
				}
			}
			if v, ok := snap.Originals["AWS_SESSION_TOKEN"]; !ok || v != nil {
				t.Errorf("snapshot: original AWS_SESSION_TOKEN = %v (saved %v), want saved as unset", v, ok)
			}
			if len(snap.Applied) == 0 {
				t.Error("snapshot: nothing applied")
			}
		})
	}
}
