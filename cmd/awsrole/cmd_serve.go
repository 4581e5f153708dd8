package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/endpoint"
	"github.com/awsrole/awsrole/internal/state"
	"github.com/awsrole/awsrole/internal/transition"
)

func serveCmd() *cobra.Command {
	var stop bool
	var readyFD int
	c := &cobra.Command{
		Use:   "serve [--stop]",
		Short: "Run the per-user credential endpoint of credentials = \"endpoint\" mode (the hook starts it when needed)",
		Long: `Serve the roles that shells in endpoint mode registered, in the container
credentials (ECS) format, on 127.0.0.1 only. The hook starts it detached when
a shell enters a project in endpoint mode; it exits after endpoint_idle (user
config, default 1h) without a request and without a live shell using it.
Run it by hand, or from systemd --user or launchd, to keep it in the
foreground; a second start finds the running one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if stop {
				i, err := endpoint.Stop()
				if errors.Is(err, endpoint.ErrNotRunning) {
					fmt.Fprintln(os.Stderr, "awsrole: the credential endpoint is not running")
					return nil
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "awsrole: stopped the credential endpoint (pid %d, port %d)\n", i.PID, i.Port)
				return nil
			}
			ready := func(error) {}
			if readyFD > 0 {
				f := os.NewFile(uintptr(readyFD), "ready")
				ready = func(err error) {
					if f == nil {
						return
					}
					msg := "ok"
					var running *endpoint.AlreadyRunning
					if err != nil && !errors.As(err, &running) {
						msg = credcache.OneLine(err.Error())
					}
					io.WriteString(f, msg+"\n")
					f.Close()
					f = nil
				}
			}
			user, err := dirconfig.LoadUserConfig()
			if err != nil {
				ready(err)
				return err
			}
			env := ownEnv(environ())
			srv := &endpoint.Server{
				Now:   time.Now,
				Creds: credcache.Helper{Now: time.Now, Stderr: io.Discard},
				Env:   env,
				Resolve: func(req credcache.Request) (credcache.Source, error) {
					return credcache.Resolve(req, env, awsconfig.Load)
				},
			}
			ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			defer cancel()
			err = endpoint.Run(ctx, srv, user.EndpointIdle, ready)
			var running *endpoint.AlreadyRunning
			if errors.As(err, &running) {
				fmt.Fprintf(os.Stderr, "awsrole: %s\n", err)
				return nil
			}
			return err
		},
	}
	c.Flags().BoolVar(&stop, "stop", false, "stop the running server")
	c.Flags().IntVar(&readyFD, "ready-fd", 0, "descriptor to report readiness on (used by the hook)")
	c.Flags().MarkHidden("ready-fd")
	return c
}

// ownEnv is env with awsrole's variables replaced by the user's own: a
// server started by hand inside a project renews from the user's sources.
func ownEnv(env map[string]string) credcache.Env {
	var act *transition.Active
	if p := env[transition.StateVar]; p != "" {
		if snap, err := state.Load(p); err == nil {
			act = &snap.Active
		}
	}
	out := credcache.Env{}
	for k, v := range env {
		out[k] = &v
	}
	for name, v := range transition.Originals(act, env) {
		out[name] = v
	}
	delete(out, transition.StateVar)
	return out
}
