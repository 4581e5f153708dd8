package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/testrig"
)

// serveProcesses lists the servers of this rig (`awsrole serve` becomes
// `awsrole-sts serve`), by the state dir in their environment.
func (r *rig) serveProcesses() []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		args := strings.Split(string(cmdline), "\x00")
		if len(args) < 2 || filepath.Base(args[0]) != "awsrole-sts" || args[1] != "serve" {
			continue
		}
		// Entries end in NUL; the first has none before it, and the
		// server's order is its map's (XDG_STATE_HOME first in about one
		// start in twenty): match whole entries from a leading NUL.
		environ, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		environ = append([]byte{0}, environ...)
		if bytes.Contains(environ, []byte("\x00XDG_STATE_HOME="+*r.Env["XDG_STATE_HOME"]+"\x00")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// exportJSON runs the hook's `awsrole export json` in dir for a shell of
// process pid and returns the changes.
func (r *rig) exportJSON(dir string, pid int) (map[string]*string, string) {
	out, stderr, code := r.run(dir, nil, "export", "json", "--pid", strconv.Itoa(pid))
	var changes map[string]*string
	if code != 0 || json.Unmarshal([]byte(out), &changes) != nil {
		r.t.Fatalf("awsrole export json: %d %q %q", code, out, stderr)
	}
	return changes, stderr
}

// TestEndpointConcurrentStart: shells entering at the same moment start
// one server between them, detached: no descriptor of the shell (its
// terminal, the pipe the hook reads) stays open in it.
func TestEndpointConcurrentStart(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, nil)
	r.endpointMode("")
	p := r.project("p", roleDeploy, "e2e-ep-conc", "", true)
	const n = 6
	uris := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, stderr := r.exportJSON(p, os.Getpid())
			if v := ch["AWS_CONTAINER_CREDENTIALS_FULL_URI"]; v != nil {
				uris[i] = *v
			} else {
				t.Errorf("shell %d: no URI; stderr %q", i, stderr)
			}
		}()
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if uris[i] != uris[0] {
			t.Errorf("shell %d got %q, shell 0 %q", i, uris[i], uris[0])
		}
	}
	info := r.waitServer(0)
	if pids := r.serveProcesses(); len(pids) != 1 || pids[0] != info.PID {
		t.Errorf("serve processes %v, want exactly the recorded %d", pids, info.PID)
	}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", info.PID))
	for _, fd := range fds {
		link, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", info.PID, fd.Name()))
		if strings.HasPrefix(link, "/dev/pts") || strings.HasPrefix(link, "/dev/tty") || strings.HasPrefix(link, "pipe:") {
			t.Errorf("the server holds fd %s → %s of its starter", fd.Name(), link)
		}
	}
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", info.PID)); err == nil {
		// pid (comm) state ppid pgrp session ...
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 4 || f[3] != strconv.Itoa(info.PID) {
			t.Errorf("the server's session is %v, want its own (%d)", f[3:4], info.PID)
		}
	}
}

// longClient starts the loop of client c under `awsrole exec --endpoint`
// and returns a channel of its lines and its exit.
func longClient(t *testing.T, r *rig, dir string, c client, seconds int) (lines chan string, done chan error) {
	cmd := exec.Command(awsroleBin, append(append([]string{"exec", "--endpoint", "--dir", dir, "--"}, c.argv...), strconv.Itoa(seconds))...)
	cmd.Dir = r.Home
	cmd.Env = r.Environ(map[string]*string{"PWD": sp(r.Home)})
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines, done = make(chan string, 1000), make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		err := cmd.Wait()
		if err != nil {
			err = fmt.Errorf("%v: %s", err, stderr.String())
		}
		done <- err
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return lines, done
}

// drain drops the lines the client has printed so far.
func drain(lines chan string) {
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

// next waits for the client's next line.
func next(t *testing.T, lines chan string) string {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatal("the client ended early")
		}
		return l
	case <-time.After(45 * time.Second):
		// A bound, not a measure: with every e2e test running at once on
		// two cores, a client's next call has taken over 15 s.
		t.Fatal("no line from the client within 45s")
	}
	return ""
}

// TestEndpointKillRestart: after kill -9 of the server, the next hook call
// starts a new one on the same port with a new token: a token captured
// before (by whoever held the freed port) is refused, and running clients
// (aws-sdk-go-v2, botocore) recover by themselves at their next refresh,
// reading the new token from the file they were given. `awsrole serve
// --stop` then ends it and removes the token file.
func TestEndpointKillRestart(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, nil)
	r.endpointMode("refresh_before = \"10s\"\n")
	r.Stub.SetSessionDuration(15 * time.Second) // the clients ask the endpoint at every call
	p := r.project("p", roleDeploy, "e2e-ep-kill", "", true)
	type running struct {
		name  string
		lines chan string
	}
	var runs []running
	for _, c := range []client{goClient(t), botocoreClient(t)} {
		if c.skip != "" {
			t.Run(c.name, func(t *testing.T) { testrig.Require(t, c.skip) })
			continue
		}
		lines, _ := longClient(t, r, p, c, 240)
		runs = append(runs, running{c.name, lines})
	}
	for _, run := range runs {
		for range 2 {
			if l := next(t, run.lines); !strings.HasPrefix(l, "ok ") {
				t.Fatalf("%s before the kill: %q", run.name, l)
			}
		}
	}
	old := r.waitServer(0)
	captured := r.token(old.Port)
	if len(captured) != 64 {
		t.Fatalf("token file of port %d: %q", old.Port, captured)
	}
	syscall.Kill(old.PID, syscall.SIGKILL)
	for deadline := time.Now().Add(10 * time.Second); alive(old.PID); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the server %d still runs 10s after kill -9", old.PID)
		}
	}
	// The next prompt of a shell in the project.
	ch, stderr := r.exportJSON(p, os.Getpid())
	nu := r.waitServer(old.PID)
	if nu.Port != old.Port {
		t.Errorf("new server on port %d, the old one was on %d: running clients cannot find it", nu.Port, old.Port)
	}
	uri := ch["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
	if uri == nil || !strings.Contains(*uri, fmt.Sprintf(":%d/", old.Port)) {
		t.Fatalf("export after the kill: URI %s; stderr %q", show(uri), stderr)
	}
	if tok := r.token(nu.Port); tok == captured || len(tok) != 64 {
		t.Errorf("token after the restart %q, want a new one (the old was %q)", tok, captured)
	}
	if status, body := getEndpoint(t, *uri, captured); status != 401 {
		t.Errorf("the token captured before the restart: %d %s, want 401", status, body)
	}
	if status, body := getEndpoint(t, *uri, r.token(nu.Port)); status != 200 {
		t.Errorf("the new token: %d %s, want 200", status, body)
	}
	// Each client recovers: after at most a few failures while no server
	// ran, every call succeeds. What a client printed before the restart
	// was complete says nothing of the recovery: an "ok" from credentials
	// it still held, then a failure once they ran out, is the dead window,
	// not a relapse (seen under load), so those lines are dropped.
	for _, run := range runs {
		drain(run.lines)
		fails, oks := 0, 0
		for oks < 5 {
			l := next(t, run.lines)
			switch {
			case strings.HasPrefix(l, "ok "):
				oks++
			case oks > 0:
				t.Fatalf("%s: a call failed after the recovery: %q", run.name, l)
			default:
				fails++
			}
		}
		if fails > 3 {
			t.Errorf("%s: %d calls failed around the restart, want at most 3", run.name, fails)
		}
	}
	if out, stderr, code := r.run(r.Home, nil, "serve", "--stop"); code != 0 || !strings.Contains(stderr, "stopped") {
		t.Errorf("awsrole serve --stop: %d %q %q", code, out, stderr)
	}
	if alive(nu.PID) {
		t.Errorf("the server %d still runs after --stop", nu.PID)
	}
	if tok := r.token(nu.Port); tok != "" {
		t.Errorf("the stopped server left its token file")
	}
}

// TestEndpointRevoked: the endpoint stops serving a project's role, to
// any holder of the token, once its file is denied, edited or removed.
func TestEndpointRevoked(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, nil)
	r.endpointMode("")
	for _, tc := range []struct {
		name   string
		change func(dir string)
		want   string
	}{
		{"deny", func(dir string) { r.awsrole(dir, "deny", dir) }, "is denied"},
		{"edit", func(dir string) {
			r.write(filepath.Join(dir, ".awsrole.toml"), "role_arn = \""+roleAudit+"\"\n")
		}, "has changed since it was approved"},
		{"edit, approved again", func(dir string) {
			r.write(filepath.Join(dir, ".awsrole.toml"), "role_arn = \""+roleAudit+"\"\n")
			r.awsrole(dir, "allow", dir)
		}, "has changed since it was approved"},
		{"file removed", func(dir string) { os.Remove(filepath.Join(dir, ".awsrole.toml")) }, "does not exist"},
		{"project removed", func(dir string) { os.RemoveAll(dir) }, "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := r.project(strings.ReplaceAll(tc.name, " ", "-"), roleDeploy, "e2e-ep-revoke", "", true)
			ch, stderr := r.exportJSON(p, os.Getpid())
			uri, file := ch["AWS_CONTAINER_CREDENTIALS_FULL_URI"], ch["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
			if uri == nil || file == nil {
				t.Fatalf("export: %v; stderr %q", ch, stderr)
			}
			tok, _ := os.ReadFile(*file)
			// The precondition, not the property: a server just started
			// on a loaded machine has closed a first connection (EOF).
			status, body := getEndpoint(t, *uri, string(tok))
			for try := 0; status == 0 && try < 5; try++ {
				time.Sleep(time.Second)
				status, body = getEndpoint(t, *uri, string(tok))
			}
			if status != 200 {
				t.Fatalf("before: %d %s", status, body)
			}
			tc.change(p)
			for n := range 2 {
				status, body := getEndpoint(t, *uri, string(tok))
				if status != 403 || !strings.Contains(body, tc.want) || !strings.Contains(body, "no longer serves") {
					t.Errorf("request %d after %s: %d %s, want 403 saying %q", n, tc.name, status, body, tc.want)
				}
			}
		})
	}
}

// TestEndpointIdleExit: the server stays while a process uses it, however
// long without requests, and exits after endpoint_idle once none does.
func TestEndpointIdleExit(t *testing.T) {
	busy.Parallel(t)
	r := newRig(t, nil)
	r.endpointMode("endpoint_idle = \"1s\"\n")
	p := r.project("p", roleDeploy, "e2e-ep-idle", "", true)
	// The registered process runs until the test closes its stdin, not for
	// a fixed time a slow start could use up.
	cmd := exec.Command(awsroleBin, "exec", "--endpoint", "--dir", p, "--", "sh", "-c", "read -r _ || :")
	cmd.Env = r.Environ(map[string]*string{"PWD": sp(r.Home)})
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill() })
	info := r.waitServer(0)
	// Nothing to wait for here: the server must not exit, however long.
	time.Sleep(3 * time.Second) // idle thrice over, but sh still uses it
	if !alive(info.PID) {
		t.Fatalf("the server exited while a registered process ran")
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for alive(info.PID) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if alive(info.PID) {
		t.Fatalf("the server still runs 10s after its last user left (endpoint_idle 1s)")
	}
	if _, err := os.Stat(filepath.Join(r.endpointDir(), "server.json")); err == nil {
		t.Errorf("server.json left behind")
	}
	if out, _, _ := r.run(p, nil, "status"); !strings.Contains(out, "server:  not running") {
		t.Errorf("status after the idle exit:\n%s", out)
	}
}
