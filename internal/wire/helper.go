package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
)

// HelperName is the binary that talks to AWS; see cmd/awsrole-sts.
const HelperName = "awsrole-sts"

// Helper gets credentials for awsrole: from the cache when the entry it
// would hand out is fresh, else by running awsrole-sts, the one binary that
// links the AWS SDK (whose start-up cost would otherwise be paid at every
// prompt).
type Helper struct {
	Now    func() time.Time
	Stderr io.Writer // the helper's notices and prompts' echo; default os.Stderr
	Cache  credcache.Cache
	// Environ is the environment the helper starts in ("NAME=value", as
	// os.Environ gives it), before the user's own values of the managed
	// variables replace awsrole's.
	Environ []string
}

// Get returns credentials for req from src; env is the user's own
// environment for the managed variables, in which the helper runs.
func (h Helper) Get(ctx context.Context, req credreq.Request, src credreq.Source, env credreq.Env) (credcache.Credentials, error) {
	if c, ok := credcache.Lookup(h.Cache.Final(req, src), req.Window, h.Now(), nil); ok {
		return c, nil
	}
	reply, err := h.Run(ctx, Call{Op: OpCredentials, Request: req}, env)
	if err != nil {
		return credcache.Credentials{}, err
	}
	if reply.Credentials == nil {
		return credcache.Credentials{}, fmt.Errorf("%s: %s answered without credentials", req.Label(), HelperName)
	}
	return *reply.Credentials, nil
}

// Run sends call to a new awsrole-sts started in env and returns its reply;
// a reply's error comes back as the error.
func (h Helper) Run(ctx context.Context, call Call, env credreq.Env) (Reply, error) {
	bin, err := FindHelper()
	if err != nil {
		return Reply{}, err
	}
	call.Version = ProtocolVersion
	in, err := json.Marshal(call)
	if err != nil {
		return Reply{}, err
	}
	// A reply holds one set of credentials (a session token is at most
	// 64 KiB) and a message.
	out := Output{Max: 1 << 20}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &out, h.Stderr
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	cmd.Env = helperEnv(h.Environ, env)
	// Ctrl-C (at an MFA prompt, say) reaches the helper too, which answers
	// with the error; staying alive until then lets the failure be
	// recorded, so the next prompt does not ask again at once.
	interrupt := make(chan os.Signal, 1)
	signal.Notify(interrupt, os.Interrupt)
	runErr := cmd.Run()
	signal.Stop(interrupt)
	var reply Reply
	decodeErr := json.Unmarshal(out.Bytes(), &reply)
	switch {
	case decodeErr == nil && reply.Version != ProtocolVersion:
		return Reply{}, fmt.Errorf("%s speaks protocol version %d, awsrole %d; install both from the same release: go install github.com/awsrole/awsrole/cmd/...@latest", bin, reply.Version, ProtocolVersion)
	case decodeErr == nil && reply.Error != "" && reply.SignIn:
		return Reply{}, &SignInError{Msg: reply.Error}
	case decodeErr == nil && reply.Error != "":
		return Reply{}, errors.New(reply.Error)
	case decodeErr == nil && runErr == nil:
		return reply, nil
	case runErr != nil:
		return Reply{}, fmt.Errorf("%s failed: %v", bin, runErr)
	}
	return Reply{}, fmt.Errorf("%s gave no answer", bin)
}

// helperEnv is environ with the variables env names set to its values:
// the user's own, never what awsrole exported.
func helperEnv(environ []string, env credreq.Env) []string {
	out := make([]string, 0, len(environ)+len(env))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if _, ours := env[name]; !ours {
			out = append(out, kv)
		}
	}
	for name, v := range env {
		if v != nil {
			out = append(out, name+"="+*v)
		}
	}
	return out
}

// KeyringName is the binary that reads and writes the OS keyring (awsrole
// keys, source_keys); see cmd/awsrole-keyring.
const KeyringName = "awsrole-keyring"

// FindHelper looks for awsrole-sts next to the running binary, then on PATH.
func FindHelper() (string, error) { return FindBinary(HelperName) }

// FindBinary looks for name, one of awsrole's binaries, next to the
// running binary, then on PATH.
func FindBinary(name string) (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s, %s, is not next to awsrole nor on PATH; install them all: go install github.com/awsrole/awsrole/cmd/...@latest", name, roles[name])
}

// roles say what each binary is for, in the message that it is missing.
var roles = map[string]string{HelperName: "which talks to AWS", KeyringName: "which reads the OS keyring"}
