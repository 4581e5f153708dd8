// Command awsrole-sts fetches credentials for awsrole when its cache cannot
// answer: the only part of awsrole that links the AWS SDK, whose package
// initialisation would otherwise slow every hook call. Install it next to
// awsrole (go install github.com/awsrole/awsrole/cmd/...); awsrole runs it.
package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/creds"
	"github.com/awsrole/awsrole/internal/endpoint/server"
	"github.com/awsrole/awsrole/internal/keyindex"
	"github.com/awsrole/awsrole/internal/wire"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

func main() {
	env := userEnv()
	dirs := xdgdir.FromEnv(os.Getenv)
	cache := credcache.New(filepath.Join(dirs.Cache, credcache.DirName), env)
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		// The credential endpoint (awsrole serve becomes this).
		os.Exit(server.Main(os.Args[2:], &creds.Getter{Now: time.Now, Notice: io.Discard, Cache: cache}, env, dirs, cache))
	}
	os.Exit(wire.Serve(context.Background(), os.Stdin, os.Stdout, creds.Handler(cache, env, keyindex.In(dirs.Data).Lookup)))
}

// userEnv is this process's environment, as awsrole started it: the
// user's own. The encrypted file keyring's passphrase stays in it, for
// awsrole-keyring alone (creds hands it on), and leaves the process's own
// environment, which the commands awsrole-sts runs for the user
// (mfa_command, credential_process, the browser) inherit.
func userEnv() credreq.Env {
	env := credreq.EnvOf(os.Environ())
	os.Unsetenv(wire.PassphraseVar)
	return env
}
