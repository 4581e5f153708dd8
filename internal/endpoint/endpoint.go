// Package endpoint is awsrole's per-user credential endpoint for
// `credentials = "endpoint"` mode: a small HTTP server on 127.0.0.1 that
// answers the container-credentials (ECS) format, so the SDKs and the CLI
// renew a project's role by themselves while a program runs for hours.
//
// Everything lives under $XDG_STATE_HOME/awsrole/endpoint, 0600 in a 0700
// directory:
//
//   - server.json: the running server's pid and port;
//   - tokens/<port>: the bearer token clients send to the server on that
//     port, new at every server start, which
//     AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE names (the SDKs read it at
//     every fetch, so running programs follow a restart on the same port);
//   - port: the port the last server listened on, which the next tries
//     first;
//   - roles/<id>.json: a Registration, the request a shell's export
//     registered under an opaque id (never credentials), with the file
//     and the content the user approved;
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

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/state"
	"github.com/awsrole/awsrole/internal/termsafe"
	"github.com/awsrole/awsrole/shellgen"
)

// Store is where the endpoint keeps its files: the server's record, its
// token, the registrations and the shells that use them.
type Store struct {
	Dir string
}

// StoreIn is the endpoint's store in awsrole's state directory
// (xdgdir.Dirs.State).
func StoreIn(stateDir string) Store { return Store{Dir: filepath.Join(stateDir, "endpoint")} }

// InfoPath is the running server's record.
func (store Store) InfoPath() string { return filepath.Join(store.Dir, "server.json") }

// TokenPath holds the token of the server on port: the file that
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE names. One file per port: a
// program still pointed at a port the server no longer has (another
// process took it while none ran) finds no token to send there.
func (store Store) TokenPath(port int) string {
	return filepath.Join(store.tokenDir(), strconv.Itoa(port))
}

func (store Store) tokenDir() string { return filepath.Join(store.Dir, "tokens") }

// PortPath holds the port the last server listened on.
func (store Store) PortPath() string { return filepath.Join(store.Dir, "port") }

// ServedPath holds what the server last served or failed with, per id.
func (store Store) ServedPath() string { return filepath.Join(store.Dir, "served.json") }

// ServerLockPath is held by the running server for its whole life.
func (store Store) ServerLockPath() string { return filepath.Join(store.Dir, "server.lock") }

// RolePath holds the registration of id.
func (store Store) RolePath(id string) string { return filepath.Join(store.Dir, "roles", id+".json") }

func (store Store) shellPath(pid int) string {
	return filepath.Join(store.Dir, "shells", strconv.Itoa(pid))
}
func (store Store) startLockPath() string { return filepath.Join(store.Dir, "start.lock") }

// Info is what a running server records about itself.
type Info struct {
	PID     int       `json:"pid"`
	Port    int       `json:"port"`
	Started time.Time `json:"started"`
}

// URL is the base URL of the server.
func (i Info) URL() string { return "http://127.0.0.1:" + strconv.Itoa(i.Port) }

// ReadInfo reads server.json; ok is false when there is none.
func (store Store) ReadInfo() (Info, bool) {
	var i Info
	data, err := privfile.Read(store.InfoPath())
	if err != nil || json.Unmarshal(data, &i) != nil || i.PID <= 0 || i.Port <= 0 || i.Port > 65535 {
		return Info{}, false
	}
	return i, true
}

// ReadToken reads the token of the server on port.
func (store Store) ReadToken(port int) (string, error) {
	data, err := privfile.Read(store.TokenPath(port))
	if err != nil {
		return "", fmt.Errorf("credential endpoint token: %w", err)
	}
	tok := string(data)
	if len(tok) != 64 || !validHex(tok) {
		return "", fmt.Errorf("credential endpoint token %s is damaged; run: awsrole serve --stop, then cd into the project again", store.TokenPath(port))
	}
	return tok, nil
}

// NewToken makes the token of a server starting on port and writes it,
// alone and atomically, where clients read it; the tokens of other ports
// (servers that died, or a port this one could not have) go.
func (store Store) NewToken(port int) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(b)
	// No newline: botocore and aws-sdk-go-v2 refuse a token file with one.
	if err := privfile.Write(store.TokenPath(port), []byte(tok)); err != nil {
		return "", err
	}
	entries, _ := os.ReadDir(store.tokenDir())
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil && n != port {
			os.Remove(filepath.Join(store.tokenDir(), e.Name()))
		}
	}
	os.Remove(filepath.Join(store.Dir, "token")) // the one token of earlier versions
	_ = privfile.Write(store.PortPath(), []byte(strconv.Itoa(port)))
	return tok, nil
}

// RemoveToken removes the token file of port if it still holds tok: a
// server that stops leaves no token for whoever takes its port next.
func (store Store) RemoveToken(port int, tok string) {
	if old, err := store.ReadToken(port); err == nil && old == tok {
		os.Remove(store.TokenPath(port))
	}
}

// LastPort is the port the last server listened on, 0 if none is known.
func (store Store) LastPort() int {
	data, err := privfile.Read(store.PortPath())
	if err != nil {
		return 0
	}
	port, err := strconv.Atoi(string(data))
	if err != nil || port <= 0 || port > 65535 {
		return 0
	}
	return port
}

// Registration is what a shell's export registers for the server to serve
// under an opaque id: the request and the source it was resolved to, never
// credentials, and the project file with the content the user approved,
// which the server checks again at every request (Approved).
type Registration struct {
	Version int             `json:"version"`
	Request credreq.Request `json:"request"`
	Source  credreq.Source  `json:"source"`
	Dir     string          `json:"dir"`
	File    string          `json:"file"`
	Hash    string          `json:"hash"` // dirconfig.Config.Hash of the approved content
}

// registrationVersion 2 added File and Hash: a registration without them
// (an earlier version's) is never served.
const registrationVersion = 2

// ID is the opaque id of the role req gets from src for the file cfg with
// its approved content: shells of one project share it, switching projects
// or editing the file switches it, and two projects naming the same role
// do not share one (denying one must not leave it served, nor cut off the
// other).
func ID(cache credcache.Cache, req credreq.Request, src credreq.Source, cfg *dirconfig.Config) string {
	sum := sha256.Sum256([]byte("awsrole endpoint v2\x00" + cache.Final(req, src).Path + "\x00" + cfg.Path + "\x00" + cfg.Hash))
	return hex.EncodeToString(sum[:16])
}

// Register records req (resolved to src, for the project file cfg as it
// was approved) and that process pid uses it, and returns the id; cache
// is the credential cache the role's entries are in.
func (store Store) Register(cache credcache.Cache, req credreq.Request, src credreq.Source, cfg *dirconfig.Config, pid int) (string, error) {
	id := ID(cache, req, src, cfg)
	data, err := json.Marshal(Registration{Version: registrationVersion, Request: req, Source: src,
		Dir: cfg.Dir, File: cfg.Path, Hash: cfg.Hash})
	if err != nil {
		return "", err
	}
	if old, err := privfile.Read(store.RolePath(id)); err != nil || string(old) != string(data) {
		if err := privfile.Write(store.RolePath(id), data); err != nil {
			return "", fmt.Errorf("register with the credential endpoint: %w", err)
		}
	}
	if err := privfile.Write(store.shellPath(pid), []byte(id)); err != nil {
		return "", fmt.Errorf("register with the credential endpoint: %w", err)
	}
	return id, nil
}

// Revoked is Approved's answer for a registration that must never be
// served again: its file is denied, edited or gone.
type Revoked struct{ Err error }

func (e *Revoked) Error() string { return e.Err.Error() }

// Unwrap gives the cause.
func (e *Revoked) Unwrap() error { return e.Err }

// Approved checks that the file r was registered for still exists, still
// holds the content that was approved and is still trusted, as the hook
// would judge it now: the server asks at every request, so a deny, an edit
// or a removal ends the serving by construction, whoever holds the token.
// Those come back as *Revoked; an unreadable user config or trust store
// is refused for now but revokes nothing.
func (r *Registration) Approved(userConfig string, trust dirconfig.TrustStore) error {
	user, err := dirconfig.LoadUserConfig(userConfig)
	if err != nil {
		return err
	}
	cfg, err := dirconfig.Load(r.File)
	if err != nil {
		return &Revoked{fmt.Errorf("%w; the credential endpoint no longer serves its role", err)}
	}
	if cfg.Hash != r.Hash {
		return &Revoked{fmt.Errorf("%s has changed since it was approved, so the credential endpoint no longer serves its role; check its content, run: awsrole allow %s, then cd into the project again",
			termsafe.String(cfg.Path), quoted(cfg.Dir))}
	}
	t, err := trust.Of(cfg, user)
	if err != nil {
		return fmt.Errorf("%w; the credential endpoint does not serve %s until that is mended", err, termsafe.String(cfg.Path))
	}
	switch t {
	case dirconfig.TrustAllowed:
		return nil
	case dirconfig.TrustDenied:
		return &Revoked{fmt.Errorf("%s is denied, so the credential endpoint no longer serves its role; to use it, run: awsrole allow %s, then cd into the project again",
			termsafe.String(cfg.Path), quoted(cfg.Dir))}
	}
	return &Revoked{fmt.Errorf("%s is no longer allowed, so the credential endpoint no longer serves its role; check its content, run: awsrole allow %s, then cd into the project again",
		termsafe.String(cfg.Path), quoted(cfg.Dir))}
}

// quoted makes dir one word for a bash command line in a message.
func quoted(dir string) string {
	if q, err := shellgen.Quote("bash", dir); err == nil {
		return q
	}
	return termsafe.String(dir)
}

// Drop removes the registration of id if it still holds what r was read
// from: one registered again since (the file approved anew) stays.
func (store Store) Drop(id string, r *Registration) {
	data, err := json.Marshal(r)
	if err != nil {
		return
	}
	if cur, err := privfile.Read(store.RolePath(id)); err == nil && string(cur) == string(data) {
		os.Remove(store.RolePath(id))
	}
}

// Release says process pid no longer uses the endpoint.
func (store Store) Release(pid int) {
	os.Remove(store.shellPath(pid))
}

// LoadRegistration reads the registration of id; fs.ErrNotExist when there
// is none.
func (store Store) LoadRegistration(id string) (*Registration, error) {
	if !validID(id) {
		return nil, fs.ErrNotExist
	}
	data, err := privfile.Read(store.RolePath(id))
	if err != nil {
		return nil, err
	}
	var r Registration
	if err := json.Unmarshal(data, &r); err != nil || r.Version != registrationVersion || r.Request.Label() == "" || r.File == "" || r.Hash == "" {
		return nil, fmt.Errorf("registration %s is damaged; cd into the project again", store.RolePath(id))
	}
	return &r, nil
}

func validID(id string) bool { return len(id) == 32 && validHex(id) }

// validHex reports whether s is lowercase hexadecimal.
func validHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// LiveUsers counts the live processes registered as using the endpoint,
// and removes the entries of those that are gone.
func (store Store) LiveUsers() int {
	entries, err := os.ReadDir(filepath.Join(store.Dir, "shells"))
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
			store.Release(pid)
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
func (store Store) ReadServed() map[string]Served {
	out := map[string]Served{}
	data, err := privfile.Read(store.ServedPath())
	if err != nil {
		return out
	}
	_ = json.Unmarshal(data, &out)
	return out
}

// Running returns the server's record if its process is alive and holds
// the server lock (a lock dies with its process, kill -9 included, so a
// recycled pid is not taken for a server).
func (store Store) Running() (Info, bool) {
	i, ok := store.ReadInfo()
	if !ok || !state.Alive(i.PID) || zombie(i.PID) || !store.serverLocked() {
		return Info{}, false
	}
	return i, true
}

// serverLocked reports whether some process holds the server lock.
func (store Store) serverLocked() bool {
	lock := flock.New(store.ServerLockPath())
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
