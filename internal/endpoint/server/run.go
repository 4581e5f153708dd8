package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/gofrs/flock"

	"github.com/awsrole/awsrole/internal/endpoint"
	"github.com/awsrole/awsrole/internal/privfile"
)

// AlreadyRunning is Run's answer when another server holds the lock.
type AlreadyRunning struct{ Info endpoint.Info }

func (e *AlreadyRunning) Error() string {
	return fmt.Sprintf("the credential endpoint is already running (pid %d, port %d)", e.Info.PID, e.Info.Port)
}

// Run serves until ctx ends or the server has been idle for idle: no
// request and no live process registered as using it. ready is called
// once the server listens and has recorded itself (or with the error).
func Run(ctx context.Context, s *Server, idle time.Duration, ready func(error)) error {
	if ready == nil {
		ready = func(error) {}
	}
	err := run(ctx, s, idle, ready)
	if err != nil {
		ready(err)
	}
	return err
}

func run(ctx context.Context, s *Server, idle time.Duration, ready func(error)) error {
	if err := privfile.Dir(s.Store.Dir); err != nil {
		return err
	}
	lock, err := lockServer(ctx, s.Store)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	// What an earlier server served is not this one's to show.
	os.Remove(s.Store.ServedPath())

	// Every start takes a new token, so a token heard before (another
	// local user may have held the port while no server ran, and taken it
	// from the requests of running programs) is worthless now. The port is
	// the last server's if it is free: programs still running read the new
	// token from the same file at their next fetch and carry on. On
	// another port the old port's token file goes, and those programs
	// send nothing to whoever holds that port.
	ln, err := listen(s.Store)
	if err != nil {
		return err
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	tok, err := s.Store.NewToken(port)
	if err != nil {
		return err
	}
	// A server that stops leaves no token: a program that asks while none
	// runs fails at reading the file, before it sends anything to
	// whoever holds the port then.
	defer s.Store.RemoveToken(port, tok)
	s.Token = tok
	s.touch()
	info := endpoint.Info{PID: os.Getpid(), Port: port, Started: s.Now().UTC()}
	data, _ := json.Marshal(info)
	if err := privfile.Write(s.Store.InfoPath(), data); err != nil {
		return err
	}
	defer removeInfo(s.Store, info.PID)

	hs := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.stopWhenIdle(ctx, hs, idle, info.PID)
	ready(nil)
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func shutdown(hs *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(ctx)
}

// removeInfo removes server.json if it is still the record of pid.
func removeInfo(store endpoint.Store, pid int) {
	if i, ok := store.ReadInfo(); ok && i.PID == pid {
		os.Remove(store.InfoPath())
	}
}

// lockServer takes the server lock, or says which server holds it.
func lockServer(ctx context.Context, store endpoint.Store) (*flock.Flock, error) {
	lock := flock.New(store.ServerLockPath())
	// Shells probing for a server take the lock shared for an instant:
	// try for a moment before concluding another server holds it.
	lctx, lcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	ok, err := lock.TryLockContext(lctx, 10*time.Millisecond)
	lcancel()
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("lock %s: %w", store.ServerLockPath(), err)
	}
	if !ok {
		// Another server holds the lock; it may be a moment from
		// recording itself.
		for range 50 {
			if i, ok := store.Running(); ok {
				return nil, &AlreadyRunning{Info: i}
			}
			time.Sleep(20 * time.Millisecond)
		}
		return nil, &AlreadyRunning{}
	}
	return lock, nil
}

// listen listens on the last server's port if it is free, else on any.
func listen(store endpoint.Store) (net.Listener, error) {
	if prev := store.LastPort(); prev > 0 {
		if ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(prev)); err == nil {
			return ln, nil
		}
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on 127.0.0.1: %w", err)
	}
	return ln, nil
}

// stopWhenIdle shuts hs down when ctx ends, or after idle without a
// request while no live shell uses the server.
func (s *Server) stopWhenIdle(ctx context.Context, hs *http.Server, idle time.Duration, pid int) {
	tick := time.NewTicker(max(min(idle/4, time.Minute), 100*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			shutdown(hs)
			return
		case <-tick.C:
			if s.Now().Sub(s.LastRequest()) >= idle && s.Store.LiveUsers() == 0 {
				// Unrecorded first, so no shell registers with a server
				// on its way out.
				removeInfo(s.Store, pid)
				shutdown(hs)
				return
			}
		}
	}
}
