// Package hermetic builds the one throwaway machine every suite that runs
// the real binaries starts from (e2e, reliability, the testscript
// scenarios): a HOME with the XDG directories and ~/.aws under it, its own
// local STS stand-in that knows the user's long-term key, and the
// environment the processes of the test start with.
//
// It is apart from package testrig because the stand-in's own tests use
// testrig: testrig cannot import stsstub.
package hermetic

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/internal/stsstub"
	"github.com/awsrole/awsrole/internal/testrig"
)

// User is the user's own long-term key, known to the stand-in.
type User struct{ Key, Secret, ARN string }

// Options say how a World differs between the suites.
type Options struct {
	// User is given to the stand-in and, unless Env overrides it, exported
	// as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
	User User
	// Session adds the variables of a login session: USER, LOGNAME, PATH
	// (BinDir first, when given), LANG, LC_ALL, TERM=dumb and pyenv's
	// root. false where the harness keeps its own (testscript's PATH finds
	// its commands).
	Session bool
	BinDir  string
	// Files are written under HOME (path: content) after the directories.
	Files map[string]string
	// Dirs are made under HOME besides the XDG and ~/.aws directories.
	Dirs []string
	// Env changes the environment last (nil value: unset).
	Env map[string]*string
}

// World is one test's machine.
type World struct {
	Root, Home string
	Stub       *stsstub.Server
	// Env is the environment every process of the test starts with (nil
	// value: unset); tests change it before starting processes.
	Env map[string]*string
}

// New builds a World under root (root/home is HOME) and starts its
// stand-in; Close stops it.
func New(root string, o Options) (*World, error) {
	home := filepath.Join(root, "home")
	w := &World{Root: root, Home: home}
	dirs := append([]string{"", ".aws", ".config", ".local/state", ".cache", ".local/share"}, o.Dirs...)
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(home, d), 0o755); err != nil {
			return nil, err
		}
	}
	for rel, content := range o.Files {
		p := filepath.Join(home, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return nil, err
		}
	}
	stub, err := stsstub.Start()
	if err != nil {
		return nil, fmt.Errorf("start the STS stand-in: %w", err)
	}
	stub.AddUser(o.User.Key, o.User.Secret, o.User.ARN)
	w.Stub = stub
	w.Env = map[string]*string{
		"HOME":                        sp(home),
		"XDG_CONFIG_HOME":             sp(filepath.Join(home, ".config")),
		"XDG_STATE_HOME":              sp(filepath.Join(home, ".local", "state")),
		"XDG_CACHE_HOME":              sp(filepath.Join(home, ".cache")),
		"XDG_DATA_HOME":               sp(filepath.Join(home, ".local", "share")),
		"AWS_ENDPOINT_URL_STS":        sp(stub.URL),
		"AWS_CONFIG_FILE":             sp(filepath.Join(home, ".aws", "config")),
		"AWS_SHARED_CREDENTIALS_FILE": sp(filepath.Join(home, ".aws", "credentials")),
		"AWS_EC2_METADATA_DISABLED":   sp("true"),
		"AWS_ACCESS_KEY_ID":           sp(o.User.Key),
		"AWS_SECRET_ACCESS_KEY":       sp(o.User.Secret),
		"AWS_REGION":                  sp("us-east-1"),
		"AWS_DEFAULT_REGION":          sp("us-east-1"),
	}
	if o.Session {
		path := os.Getenv("PATH")
		if o.BinDir != "" {
			path = o.BinDir + string(os.PathListSeparator) + path
		}
		for k, v := range map[string]string{"USER": "alice", "LOGNAME": "alice", "PATH": path,
			"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "dumb"} {
			w.Env[k] = sp(v)
		}
		// A pyenv shim for aws needs to find pyenv's root.
		for _, k := range []string{"PYENV_ROOT", "PYENV_VERSION"} {
			if v, ok := os.LookupEnv(k); ok {
				w.Env[k] = sp(v)
			}
		}
	}
	for k, v := range o.Env {
		w.Env[k] = v
	}
	return w, nil
}

// NewT is New under t.TempDir(), closed when t ends; it fails t on error.
func NewT(t testing.TB, o Options) *World {
	t.Helper()
	w, err := New(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w
}

// Close stops the stand-in.
func (w *World) Close() { w.Stub.Close() }

// Environ is Env changed by over (nil value: unset) as a process environment.
func (w *World) Environ(over ...map[string]*string) []string {
	return testrig.Environ(append([]map[string]*string{w.Env}, over...)...)
}

// Write writes a file relative to HOME (or absolute) and returns its path.
func (w *World) Write(t testing.TB, rel, content string) string {
	t.Helper()
	return testrig.Write(t, w.Home, rel, content)
}

// Dir is the named XDG directory's awsrole subdirectory, with more path
// elements (e.g. Dir("XDG_STATE_HOME", "snapshots")).
func (w *World) Dir(xdg string, elem ...string) string {
	return filepath.Join(append([]string{*w.Env[xdg], "awsrole"}, elem...)...)
}

// DescribeCalls lists the stand-in's calls, one a line, for a failure
// message.
func DescribeCalls(calls []stsstub.Call) string {
	var b strings.Builder
	for i, c := range calls {
		fmt.Fprintf(&b, "  %d: %s %s key=%s role=%s session=%s status=%d err=%s\n", i, c.Time.Format("15:04:05.000"), c.Action, c.AccessKeyID, c.RoleArn, c.RoleSessionName, c.Status, c.Err)
	}
	if b.Len() == 0 {
		return "  (none)\n"
	}
	return b.String()
}

func sp(s string) *string { return &s }
