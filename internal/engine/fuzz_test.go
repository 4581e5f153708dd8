package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/endpoint"
	"github.com/awsrole/awsrole/internal/engine"
	"github.com/awsrole/awsrole/internal/transition"
)

// The paths awsrole reads, as FuzzHostileFiles names them.
const (
	atProject         = iota // the nearest .awsrole.toml of the directory moved to
	atApprovedProject        // the same, its bytes approved (it may not parse)
	atPolicyFile             // the policy_file of an approved project file
	atUserConfig
	atTrustEntry // the allow entry of an approved project file
	atSSOToken
	atCacheEntry // the cached credentials of the role held
	atSnapshot   // the saved state of the shell
	atFailure    // the shell's failure record
	atEndpoint   // the credential endpoint's files under the state dir
	numTargets
)

// The kinds of thing found there.
const (
	asContent = iota // a regular file holding the fuzzed bytes
	asEmpty
	asDirectory
	asFIFO
	asLoop       // a symlink to itself
	asDangling   // a symlink to nothing
	asHuge       // a sparse file of 8 GiB
	asDevice     // a symlink to /dev/zero
	asBinary     // the fuzzed bytes after a NUL and invalid UTF-8
	asOtherOwner // the fuzzed bytes, owned by another user, world-writable
	numKinds
)

// FuzzHostileFiles puts something hostile at one path awsrole reads, in a
// shell that holds project A's role, and moves the shell out of A: the hook
// call returns in bounded time, never panics, and either leaves A (with
// A's originals back) or fails, the hook then leaving with the code it
// holds; where the file is the project file of the directory moved to,
// its policy_file or its trust entry, the binary itself leaves. `awsrole
// list --scan` and the readers of the endpoint's files return too. The
// seeds, every path with every kind of file, run in every `go test`.
func FuzzHostileFiles(f *testing.F) {
	seeds := [][]byte{
		[]byte("role_arn = \"" + roleB + "\"\n"),
		[]byte("role_arn = \"" + roleB + "\"\npolicy_file = \"p.json\"\n"),
		[]byte(`{"Version":"2012-10-17","Statement":[]}`),
		[]byte(`{"version": 1, "file": "/x", "originals": {"LD_PRELOAD": "/tmp/x.so"}}`),
		[]byte("trusted_dirs = [\"/\"]\n"),
		[]byte(`{"accessToken":"x","expiresAt":"2099-01-01T00:00:00Z"}`),
		[]byte("\x1b]52;c;aGk=\x07 [[[[[[[[[ {{{{"),
	}
	for target := 0; target < numTargets; target++ {
		for kind := 0; kind < numKinds; kind++ {
			f.Add(uint8(target), uint8(kind), seeds[(target+kind)%len(seeds)])
		}
	}
	f.Fuzz(func(t *testing.T, target, kind uint8, content []byte) {
		target, kind = target%numTargets, kind%numKinds
		if kind == asOtherOwner && os.Geteuid() != 0 {
			t.Skip("giving a file to another user needs root")
		}
		w := newFailWorld(t)
		w.writeFile(t, filepath.Join(w.home, "evil"), "role_arn = \""+roleB+"\"\npolicy_file = \"p.json\"\n")
		write(t, filepath.Join(w.home, "evil"), "p.json", `{"Statement": []}`)
		if err := allowPath(filepath.Join(w.home, "evil", dirconfig.FileName)); err != nil {
			t.Fatal(err)
		}
		w.cd(t, w.a)
		if w.env["AWSROLE_DIR"] != w.a {
			t.Fatalf("in A: %v", w.env)
		}
		dest := filepath.Join(w.home, "elsewhere")
		mkdir(t, dest)
		var p string
		switch target {
		case atProject, atApprovedProject:
			dest = filepath.Join(w.home, "evil")
			p = filepath.Join(dest, dirconfig.FileName)
		case atPolicyFile:
			dest = filepath.Join(w.home, "evil")
			p = filepath.Join(dest, "p.json")
		case atUserConfig:
			p = w.stores.UserConfig
		case atTrustEntry:
			dest = filepath.Join(w.home, "evil")
			p = trustEntry(t, filepath.Join(dest, dirconfig.FileName))
		case atSSOToken:
			p = awsconfig.PathsFromEnv(os.Getenv).TokenPath("corp")
		case atCacheEntry:
			p = cacheEntry(t, w)
		case atSnapshot:
			p = w.env[transition.StateVar]
		case atFailure:
			p = filepath.Join(w.stores.State.Dir, "failures", strconv.Itoa(w.pid)+".json")
		case atEndpoint:
			p = endpoint.StoreIn(w.stores.State.Dir).TokenPath(4242)
			for _, q := range []string{endpoint.StoreIn(w.stores.State.Dir).InfoPath(), endpoint.StoreIn(w.stores.State.Dir).ServedPath(), endpoint.StoreIn(w.stores.State.Dir).PortPath(), endpoint.StoreIn(w.stores.State.Dir).RolePath(strings.Repeat("a", 64)), filepath.Join(endpoint.StoreIn(w.stores.State.Dir).Dir, "shells", strconv.Itoa(w.pid))} {
				plant(t, q, kind, content)
			}
		}
		plant(t, p, kind, content)
		if target == atApprovedProject && kind == asContent {
			allowPath(p) // what cannot be read cannot be approved
		}

		done := make(chan struct{})
		var res *engine.Result
		var err error
		go func() {
			defer close(done)
			res, err = w.e.Export(context.Background(), engine.Input{Env: w.env, PWD: dest, PID: w.pid})
			if err == nil {
				for _, scan := range [][]string{nil, {w.home}} {
					list, lerr := w.e.List(scan, nil, w.now)
					for _, l := range list {
						if strings.Contains(l.Error, "internal error") {
							lerr = fmt.Errorf("%s: %s", l.Path, l.Error)
						}
					}
					if lerr != nil && strings.Contains(lerr.Error(), "internal error") {
						err = lerr
					}
				}
			}
			endpoint.StoreIn(w.stores.State.Dir).ReadInfo()
			endpoint.StoreIn(w.stores.State.Dir).ReadToken(4242)
			endpoint.StoreIn(w.stores.State.Dir).ReadServed()
			endpoint.StoreIn(w.stores.State.Dir).LoadRegistration(strings.Repeat("a", 64))
			endpoint.StoreIn(w.stores.State.Dir).LiveUsers()
			awsconfig.ReadTokenFile(awsconfig.PathsFromEnv(os.Getenv).TokenPath("corp"))
		}()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatalf("%s as %s: no answer within a minute", describeTarget(target), describeKind(kind))
		}
		what := describeTarget(target) + " as " + describeKind(kind)
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("%s: a panic: %v", what, err)
		}
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: error of more than one line: %q", what, err)
			}
			switch target {
			case atProject, atApprovedProject, atPolicyFile, atTrustEntry:
				t.Fatalf("%s: the hook call failed (%v); the binary itself must leave A", what, err)
			}
			return // the hook leaves with the code it holds
		}
		w.apply(res)
		if dir, ok := w.env["AWSROLE_DIR"]; ok {
			// A file here that is approved and valid: its role, here.
			if !dirconfig.Under(dest, dir) || dir == w.a || w.env["AWS_ACCESS_KEY_ID"] == "ASIAa" {
				t.Fatalf("%s: the shell in %s holds %s's role (%s)", what, dest, dir, w.env["AWSROLE_ARN"])
			}
			return
		}
		w.wantLeft(t, what)
	})
}

// plant puts a thing of kind at p, with content where it has any.
func plant(t *testing.T, p string, kind uint8, content []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
	var err error
	switch kind {
	case asContent, asOtherOwner:
		err = os.WriteFile(p, content, 0o600)
		if err == nil && kind == asOtherOwner {
			err = os.Chown(p, 65534, 65534)
			if err == nil {
				err = os.Chmod(p, 0o666)
			}
		}
	case asEmpty:
		err = os.WriteFile(p, nil, 0o600)
	case asDirectory:
		err = os.Mkdir(p, 0o700)
	case asFIFO:
		err = syscall.Mkfifo(p, 0o600)
	case asLoop:
		err = os.Symlink(filepath.Base(p), p)
	case asDangling:
		err = os.Symlink(p+".nowhere", p)
	case asHuge:
		if err = os.WriteFile(p, content, 0o600); err == nil {
			err = os.Truncate(p, 8<<30)
		}
	case asDevice:
		err = os.Symlink("/dev/zero", p)
	case asBinary:
		err = os.WriteFile(p, append([]byte("\x00\xff\xfe"), content...), 0o600)
	}
	if err != nil {
		t.Skipf("cannot make %s at %s: %v", describeKind(kind), p, err)
	}
}

// trustEntry is the allow entry that approves the project file at p.
func trustEntry(t *testing.T, p string) string {
	t.Helper()
	before, _ := os.ReadDir(filepath.Join(testTrust().Dir, "allow"))
	j, err := testTrust().Judge(p, nil)
	if err != nil || j.Trust != dirconfig.TrustAllowed {
		t.Fatalf("the approved file: %+v, %v", j, err)
	}
	// The entry the file's own bytes are approved by: remove each in
	// turn until the file is no longer allowed.
	for _, e := range before {
		entry := filepath.Join(testTrust().Dir, "allow", e.Name())
		data, _ := os.ReadFile(entry)
		os.Remove(entry)
		j, err := testTrust().Judge(p, nil)
		os.WriteFile(entry, data, 0o600)
		if err == nil && j.Trust != dirconfig.TrustAllowed {
			return entry
		}
	}
	t.Fatal("no allow entry approves the file")
	return ""
}

// cacheEntry is where the credentials of the role w holds would be cached.
func cacheEntry(t *testing.T, w *failWorld) string {
	t.Helper()
	cfg, err := dirconfig.Load(filepath.Join(w.a, dirconfig.FileName))
	if err != nil {
		t.Fatal(err)
	}
	user, err := dirconfig.LoadUserConfig(w.stores.UserConfig)
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.stores.NewProject(cfg, user, transition.Originals(nil, map[string]string{"AWS_ACCESS_KEY_ID": "AKIAUSER", "AWS_SECRET_ACCESS_KEY": "usersecret"}))
	if err != nil {
		t.Fatal(err)
	}
	return w.stores.Cache.Final(p.Request, p.Source).Path
}

func describeTarget(target uint8) string {
	return [...]string{"the project file", "the approved project file", "the policy_file", "the user config", "the trust entry",
		"the SSO token", "the cache entry", "the snapshot", "the failure record", "the endpoint files"}[target]
}

func describeKind(kind uint8) string {
	return [...]string{"content", "an empty file", "a directory", "a FIFO", "a symlink loop", "a dangling symlink",
		"a huge file", "a link to /dev/zero", "binary garbage", "another user's writable file"}[kind]
}
