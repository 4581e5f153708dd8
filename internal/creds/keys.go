package creds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/tty"
	"github.com/awsrole/awsrole/internal/wire"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

// KeyringWait bounds a read of the keyring: it may ask for the encrypted
// file's passphrase, or wait for the desktop to unlock the login keyring.
// A backend that no one can be asked for (no terminal, and not on the
// desktop's bus) gets keyringQuickWait.
const (
	KeyringWait      = 2 * time.Minute
	keyringQuickWait = 20 * time.Second
)

// StoredKeys is a read of the long-term keys stored under a name: what
// awsrole-keyring's get gives.
type StoredKeys struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
}

// readKeyring runs `awsrole-keyring get NAME` and reads the keys from its
// standard output, a pipe; its one-line error is the error. env is the
// user's environment, which names the user config (keyring_backend).
func readKeyring(ctx context.Context, name string, env credreq.Env) (StoredKeys, error) {
	bin, err := wire.FindBinary(wire.KeyringName)
	if err != nil {
		return StoredKeys{}, err
	}
	environ, backend := wire.KeyringEnv(wire.WithoutPassphrase(env.Environ()), xdgdir.FromEnv(env.Get).Config)
	if p, ok := env[wire.PassphraseVar]; ok && p != nil {
		// awsrole-sts took it out of its own environment (see its main).
		environ = append(environ, wire.PassphraseVar+"="+*p)
	}
	wait := KeyringWait
	if !dirconfig.KeyringOnBus(backend) && backend != "pass" { // pass's gpg may ask through a desktop pinentry
		if t, err := tty.Open(); err != nil {
			wait = keyringQuickWait
		} else {
			t.Close()
		}
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	// A key id and a secret, in JSON.
	out, stderr := wire.Output{Max: 64 << 10}, wire.Output{Max: 64 << 10}
	cmd := exec.CommandContext(ctx, bin, "get", name)
	cmd.Env, cmd.WaitDelay = environ, 2*time.Second
	cmd.Stdout, cmd.Stderr = &out, &stderr
	runErr := cmd.Run()
	var k StoredKeys
	if runErr == nil && json.Unmarshal(out.Bytes(), &k) == nil && k.AccessKeyID != "" && k.SecretAccessKey != "" {
		return k, nil
	}
	lines := strings.Split(strings.TrimSpace(string(stderr.Bytes())), "\n")
	if msg := strings.TrimPrefix(lines[len(lines)-1], "awsrole: "); msg != "" {
		return StoredKeys{}, errors.New(credcache.OneLine(msg))
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return StoredKeys{}, fmt.Errorf("the keyring did not answer within %s; unlock it and try again", wait)
	}
	return StoredKeys{}, fmt.Errorf("%s get %s gave no keys (%v)", wire.KeyringName, name, runErr)
}

// keyringSource serves the long-term keys src names from the OS keyring,
// read anew at each fetch: they go to no cache file (credcache.Plan has
// no entry for them) and stay in this process only for the call.
func (g *Getter) keyringSource(src credreq.Source, env credreq.Env) credcache.Provider {
	return credcache.ProviderFunc(func(ctx context.Context) (credcache.Credentials, error) {
		read := g.ReadKeyring
		if read == nil {
			read = func(ctx context.Context, name string) (StoredKeys, error) { return readKeyring(ctx, name, env) }
		}
		k, err := read(ctx, src.Keys.Name)
		if err != nil {
			return credcache.Credentials{}, err
		}
		if k.AccessKeyID != src.Keys.AccessKeyID {
			return credcache.Credentials{}, fmt.Errorf("the keyring holds key %s under %q, not %s as awsrole's key index says; store the keys again: awsrole keys add %s",
				k.AccessKeyID, src.Keys.Name, src.Keys.AccessKeyID, src.Keys.Name)
		}
		return credcache.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey}, nil
	})
}
