package creds

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"time"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/wire"
)

// Handler is awsrole-sts's wire.Handler: it carries out a call in env,
// this process's environment (the user's own, as awsrole started it),
// through cache.
// Notices (a damaged cache file) and prompts go to stderr and the
// terminal.
func Handler(cache credcache.Cache, env credreq.Env, keys credreq.KeysLookup) wire.Handler {
	return func(ctx context.Context, call wire.Call) (wire.Reply, error) {
		switch call.Op {
		case wire.OpCredentials:
			src, err := credreq.Resolve(call.Request, env, awsconfig.PathsFromEnv(env.Get).Load, keys)
			if err != nil {
				return wire.Reply{}, &roleError{role: call.Request.Label(), err: err}
			}
			c, err := (&Getter{Now: time.Now, Notice: os.Stderr, Cache: cache}).Get(ctx, call.Request, src, env)
			return wire.Reply{Credentials: &c}, err
		case wire.OpLogin:
			// Ctrl-C while waiting for the browser ends the wait with a line.
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
			defer stop()
			return wire.Reply{}, (&Getter{Cache: cache}).Login(ctx, call.Login, os.Stderr, env)
		case wire.OpSignin:
			tok, err := SigninToken(ctx, call.Signin.TokenURL)
			return wire.Reply{SigninToken: tok}, err
		case wire.OpAssignments:
			list, err := (&Getter{Cache: cache}).Assignments(ctx, call.Login.Session, env)
			return wire.Reply{Assignments: list}, err
		}
		return wire.Reply{}, errors.New("awsrole-sts: unknown operation " + string(call.Op))
	}
}
