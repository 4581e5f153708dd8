package main

import (
	"os"
	"time"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/wire"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

// credCache is the credential cache as this process's environment names
// it: read here, once per command, and given to what needs it.
func credCache() credcache.Cache {
	return credcache.New(xdgdir.Cache(credcache.DirName), credreq.EnvOf(os.Environ()))
}

// newHelper is the way to awsrole-sts: the cache, else the helper started
// in this process's environment.
func newHelper() wire.Helper {
	return wire.Helper{Now: time.Now, Cache: credCache(), Environ: os.Environ()}
}
