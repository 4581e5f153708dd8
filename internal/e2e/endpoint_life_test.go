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
		if bytes.Contains(environ, []byte("\x00XDG_STATE_HOME="+*r.env["XDG_STATE_HOME"]+"\x00")) {
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
	t.Parallel()
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

// longClient starts the aws-sdk-go-v2 loop under `awsrole exec --endpoint`
// and returns a channel of its lines and its exit.
func longClient(t *testing.T, r *rig, dir string, seconds int) (lines chan string, done chan error) {
	c := goClient(t)
	cmd := exec.Command(awsroleBin, append(append([]string{"exec", "--endpoint", "--dir", dir, "--"}, c.argv...), strconv.Itoa(seconds))...)
	cmd.Dir = r.home
	cmd.Env = r.environ(map[string]*string{"PWD": sp(r.home)})
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

// next waits for the client's next line.
func next(t *testing.T, lines chan string) string {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatal("the client ended early")
		}
		return l
	case <-time.After(15 * time.Second):
		t.Fatal("no line from the client within 15s")
	}
	return ""
}

// TestEndpointKillRestart: after kill -9 of the server, the next hook call
// starts a new one on the same port with the same token (a client of the
// old one lives), and the running client recovers by itself at its next
// refresh, without a restart. `awsrole serve --stop` then ends it.
func TestEndpointKillRestart(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	r.endpointMode("refresh_before = \"10s\"\n")
	r.stub.SetSessionDuration(15 * time.Second) // the client asks the endpoint at every call
	p := r.project("p", roleDeploy, "e2e-ep-kill", "", true)
	lines, done := longClient(t, r, p, 40)
	for range 2 {
		if l := next(t, lines); !strings.HasPrefix(l, "ok ") {
			t.Fatalf("before the kill: %q", l)
		}
	}
	old := r.waitServer(0)
	tok, _ := os.ReadFile(filepath.Join(r.endpointDir(), "token"))
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
	if tok2, _ := os.ReadFile(filepath.Join(r.endpointDir(), "token")); string(tok2) != string(tok) {
		t.Errorf("the token changed while a client of the old server runs")
	}
	if v := ch["AWS_CONTAINER_CREDENTIALS_FULL_URI"]; v == nil || !strings.Contains(*v, fmt.Sprintf(":%d/", old.Port)) {
		t.Errorf("export after the kill: URI %s; stderr %q", show(v), stderr)
	}
	// The client recovers: after at most a few failures while no server
	// ran, every call succeeds.
	fails, oks := 0, 0
	for oks < 5 {
		l := next(t, lines)
		switch {
		case strings.HasPrefix(l, "ok "):
			oks++
		case oks > 0:
			t.Fatalf("a call failed after the recovery: %q", l)
		default:
			fails++
		}
	}
	if fails > 3 {
		t.Errorf("%d calls failed around the restart, want at most 3", fails)
	}
	if out, stderr, code := r.run(r.home, nil, "serve", "--stop"); code != 0 || !strings.Contains(stderr, "stopped") {
		t.Errorf("awsrole serve --stop: %d %q %q", code, out, stderr)
	}
	if alive(nu.PID) {
		t.Errorf("the server %d still runs after --stop", nu.PID)
	}
	_ = done
}

// TestEndpointIdleExit: the server stays while a process uses it, however
// long without requests, and exits after endpoint_idle once none does.
func TestEndpointIdleExit(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	r.endpointMode("endpoint_idle = \"1s\"\n")
	p := r.project("p", roleDeploy, "e2e-ep-idle", "", true)
	// The registered process runs until the test closes its stdin, not for
	// a fixed time a slow start could use up.
	cmd := exec.Command(awsroleBin, "exec", "--endpoint", "--dir", p, "--", "sh", "-c", "read -r _ || :")
	cmd.Env = r.environ(map[string]*string{"PWD": sp(r.home)})
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
