package endpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/state"
	"github.com/awsrole/awsrole/internal/transition"
)

// startTimeout bounds how long a shell waits for a server to start, or
// for another shell that is starting one.
const startTimeout = 5 * time.Second

// ReadyFD is the descriptor on which `awsrole serve --ready-fd` tells its
// starter it listens ("ok") or why it cannot.
const ReadyFD = 3

// Healthy returns the running server and the file that holds its token.
func (store Store) Healthy() (Info, string, bool) {
	i, ok := store.Running()
	if !ok {
		return Info{}, "", false
	}
	if _, err := store.ReadToken(i.Port); err != nil {
		return Info{}, "", false
	}
	return i, store.TokenPath(i.Port), true
}

// Ensure returns the running server and its token file, starting `exe serve`
// detached (its own session, stdio on /dev/null) in environ when none
// answers. A lock makes shells that start one at the same moment start one.
func (store Store) Ensure(exe string, environ []string) (Info, string, error) {
	if i, tok, ok := store.Healthy(); ok {
		return i, tok, nil
	}
	if err := privfile.Dir(store.Dir); err != nil {
		return Info{}, "", err
	}
	unlock, err := privfile.Lock(context.Background(), store.startLockPath(), startTimeout)
	if errors.Is(err, privfile.ErrBusy) {
		return Info{}, "", fmt.Errorf("another shell has been starting the credential endpoint for %s", startTimeout)
	}
	if err != nil {
		return Info{}, "", err
	}
	defer unlock()
	if i, tok, ok := store.Healthy(); ok {
		return i, tok, nil
	}
	if err := start(exe, environ); err != nil {
		return Info{}, "", err
	}
	if i, tok, ok := store.Healthy(); ok {
		return i, tok, nil
	}
	return Info{}, "", errors.New("the credential endpoint started but does not answer")
}

// closeOnExec marks every descriptor above stderr close-on-exec: one this
// process inherited without the flag (a shell's, a terminal) would
// otherwise stay open in the server for hours.
func closeOnExec() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

func start(exe string, environ []string) error {
	closeOnExec()
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command(exe, "serve", "--ready-fd", fmt.Sprint(ReadyFD))
	cmd.Env = environ
	cmd.Dir = "/"
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return fmt.Errorf("start %s serve: %w", exe, err)
	}
	_ = cmd.Process.Release()
	// The answer is the first line, taken once the server has closed its
	// end: a shell that returns has no descriptor left in the server.
	line := make(chan string, 1)
	go func() {
		all, _ := io.ReadAll(io.LimitReader(r, 64<<10))
		s, _, _ := strings.Cut(string(all), "\n")
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		switch {
		case s == "ok":
			return nil
		case s == "":
			return errors.New("the credential endpoint exited at start")
		}
		return errors.New(s)
	case <-time.After(startTimeout):
		return fmt.Errorf("the credential endpoint did not start within %s", startTimeout)
	}
}

// ServerEnv is environ with the managed variables set to the user's own
// (originals) and awsrole's state pointer removed: the server renews
// from the user's sources, never from what awsrole exported.
func ServerEnv(environ []string, originals map[string]*string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if _, managed := originals[name]; managed || name == transition.StateVar {
			continue
		}
		out = append(out, kv)
	}
	for _, name := range transition.Names(originals) {
		if v := originals[name]; v != nil {
			out = append(out, name+"="+*v)
		}
	}
	return out
}

// Starter registers roles with the endpoint, starting it when needed.
type Starter struct {
	Store   Store
	Exe     string   // the awsrole binary
	Environ []string // the calling process's environment
	Cache   credcache.Cache
}

// Serve makes sure a server runs, registers req (for the project file cfg
// as it was approved) for pid and returns the URI a process uses it with
// and the file its token is read from.
func (st Starter) Serve(req credreq.Request, src credreq.Source, cfg *dirconfig.Config, pid int, originals map[string]*string) (uri, tokenFile string, err error) {
	i, tokenFile, err := st.Store.Ensure(st.Exe, ServerEnv(st.Environ, originals))
	if err != nil {
		return "", "", err
	}
	id, err := st.Store.Register(st.Cache, req, src, cfg, pid)
	if err != nil {
		return "", "", err
	}
	return i.URL() + "/v1/" + id, tokenFile, nil
}

// Release says pid no longer uses the endpoint.
func (st Starter) Release(pid int) { st.Store.Release(pid) }

// Running is the server that answers now, its base URL and token file.
func (st Starter) Running() (pid int, url, tokenFile string, ok bool) {
	i, tok, ok := st.Store.Healthy()
	if !ok {
		return 0, "", "", false
	}
	return i.PID, i.URL(), tok, true
}

// Stop ends the running server and waits until it is gone.
func (store Store) Stop() (Info, error) {
	i, ok := store.Running()
	if !ok {
		return Info{}, ErrNotRunning
	}
	if err := syscall.Kill(i.PID, syscall.SIGTERM); err != nil {
		return i, fmt.Errorf("stop the credential endpoint (pid %d): %w", i.PID, err)
	}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if !state.Alive(i.PID) || zombie(i.PID) {
			return i, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return i, fmt.Errorf("the credential endpoint (pid %d) did not stop within %s", i.PID, startTimeout)
}
