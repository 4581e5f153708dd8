package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/internal/endpoint"
	"github.com/awsrole/awsrole/internal/wire"
)

func serveCmd() *cobra.Command {
	var stop bool
	var readyFD int
	c := &cobra.Command{
		Use:   "serve [--stop]",
		Short: "Run the per-user credential endpoint of credentials = \"endpoint\" mode (the hook starts it when needed)",
		Example: `  awsrole serve          # in the foreground (the hook starts it when needed)
  awsrole serve --stop   # stop the running server`,
		Long: `Serve the roles that shells in endpoint mode registered, in the container
credentials (ECS) format, on 127.0.0.1 only. The hook starts it detached when
a shell enters a project in endpoint mode; it exits after endpoint_idle (user
config, default 1h) without a request and without a live shell using it.
Run it by hand, or from systemd --user or launchd, to keep it in the
foreground; a second start finds the running one.

The server is awsrole-sts (which links the AWS SDK and renews in-process);
awsrole replaces itself with it, in your own environment.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if stop {
				i, err := endpointStore().Stop()
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
			fail := func(err error) error {
				if readyFD > 0 {
					f := os.NewFile(uintptr(readyFD), "ready")
					fmt.Fprintln(f, oneLine(err.Error()))
					f.Close()
				}
				return err
			}
			env := environ()
			r := newEngine().Resolve("", env)
			if r.UserErr != nil {
				return fail(r.UserErr)
			}
			bin, err := wire.FindHelper()
			if err != nil {
				return fail(err)
			}
			argv := []string{wire.HelperName, "serve", "--idle", r.User.EndpointIdle.String()}
			if readyFD > 0 {
				argv = append(argv, "--ready-fd", strconv.Itoa(readyFD))
			}
			return fail(fmt.Errorf("exec %s: %w", bin, syscall.Exec(bin, argv, ownEnv(env, r.Originals))))
		},
	}
	c.Flags().BoolVar(&stop, "stop", false, "stop the running server")
	c.Flags().IntVar(&readyFD, "ready-fd", 0, "descriptor to report readiness on (used by the hook)")
	c.Flags().MarkHidden("ready-fd")
	return c
}

// ownEnv is env with awsrole's variables replaced by the user's own: a
// server started by hand inside a project renews from the user's sources,
// never from what awsrole exported.
func ownEnv(env map[string]string, originals map[string]*string) []string {
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	return endpoint.ServerEnv(environ, originals)
}
