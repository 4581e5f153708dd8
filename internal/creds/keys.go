package creds

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/wire"
)

// KeyringWait bounds a read of the keyring: it may ask for the encrypted
// file's passphrase, or wait for the desktop to unlock the login keyring.
const KeyringWait = 2 * time.Minute

// StoredKeys is a read of the long-term keys stored under a name: what
// awsrole-keyring's get gives.
type StoredKeys struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
}

// readKeyring runs `awsrole-keyring get NAME` and reads the keys from its
// standard output, a pipe; its one-line error is the error.
func readKeyring(ctx context.Context, name string) (StoredKeys, error) {
	bin, err := wire.FindBinary(wire.KeyringName)
	if err != nil {
		return StoredKeys{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, KeyringWait)
	defer cancel()
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "get", name)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	runErr := cmd.Run()
	var k StoredKeys
	if runErr == nil && json.Unmarshal(out.Bytes(), &k) == nil && k.AccessKeyID != "" && k.SecretAccessKey != "" {
		return k, nil
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if msg := strings.TrimPrefix(lines[len(lines)-1], "awsrole: "); msg != "" {
		return StoredKeys{}, errors.New(credcache.OneLine(msg))
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return StoredKeys{}, fmt.Errorf("the keyring did not answer within %s; unlock it and try again", KeyringWait)
	}
	return StoredKeys{}, fmt.Errorf("%s get %s gave no keys (%v)", wire.KeyringName, name, runErr)
}

// keyringSource serves the long-term keys src names from the OS keyring,
// read anew at each fetch: they go to no cache file (credcache.Plan has
// no entry for them) and stay in this process only for the call.
func (g *Getter) keyringSource(src credreq.Source) credcache.Provider {
	return credcache.ProviderFunc(func(ctx context.Context) (credcache.Credentials, error) {
		read := g.ReadKeyring
		if read == nil {
			read = readKeyring
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
