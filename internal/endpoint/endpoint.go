// Package endpoint is awsrole's per-user credential endpoint for
// `credentials = "endpoint"` mode: a small HTTP server on 127.0.0.1 that
// answers the container-credentials (ECS) format, so the SDKs and the CLI
// renew a project's role by themselves while a program runs for hours.
//
// Everything lives under $XDG_STATE_HOME/awsrole/endpoint, 0600 in a 0700
// directory:
//
//   - server.json: the running server's pid and port;
//   - token: the bearer token clients send (random, per user);
//   - roles/<id>.json: a Registration, the request a shell's export
//     registered under an opaque id (never credentials);
//   - shells/<pid>: the id a live shell (or an `exec --endpoint` child)
//     uses, so the server knows it is still needed;
//   - served.json: what the server last handed out or failed with, per id,
//     for `awsrole status`;
//   - server.lock (held by the server for its lifetime: one per user) and
//     start.lock (held by whoever starts one: two shells start one).
//
// The server is awsrole-sts (package server): it links the AWS SDK anyway,
// starts once an hour at most, and renews in-process through the same
// providers, cache and lock as the hook. awsrole, which runs at prompts,
// only starts it and writes registrations: it links neither the SDK nor
// net/http, and tells a running server by the lock it holds.
package endpoint

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/state"
)

// Dir is where the endpoint keeps its files.
func Dir() string { return filepath.Join(state.Root(), "endpoint") }

// InfoPath is the running server's record.
func InfoPath() string { return filepath.Join(Dir(), "server.json") }

// TokenPath holds the token clients send.
func TokenPath() string { return filepath.Join(Dir(), "token") }

// ServedPath holds what the server last served or failed with, per id.
func ServedPath() string { return filepath.Join(Dir(), "served.json") }

// ServerLockPath is held by the running server for its whole life.
func ServerLockPath() string { return filepath.Join(Dir(), "server.lock") }

// RolePath holds the registration of id.
func RolePath(id string) string { return filepath.Join(Dir(), "roles", id+".json") }

func shellPath(pid int) string { return filepath.Join(Dir(), "shells", strconv.Itoa(pid)) }
func startLockPath() string    { return filepath.Join(Dir(), "start.lock") }

// Info is what a running server records about itself.
type Info struct {
	PID     int       `json:"pid"`
	Port    int       `json:"port"`
	Started time.Time `json:"started"`
}

// URL is the base URL of the server.
func (i Info) URL() string { return "http://127.0.0.1:" + strconv.Itoa(i.Port) }

// ReadInfo reads server.json; ok is false when there is none.
func ReadInfo() (Info, bool) {
	var i Info
	data, err := privfile.Read(InfoPath())
	if err != nil || json.Unmarshal(data, &i) != nil || i.PID <= 0 || i.Port <= 0 || i.Port > 65535 {
		return Info{}, false
	}
	return i, true
}

// ReadToken reads the bearer token clients must send.
func ReadToken() (string, error) {
	data, err := privfile.Read(TokenPath())
	if err != nil {
		return "", fmt.Errorf("credential endpoint token: %w", err)
	}
	tok := strings.TrimSpace(string(data))
	if len(tok) < 32 {
		return "", fmt.Errorf("credential endpoint token %s is damaged", TokenPath())
	}
	return tok, nil
}

// NewToken is a new random token.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Registration is what a shell's export registers for the server to serve
// under an opaque id: the request and the source it was resolved to, never
// credentials.
type Registration struct {
	Version int               `json:"version"`
	Request credcache.Request `json:"request"`
	Source  credcache.Source  `json:"source"`
	Dir     string            `json:"dir"`
}

const registrationVersion = 1

// ID is the opaque id of the role req gets from src: one id per cache
// entry, so shells of one project share it and switching projects switches
// it.
func ID(req credcache.Request, src credcache.Source) string {
	sum := sha256.Sum256([]byte("awsrole endpoint v1\x00" + credcache.Final(req, src).Path))
	return hex.EncodeToString(sum[:16])
}

// Register records req (resolved to src, for the project in dir) and that
// process pid uses it, and returns the id.
func Register(req credcache.Request, src credcache.Source, dir string, pid int) (string, error) {
	id := ID(req, src)
	data, err := json.Marshal(Registration{Version: registrationVersion, Request: req, Source: src, Dir: dir})
	if err != nil {
		return "", err
	}
	if old, err := privfile.Read(RolePath(id)); err != nil || string(old) != string(data) {
		if err := privfile.Write(RolePath(id), data); err != nil {
			return "", fmt.Errorf("register with the credential endpoint: %w", err)
		}
	}
	if err := privfile.Write(shellPath(pid), []byte(id)); err != nil {
		return "", fmt.Errorf("register with the credential endpoint: %w", err)
	}
	return id, nil
}

// Release says process pid no longer uses the endpoint.
func Release(pid int) {
	os.Remove(shellPath(pid))
}

// LoadRegistration reads the registration of id; fs.ErrNotExist when there
// is none.
func LoadRegistration(id string) (*Registration, error) {
	if !validID(id) {
		return nil, fs.ErrNotExist
	}
	data, err := privfile.Read(RolePath(id))
	if err != nil {
		return nil, err
	}
	var r Registration
	if err := json.Unmarshal(data, &r); err != nil || r.Version != registrationVersion || r.Request.Label() == "" {
		return nil, fmt.Errorf("registration %s is damaged; cd into the project again", RolePath(id))
	}
	return &r, nil
}

func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

// LiveUsers counts the live processes registered as using the endpoint,
// and removes the entries of those that are gone.
func LiveUsers() int {
	entries, err := os.ReadDir(filepath.Join(Dir(), "shells"))
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if state.Alive(pid) && !zombie(pid) {
			n++
		} else {
			Release(pid)
		}
	}
	return n
}

// zombie reports whether pid has exited and awaits its parent's wait.
func zombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] == 'Z'
}

// Served is what the server last did for one id: for `awsrole status`.
type Served struct {
	Role       string    `json:"role"`
	Dir        string    `json:"dir"`
	Expiration time.Time `json:"expiration,omitzero"`
	Error      string    `json:"error,omitempty"`
	At         time.Time `json:"at"`
}

// ReadServed reads what the running server last recorded, by id.
func ReadServed() map[string]Served {
	out := map[string]Served{}
	data, err := privfile.Read(ServedPath())
	if err != nil {
		return out
	}
	_ = json.Unmarshal(data, &out)
	return out
}

// Running returns the server's record if its process is alive and holds
// the server lock (a lock dies with its process, kill -9 included, so a
// recycled pid is not taken for a server).
func Running() (Info, bool) {
	i, ok := ReadInfo()
	if !ok || !state.Alive(i.PID) || zombie(i.PID) || !serverLocked() {
		return Info{}, false
	}
	return i, true
}

// serverLocked reports whether some process holds the server lock.
func serverLocked() bool {
	lock := flock.New(ServerLockPath())
	ok, err := lock.TryRLock()
	if err != nil {
		return false
	}
	if ok {
		lock.Unlock()
	}
	return !ok
}

// ErrNotRunning says no server runs.
var ErrNotRunning = errors.New("the credential endpoint is not running")
