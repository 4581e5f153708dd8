package main

import (
	"os"
	"os/user"
	"time"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/endpoint"
	"github.com/awsrole/awsrole/internal/engine"
	"github.com/awsrole/awsrole/internal/wire"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

// This file is where awsrole reads its own process environment for the
// stores: each command builds them here, once, and hands them down as
// values (the shell's environment a hook call describes is another thing,
// given on the command line or read by the command itself).

// stores are awsrole's files, the shared AWS files and the credential
// cache, named from this process's environment.
func stores() engine.Stores {
	s := engine.StoresFor(xdgdir.FromEnv(os.Getenv), awsconfig.PathsFromEnv(os.Getenv), credreq.EnvOf(os.Environ()))
	s.UserName = localUser
	return s
}

// endpointStore is the credential endpoint's files.
func endpointStore() endpoint.Store { return endpoint.StoreIn(xdgdir.FromEnv(os.Getenv).State) }

// localUser is the local account's name, else $USER.
func localUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

// newHelper is the way to awsrole-sts: cache, else the helper started in
// this process's environment.
func newHelper(cache credcache.Cache) wire.Helper {
	return wire.Helper{Now: time.Now, Cache: cache, Environ: os.Environ()}
}
