// Package keyring keeps the user's long-term AWS keys in the OS keyring
// (Keychain, Secret Service, KWallet, pass, the kernel's keyctl, an
// encrypted file) through github.com/99designs/keyring, and keeps the key
// index (internal/keyindex) in step with it.
//
// Only awsrole-keyring links it: the library connects to the D-Bus
// session bus when its package is initialised, in every process that
// links it, whether keys are needed or not (and without a bus it may start
// dbus-launch). The prompt's awsrole and awsrole-sts never pay for that.
package keyring

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	lib "github.com/99designs/keyring"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/keyindex"
)

// ServiceName scopes awsrole's items in backends that have services
// (Keychain, keyctl) and prefixes their keys in the others.
const ServiceName = "awsrole"

// itemPrefix starts the key of each of awsrole's items: the Secret
// Service collection is shared with the user's other applications.
const itemPrefix = ServiceName + ":"

// Collection is the Secret Service collection the keys go to: the one a
// desktop session unlocks at login. A collection of awsrole's own would
// need its own password, asked through a GUI prompter when it is created.
const Collection = "login"

// backends maps each keyring_backend name to the library's backend.
var backends = map[string]lib.BackendType{
	"keychain":       lib.KeychainBackend,
	"secret-service": lib.SecretServiceBackend,
	"kwallet":        lib.KWalletBackend,
	"pass":           lib.PassBackend,
	"keyctl":         lib.KeyCtlBackend,
	"file":           lib.FileBackend,
	"wincred":        lib.WinCredBackend,
}

// Keys are one name's long-term keys.
type Keys struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	MFASerial       string `json:"mfa_serial,omitempty"`
}

// Config is where the keys are kept and how to unlock them.
type Config struct {
	// Backend is the keyring_backend of the user config; "" is the
	// platform's (Default).
	Backend string
	// UserConfig is the user config's path, named in advice.
	UserConfig string
	// FileDir holds the encrypted file backend's files.
	FileDir string
	// Passphrase gives the encrypted file's passphrase: AWSROLE_FILE_PASSPHRASE,
	// else a prompt on the terminal.
	Passphrase func(prompt string) (string, error)
	// PassDir is pass's store ("" = PASSWORD_STORE_DIR, else ~/.password-store).
	PassDir string
	// Index is the key index kept in step with the keyring.
	Index keyindex.Index
	Now   func() time.Time
}

// Store is the opened keyring.
type Store struct {
	ring    lib.Keyring
	cfg     Config
	backend string
}

// Open opens cfg's backend.
func Open(cfg Config) (*Store, error) {
	name := cfg.Backend
	if name == "" {
		name = dirconfig.DefaultKeyringBackend()
	}
	bt, ok := backends[name]
	if !ok {
		return nil, fmt.Errorf("keyring_backend %q in %s is not one of %s", name, cfg.UserConfig, strings.Join(dirconfig.KeyringBackends, ", "))
	}
	if !slices.Contains(lib.AvailableBackends(), bt) {
		return nil, unavailable(name, cfg)
	}
	ring, err := lib.Open(lib.Config{
		AllowedBackends:         []lib.BackendType{bt},
		ServiceName:             ServiceName,
		LibSecretCollectionName: Collection,
		KWalletAppID:            ServiceName,
		KWalletFolder:           ServiceName,
		KeyCtlScope:             "user",
		FileDir:                 cfg.FileDir,
		FilePasswordFunc:        lib.PromptFunc(cfg.Passphrase),
		PassDir:                 cfg.PassDir,
		PassPrefix:              ServiceName,
		KeychainName:            "login",
	})
	if errors.Is(err, lib.ErrNoAvailImpl) && name == "secret-service" {
		// A bus, but no Secret Service on it (the library keeps the
		// cause to itself).
		return nil, fmt.Errorf("no Secret Service answers on the D-Bus session bus; start one (gnome-keyring-daemon --start --components=secrets, or KeePassXC with its Secret Service integration), or %s", choose(cfg))
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the %s keyring: %s; %s", name, credcache.OneLine(err.Error()), advice(name, cfg))
	}
	return &Store{ring: ring, cfg: cfg, backend: name}, nil
}

// Backend is the name of the opened backend.
func (s *Store) Backend() string { return s.backend }

// unavailable says why a backend cannot be had here, and what to do.
func unavailable(name string, cfg Config) error {
	switch name {
	case "secret-service", "kwallet":
		return fmt.Errorf("the %s keyring needs a D-Bus session bus, and there is none here (DBUS_SESSION_BUS_ADDRESS is unset or dead: no desktop session?); %s", name, choose(cfg))
	case "pass":
		return fmt.Errorf("the pass keyring needs the pass command on PATH; install pass (and gpg), or %s", choose(cfg))
	}
	return fmt.Errorf("the %s keyring is not available on %s; %s", name, runtime.GOOS, choose(cfg))
}

func choose(cfg Config) string {
	return fmt.Sprintf(`choose another backend: keyring_backend = "pass" or "file" in %s`, cfg.UserConfig)
}

// advice is what to do when the backend cannot be opened or read.
func advice(name string, cfg Config) string {
	switch name {
	case "secret-service":
		return "unlock (or create) your login keyring: log in to the desktop, or run gnome-keyring-daemon --unlock and type its password; or " + choose(cfg)
	case "pass":
		return "check that pass works (pass ls) and its GnuPG key is usable, or " + choose(cfg)
	case "file":
		return "check the passphrase (AWSROLE_FILE_PASSPHRASE, or the one typed)"
	case "keychain":
		return "unlock the login keychain, or " + choose(cfg)
	}
	return choose(cfg)
}

// Get returns name's keys.
func (s *Store) Get(name string) (Keys, error) {
	item, err := s.ring.Get(itemPrefix + name)
	if errors.Is(err, lib.ErrKeyNotFound) {
		return Keys{}, s.notFound(name)
	}
	if err != nil {
		return Keys{}, s.readError(err)
	}
	var k Keys
	if err := json.Unmarshal(item.Data, &k); err != nil || k.AccessKeyID == "" || k.SecretAccessKey == "" {
		return Keys{}, fmt.Errorf("the keys %q in the %s keyring are damaged; store them again: awsrole keys add %s", name, s.backend, name)
	}
	return k, nil
}

// readError is a failure to read the keyring: for the encrypted file, a
// wrong passphrase (the library only says the decryption failed).
func (s *Store) readError(err error) error {
	msg := credcache.OneLine(err.Error())
	if s.backend == "file" && !strings.Contains(msg, "no terminal") {
		return fmt.Errorf("cannot decrypt the encrypted file keyring in %s: wrong passphrase? type it again, or set AWSROLE_FILE_PASSPHRASE to the one the keys were stored with", s.cfg.FileDir)
	}
	return fmt.Errorf("cannot read the %s keyring: %s; %s", s.backend, msg, advice(s.backend, s.cfg))
}

func (s *Store) notFound(name string) error {
	names, _ := s.Names()
	return &keyindex.NotFoundError{Name: name, Known: names}
}

// Names are the names of the keys awsrole stored in this keyring, sorted.
func (s *Store) Names() ([]string, error) {
	all, err := s.ring.Keys()
	if err != nil {
		return nil, s.readError(err)
	}
	var names []string
	for _, k := range all {
		if n, ok := strings.CutPrefix(k, itemPrefix); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// Put stores k under name (replacing what was there) and records it in
// the index. Before the first write it reads one stored item back, so
// that a mistyped passphrase of the encrypted file cannot start a second
// set of files under another passphrase.
func (s *Store) Put(name string, k Keys) error {
	names, err := s.Names()
	if err != nil {
		return err
	}
	if len(names) > 0 {
		if _, err := s.Get(names[0]); err != nil {
			return err
		}
	}
	data, err := json.Marshal(k)
	if err != nil {
		return err
	}
	err = s.ring.Set(lib.Item{Key: itemPrefix + name, Data: data, Label: "awsrole " + name,
		Description: "AWS access key " + k.AccessKeyID + " (awsrole keys)"})
	if err != nil {
		return fmt.Errorf("cannot store %q in the %s keyring: %s; %s", name, s.backend, credcache.OneLine(err.Error()), advice(s.backend, s.cfg))
	}
	if err := s.cfg.Index.Put(name, s.entry(k)); err != nil {
		return &StaleIndexError{Name: name, Backend: s.backend, Err: err}
	}
	return nil
}

func (s *Store) entry(k Keys) keyindex.Entry {
	now := time.Now
	if s.cfg.Now != nil {
		now = s.cfg.Now
	}
	return keyindex.Entry{AccessKeyID: k.AccessKeyID, MFASerial: k.MFASerial, Backend: s.backend, Added: now().UTC()}
}

// StaleIndexError: Put stored the keys in the keyring, but could not
// record them in the key index, which still names what was there before
// (or is damaged).
type StaleIndexError struct {
	Name, Backend string
	Err           error
}

func (e *StaleIndexError) Error() string {
	return fmt.Sprintf("stored %s in the %s keyring, but the key index is stale (%s); rebuild it from the keyring: awsrole keys reindex",
		e.Name, e.Backend, credcache.OneLine(e.Err.Error()))
}

func (e *StaleIndexError) Unwrap() error { return e.Err }

// Reindex rebuilds the key index from what this keyring holds: each
// name's access key id and MFA device, read from the keyring itself. A
// name's entry keeps its date when the readable index named the same key;
// entries of other backends are kept. It returns the names indexed.
func (s *Store) Reindex() ([]string, error) {
	names, err := s.Names()
	if err != nil {
		return nil, err
	}
	old, _ := s.cfg.Index.All() // damaged: rebuilt from the keyring alone
	all := map[string]keyindex.Entry{}
	for n, e := range old {
		if e.Backend != s.backend {
			all[n] = e
		}
	}
	for _, n := range names {
		k, err := s.Get(n)
		if err != nil {
			return nil, err
		}
		e := s.entry(k)
		if o, ok := old[n]; ok && o.AccessKeyID == k.AccessKeyID && o.Backend == s.backend {
			e.Added = o.Added
		}
		all[n] = e
	}
	return names, s.cfg.Index.Replace(all)
}

// Remove removes name's keys from the keyring and the index.
func (s *Store) Remove(name string) error {
	names, err := s.Names()
	if err != nil {
		return err
	}
	if !slices.Contains(names, name) {
		return &keyindex.NotFoundError{Name: name, Known: names}
	}
	if err := s.ring.Remove(itemPrefix + name); err != nil && !errors.Is(err, lib.ErrKeyNotFound) {
		return fmt.Errorf("cannot remove %q from the %s keyring: %s; %s", name, s.backend, credcache.OneLine(err.Error()), advice(s.backend, s.cfg))
	}
	return s.cfg.Index.Remove(name)
}

// FileDir is the encrypted file backend's directory in awsrole's data
// directory.
func FileDir(dataDir string) string { return filepath.Join(dataDir, "keyring") }
