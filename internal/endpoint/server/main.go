package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/endpoint"
	"github.com/awsrole/awsrole/internal/keyindex"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

// Main is `awsrole-sts serve [--idle D] [--ready-fd N]`, which `awsrole
// serve` becomes: it serves in this process's environment (the user's own,
// as awsrole prepared it) with creds, its stores under dirs and the
// credential cache, and returns the exit status.
func Main(args []string, creds CredentialProvider, env credreq.Env, dirs xdgdir.Dirs, cache credcache.Cache) int {
	fs := flag.NewFlagSet("awsrole-sts serve", flag.ContinueOnError)
	idle := fs.Duration("idle", time.Hour, "exit after this long unused")
	readyFD := fs.Int("ready-fd", 0, "descriptor to report readiness on")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ready := func(error) {}
	if *readyFD > 0 {
		f := os.NewFile(uintptr(*readyFD), "ready")
		ready = func(err error) {
			if f == nil {
				return
			}
			msg := "ok"
			var running *AlreadyRunning
			if err != nil && !errors.As(err, &running) {
				msg = credcache.OneLine(err.Error())
			}
			io.WriteString(f, msg+"\n")
			f.Close()
			f = nil
		}
	}
	dropTerminal()
	s := &Server{Store: endpoint.StoreIn(dirs.State), UserConfig: dirconfig.UserConfigPath(dirs.Config), Trust: dirconfig.TrustStore{Dir: dirs.Data}, Now: time.Now, Creds: creds, Env: env, Cache: cache,
		Resolve: func(req credreq.Request) (credreq.Source, error) {
			return credreq.Resolve(req, env, awsconfig.PathsFromEnv(env.Get).Load, keyindex.In(dirs.Data).Lookup)
		}}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer cancel()
	err := Run(ctx, s, *idle, ready)
	var running *AlreadyRunning
	switch {
	case errors.As(err, &running):
		fmt.Fprintf(os.Stderr, "awsrole: %s\n", err)
	case err != nil:
		fmt.Fprintf(os.Stderr, "awsrole: %s\n", credcache.OneLine(err.Error()))
		return 1
	}
	return 0
}

// dropTerminal gives up the controlling terminal, if any (a server run by
// hand): the server never prompts, so an MFA code it would need is asked
// at cd instead, and its error says so.
func dropTerminal() {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer f.Close()
	_ = unix.IoctlSetInt(int(f.Fd()), unix.TIOCNOTTY, 0)
}
