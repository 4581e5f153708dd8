package creds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/wire"
)

// Serve is the awsrole-sts helper: it reads one credcache.Call (JSON) from
// in, carries it out in this process's environment (the user's own, as
// awsrole started it) and writes one credcache.Reply to out. Notices (a
// damaged cache file) and prompts go to stderr and the terminal.
func Serve(in io.Reader, out io.Writer) int {
	var call wire.Call
	if err := json.NewDecoder(io.LimitReader(in, 1<<20)).Decode(&call); err != nil {
		encode(out, wire.Reply{Error: "awsrole-sts: bad request: " + credcache.OneLine(err.Error())})
		return 2
	}
	if call.Version != wire.ProtocolVersion {
		encode(out, wire.Reply{Error: fmt.Sprintf("awsrole-sts speaks protocol version %d, the caller %d; install awsrole and awsrole-sts from the same release", wire.ProtocolVersion, call.Version)})
		return 2
	}
	reply, err := handle(context.Background(), call)
	if err != nil {
		// Each quoted remote text is already bounded; folding keeps the
		// advice that follows it.
		var signIn *wire.SignInError
		reply = wire.Reply{Error: strings.Join(strings.Fields(err.Error()), " "), SignIn: errors.As(err, &signIn)}
	}
	return encode(out, reply)
}

func handle(ctx context.Context, call wire.Call) (wire.Reply, error) {
	switch call.Op {
	case wire.OpCredentials:
		env := ProcessEnv()
		src, err := credreq.Resolve(call.Request, env, awsconfig.Load)
		if err != nil {
			return wire.Reply{}, &roleError{role: call.Request.Label(), err: err}
		}
		c, err := (&Getter{Now: time.Now, Notice: os.Stderr}).Get(ctx, call.Request, src, env)
		return wire.Reply{Credentials: &c}, err
	case wire.OpLogin:
		// Ctrl-C while waiting for the browser ends the wait with a line.
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
		defer stop()
		return wire.Reply{}, Login(ctx, call.Login, os.Stderr)
	case wire.OpSignin:
		tok, err := SigninToken(ctx, call.Signin.TokenURL)
		return wire.Reply{SigninToken: tok}, err
	case wire.OpAssignments:
		list, err := Assignments(ctx, call.Login.Session)
		return wire.Reply{Assignments: list}, err
	}
	return wire.Reply{}, errors.New("awsrole-sts: unknown operation " + string(call.Op))
}

// ProcessEnv is this process's environment as a credcache.Env.
func ProcessEnv() credreq.Env {
	env := credreq.Env{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = &v
		}
	}
	return env
}

func encode(out io.Writer, r wire.Reply) int {
	r.Version = wire.ProtocolVersion
	if err := json.NewEncoder(out).Encode(r); err != nil {
		return 1
	}
	return 0
}
