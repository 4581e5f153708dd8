package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/awsrole/awsrole/internal/credcache"
)

// helperName is the binary that talks to STS; see cmd/awsrole-sts.
const helperName = "awsrole-sts"

// credentials answers from the cache when it can tell the key without the
// AWS SDK (the user's own keys in the environment, the region known), and
// otherwise asks the awsrole-sts helper, which links the SDK. Keeping the
// SDK out of this binary keeps its package initialisation off every hook
// call.
type credentials struct{}

func (credentials) Get(ctx context.Context, req credcache.Request) (credcache.Credentials, error) {
	if c, ok := fromCache(req); ok {
		return c, nil
	}
	helper, err := findHelper()
	if err != nil {
		return credcache.Credentials{}, err
	}
	in, err := json.Marshal(req)
	if err != nil {
		return credcache.Credentials{}, err
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, helper)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &out, os.Stderr
	// Ctrl-C (at an MFA prompt, say) reaches the helper too, which answers
	// with the error; staying alive until then lets the failure be
	// recorded, so the next prompt does not ask again at once.
	interrupt := make(chan os.Signal, 1)
	signal.Notify(interrupt, os.Interrupt)
	runErr := cmd.Run()
	signal.Stop(interrupt)
	var reply struct {
		Credentials *credcache.Credentials `json:"credentials"`
		Error       string                 `json:"error"`
	}
	switch {
	case json.Unmarshal(out.Bytes(), &reply) == nil && reply.Error != "":
		return credcache.Credentials{}, errors.New(reply.Error)
	case runErr == nil && reply.Credentials != nil:
		return *reply.Credentials, nil
	case runErr != nil:
		return credcache.Credentials{}, fmt.Errorf("assume %s: %s failed: %v", req.RoleARN, helper, runErr)
	}
	return credcache.Credentials{}, fmt.Errorf("assume %s: %s gave no answer", req.RoleARN, helper)
}

// fromCache reads the cache entry the helper would use, when its key does
// not need the SDK: no source profile or AWS_PROFILE, the user's own keys in
// the environment, and the region for the STS call known from the file or
// the environment. Anything else is a miss, and the helper decides.
func fromCache(req credcache.Request) (credcache.Credentials, bool) {
	src := func(name string) string {
		if v := req.Source[name]; v != nil {
			return *v
		}
		return ""
	}
	key := src("AWS_ACCESS_KEY_ID")
	if req.SourceProfile != "" || src("AWS_PROFILE") != "" || src("AWS_DEFAULT_PROFILE") != "" ||
		key == "" || src("AWS_SECRET_ACCESS_KEY") == "" {
		return credcache.Credentials{}, false
	}
	region := req.Region
	for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if region == "" {
			region = src(name)
		}
	}
	if region == "" {
		return credcache.Credentials{}, false // a profile's region may apply
	}
	req = req.Effective()
	return credcache.Lookup(credcache.Path(req, key, region), req.RoleARN, req.Window, time.Now(), nil)
}

// findHelper looks for awsrole-sts next to this binary, then on PATH.
func findHelper() (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), helperName)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath(helperName); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s, which fetches credentials from STS, is not next to awsrole nor on PATH; install both: go install github.com/awsrole/awsrole/cmd/...@latest", helperName)
}
