package engine_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/engine"
)

// brokenFiles make the nearest project file of dir one awsrole cannot read
// or use: its own type, or a policy_file that is not a file.
var brokenFiles = []struct {
	name  string
	make  func(t *testing.T, dir string)
	allow bool // the user approved the file's content before it broke
}{
	{"policy_file a directory", func(t *testing.T, dir string) {
		write(t, dir, dirconfig.FileName, "role_arn = \""+roleB+"\"\npolicy_file = \"docs\"\n")
		mkdir(t, filepath.Join(dir, "docs"))
	}, false},
	{"policy_file a directory, approved", func(t *testing.T, dir string) {
		write(t, dir, dirconfig.FileName, "role_arn = \""+roleB+"\"\npolicy_file = \"docs\"\n")
		mkdir(t, filepath.Join(dir, "docs"))
	}, true},
	{"policy_file a FIFO, approved", func(t *testing.T, dir string) {
		write(t, dir, dirconfig.FileName, "role_arn = \""+roleB+"\"\npolicy_file = \"p.json\"\n")
		mkfifo(t, filepath.Join(dir, "p.json"))
	}, true},
	{"a directory", func(t *testing.T, dir string) { mkdir(t, filepath.Join(dir, dirconfig.FileName)) }, false},
	{"a FIFO", func(t *testing.T, dir string) { mkfifo(t, filepath.Join(dir, dirconfig.FileName)) }, false},
	{"a symlink loop", func(t *testing.T, dir string) {
		if err := os.Symlink(dirconfig.FileName, filepath.Join(dir, dirconfig.FileName)); err != nil {
			t.Fatal(err)
		}
	}, false},
	{"a dangling symlink", func(t *testing.T, dir string) {
		if err := os.Symlink("nowhere", filepath.Join(dir, dirconfig.FileName)); err != nil {
			t.Fatal(err)
		}
	}, false},
	{"huge", func(t *testing.T, dir string) {
		write(t, dir, dirconfig.FileName, "role_arn = \""+roleB+"\"\n"+strings.Repeat("#", dirconfig.MaxFileSize))
	}, false},
	{"binary garbage, approved", func(t *testing.T, dir string) {
		write(t, dir, dirconfig.FileName, "\x00\xff\xfe role_arn")
	}, true},
}

// TestBrokenFileLeaves: a shell holding project A's role that moves to a
// directory whose nearest file is broken (a directory, a FIFO, a policy_file
// that is a directory: once a nil dereference at every prompt), approved
// or not, leaves A with A's originals restored, and hears at most one
// line; nothing waits.
func TestBrokenFileLeaves(t *testing.T) {
	for _, tc := range brokenFiles {
		t.Run(tc.name, func(t *testing.T) {
			w := newFailWorld(t)
			var notices bytes.Buffer
			w.e.Notice = &notices
			evil := filepath.Join(w.home, "evil")
			mkdir(t, evil)
			tc.make(t, evil)
			if tc.allow {
				if err := allowPath(filepath.Join(evil, dirconfig.FileName)); err != nil {
					t.Fatal(err)
				}
			}
			w.cd(t, w.a)
			if w.env["AWSROLE_ARN"] != roleA {
				t.Fatalf("in A: AWSROLE_ARN = %q", w.env["AWSROLE_ARN"])
			}
			res := exportWithin(t, w, evil)
			w.apply(res)
			w.wantLeft(t, "after moving into "+tc.name)
			said := strings.TrimSpace(notices.String())
			if res.Err != nil {
				said = strings.TrimSpace(said + "\n" + res.Err.Error())
			}
			if said == "" || strings.Contains(said, "\n") {
				t.Errorf("said %q; want one line", said)
			}
		})
	}
}

// TestPanicIsAFailure: a panic inside a hook call comes back as an error of
// one line naming where, holding nothing of the values at hand; no output
// is produced.
func TestPanicIsAFailure(t *testing.T) {
	w := newFailWorld(t)
	w.e.Creds = fakeCreds(func(req credreq.Request) (credcache.Credentials, error) {
		var m map[string]*string
		*m["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI" // a nil dereference, next to a secret
		return credcache.Credentials{}, nil
	})
	res, err := w.e.Export(context.Background(), engine.Input{Env: w.env, PWD: w.a, PID: w.pid})
	if err == nil || res != nil {
		t.Fatalf("Export = %+v, %v; want an error and nothing to change", res, err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "internal error (runtime error: invalid memory address or nil pointer dereference) in engine_test.TestPanicIsAFailure") ||
		strings.Contains(msg, "wJalr") || strings.Contains(msg, "\n") || strings.Contains(msg, "goroutine") {
		t.Errorf("error %q: want one line naming the fault and the function, nothing else", msg)
	}
	// A panic that is not the runtime's says only that it was one.
	w.e.Creds = fakeCreds(func(req credreq.Request) (credcache.Credentials, error) { panic("secret wJalrXUtnFEMI") })
	state := w.env
	_, err = w.e.Export(context.Background(), engine.Input{Env: state, PWD: w.b, PID: w.pid + 1})
	if err == nil || strings.Contains(err.Error(), "wJalr") || !strings.Contains(err.Error(), "internal error (a panic)") {
		t.Errorf("error %v: want an internal error that repeats nothing", err)
	}
}

// exportWithin runs one hook call in dir, failing if it takes longer than
// a loaded machine could need (a FIFO read that waits never returns).
func exportWithin(t *testing.T, w *failWorld, dir string) *engine.Result {
	t.Helper()
	type result struct {
		res *engine.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := w.e.Export(context.Background(), engine.Input{Env: w.env, PWD: dir, PID: w.pid})
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("export in %s: %v (nothing would change: the role stays)", dir, r.err)
		}
		return r.res
	case <-time.After(time.Minute):
		t.Fatalf("export in %s did not return within a minute", dir)
		return nil
	}
}

// apply sets the environment a shell holds after evaluating res.
func (w *failWorld) apply(res *engine.Result) {
	next := map[string]string{}
	for k, v := range w.env {
		next[k] = v
	}
	for k, v := range res.Changes {
		if v == nil {
			delete(next, k)
		} else {
			next[k] = *v
		}
	}
	w.env = next
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
}
