// Package keyscmd is awsrole-keyring's command line: add, list, rm and
// rotate for `awsrole keys`, and get for awsrole-sts (the keys of a
// source_keys source, as JSON on a pipe, never on a terminal).
package keyscmd

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/keyindex"
	"github.com/awsrole/awsrole/internal/keyring"
	"github.com/awsrole/awsrole/internal/termsafe"
	"github.com/awsrole/awsrole/internal/tty"
	"github.com/awsrole/awsrole/internal/wire"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

// Deps are what the commands work with, read from the environment once in
// main.
type Deps struct {
	Dirs                  xdgdir.Dirs
	Passphrase            string // AWSROLE_FILE_PASSPHRASE; "" = ask on the terminal
	Environ               []string
	Stdin                 *os.File
	Stdout, Stderr        io.Writer
	Now                   func() time.Time
	AskLine, AskSecretLn  func(prompt string) (string, error)
	RotateWait, RotateTry time.Duration // rotation's wait for IAM; 0 = defaults

	// confirm asks for a typed passphrase twice: it is the first, which
	// the encrypted file keyring will be created with.
	confirm bool
}

// FromEnv are the Deps of a process whose environment getenv reads.
func FromEnv(getenv func(string) string, environ []string) Deps {
	return Deps{Dirs: xdgdir.FromEnv(getenv), Passphrase: getenv(wire.PassphraseVar), Environ: environ,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now, AskLine: tty.Ask, AskSecretLn: tty.AskSecret}
}

// Main runs one command and returns the exit status; a failure is one
// line on stderr.
func Main(args []string, d Deps) int {
	if err := run(args, d); err != nil {
		fmt.Fprintf(d.Stderr, "awsrole: %s\n", termsafe.String(strings.Join(strings.Fields(err.Error()), " ")))
		return 1
	}
	return 0
}

func run(args []string, d Deps) error {
	if len(args) == 0 {
		return errors.New("usage: awsrole keys add|list|rm|rotate NAME, or awsrole keys reindex")
	}
	fs := flag.NewFlagSet("awsrole keys "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	mfa := fs.String("mfa-serial", "", "")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("awsrole keys %s: %w", args[0], err)
	}
	rest := fs.Args()
	switch args[0] {
	case "list":
		return list(d)
	case "reindex":
		return reindex(d)
	}
	if len(rest) != 1 {
		return fmt.Errorf("awsrole keys %s needs one NAME", args[0])
	}
	name := rest[0]
	if _, err := dirconfig.CheckKeysName(name); err != nil {
		return fmt.Errorf("NAME %w", err)
	}
	switch args[0] {
	case "add":
		return add(d, name, *mfa)
	case "rm":
		return remove(d, name)
	case "get":
		return get(d, name)
	case "rotate":
		return rotate(d, name)
	}
	return fmt.Errorf("unknown command awsrole keys %s; use add, list, rm, rotate or reindex", args[0])
}

// open opens the keyring the user config names.
func open(d Deps) (*keyring.Store, error) {
	path := dirconfig.UserConfigPath(d.Dirs.Config)
	user, err := dirconfig.LoadUserConfig(path)
	if err != nil {
		return nil, err
	}
	return keyring.Open(keyring.Config{Backend: user.KeyringBackend, UserConfig: path, FileDir: keyring.FileDir(d.Dirs.Data),
		Passphrase: d.passphrase, Index: keyindex.In(d.Dirs.Data), Now: d.Now})
}

// passphrase is the encrypted file's: AWSROLE_FILE_PASSPHRASE, else typed
// on the terminal.
func (d Deps) passphrase(prompt string) (string, error) {
	if d.Passphrase != "" {
		return d.Passphrase, nil
	}
	p, err := d.AskSecretLn(prompt + ":")
	if errors.Is(err, tty.ErrNoTerminal) {
		return "", fmt.Errorf("the encrypted file keyring needs its passphrase and there is no terminal to ask on; set %s", wire.PassphraseVar)
	}
	if err == nil && p == "" {
		err = errors.New("no passphrase typed")
	}
	if err == nil && d.confirm {
		again, err := d.AskSecretLn("Type the new passphrase again:")
		if err != nil {
			return "", err
		}
		if again != p {
			return "", errors.New("the two passphrases typed differ; nothing is stored: run awsrole keys add again")
		}
	}
	return p, err
}

// accessKeyRE and secretRE are a key's two parts but for their length
// (16..128, keyLen), checked apart: a bounded repeat compiles into a copy
// per count, which every process start would pay for.
var (
	accessKeyRE = regexp.MustCompile(`^[A-Z0-9]+$`)
	secretRE    = regexp.MustCompile(`^[A-Za-z0-9/+=]+$`)
)

// keyLen is whether s has the length of an access key id or secret.
func keyLen(s string) bool { return len(s) >= 16 && len(s) <= 128 }

func add(d Deps, name, mfa string) error {
	if mfa != "" {
		if err := dirconfig.CheckMFASerial(mfa); err != nil {
			return fmt.Errorf("--mfa-serial %w", err)
		}
	}
	id, secret, err := readKeys(d)
	if err != nil {
		return err
	}
	switch {
	case strings.HasPrefix(id, "ASIA"):
		return errors.New("the access key id starts with ASIA: a temporary key, which expires and needs its session token; store an IAM user's long-term key (AKIA…)")
	case !keyLen(id) || !accessKeyRE.MatchString(id):
		return errors.New("the first line is not an access key id (AKIA followed by 16 or more capitals and digits); give the access key id first, then the secret access key")
	case !keyLen(secret) || !secretRE.MatchString(secret):
		return errors.New("the second line is not a secret access key (40 letters, digits and /+); give the access key id first, then the secret access key")
	}
	s, err := open(d)
	if err != nil {
		return err
	}
	names, err := s.Names()
	if err != nil {
		return err
	}
	if len(names) == 0 && s.Backend() == "file" && d.Passphrase == "" {
		// The first key creates the encrypted file keyring under the
		// passphrase typed now: a typo in it would lock the user out.
		d.confirm = true
		if s, err = open(d); err != nil {
			return err
		}
	}
	// What the index says was stored under name, to say what is replaced.
	was, _ := keyindex.In(d.Dirs.Data).Lookup(name)
	if err := s.Put(name, keyring.Keys{AccessKeyID: id, SecretAccessKey: secret, MFASerial: mfa}); err != nil {
		return err
	}
	if slices.Contains(names, name) && was.AccessKeyID != id {
		old := ""
		if was.AccessKeyID != "" {
			old = " " + was.AccessKeyID
		}
		fmt.Fprintf(d.Stderr, "awsrole: replaced the key%s stored as %s with %s in the %s keyring (the old key is still valid in IAM: deactivate it there if it is no longer needed)\n", old, name, id, s.Backend())
		return nil
	}
	fmt.Fprintf(d.Stderr, "awsrole: stored %s (%s) in the %s keyring; name it with source_keys = %q\n", name, id, s.Backend(), name)
	return nil
}

// readKeys reads the access key id and the secret: on the terminal
// without echo when standard input is one, else two lines of it.
func readKeys(d Deps) (id, secret string, err error) {
	if tty.IsTerminal(d.Stdin) {
		if id, err = d.AskLine("Access key ID:"); err != nil {
			return "", "", err
		}
		if secret, err = d.AskSecretLn("Secret access key:"); err != nil {
			return "", "", err
		}
		return strings.TrimSpace(id), strings.TrimSpace(secret), nil
	}
	r := bufio.NewReader(io.LimitReader(d.Stdin, 4096))
	line := func() string {
		l, _ := r.ReadString('\n')
		return strings.TrimSpace(l)
	}
	id, secret = line(), line()
	if id == "" || secret == "" {
		return "", "", errors.New("give the keys on standard input, two lines: the access key id, then the secret access key (or run on a terminal to type them)")
	}
	return id, secret, nil
}

func list(d Deps) error {
	s, err := open(d)
	if err != nil {
		return err
	}
	names, err := s.Names()
	if err != nil {
		return err
	}
	index, err := keyindex.In(d.Dirs.Data).All()
	if err != nil {
		return err
	}
	if len(names) == 0 && len(index) == 0 {
		fmt.Fprintf(d.Stderr, "awsrole: no keys stored in the %s keyring; add some with: awsrole keys add NAME\n", s.Backend())
		return nil
	}
	w := tabwriter.NewWriter(d.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tACCESS KEY ID\tMFA DEVICE\tSTORED\tBACKEND")
	inRing := map[string]bool{}
	for _, n := range names {
		inRing[n] = true
		e, ok := index[n]
		if !ok {
			fmt.Fprintf(w, "%s\t?\t\t\t%s (unknown to awsrole's index: run awsrole keys reindex)\n", n, s.Backend())
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", n, e.AccessKeyID, dash(e.MFASerial), e.Added.Format(time.DateOnly), s.Backend())
	}
	for _, n := range keyindex.Names(index) {
		if !inRing[n] {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s (not in the %s keyring)\n", n, index[n].AccessKeyID, dash(index[n].MFASerial), index[n].Added.Format(time.DateOnly), index[n].Backend, s.Backend())
		}
	}
	return w.Flush()
}

// reindex rebuilds the key index from the keyring: after a rotation or an
// add that stored its keys but could not record them.
func reindex(d Deps) error {
	s, err := open(d)
	if err != nil {
		return err
	}
	names, err := s.Reindex()
	if err != nil {
		return err
	}
	fmt.Fprintf(d.Stderr, "awsrole: rebuilt the key index from the %s keyring: %d keys (%s)\n", s.Backend(), len(names), strings.Join(names, ", "))
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func remove(d Deps, name string) error {
	s, err := open(d)
	if err != nil {
		return err
	}
	if err := s.Remove(name); err != nil {
		return err
	}
	fmt.Fprintf(d.Stderr, "awsrole: removed %s from the %s keyring (the key itself is still valid in IAM: deactivate it there if it is no longer needed)\n", name, s.Backend())
	return nil
}

// get writes name's keys as JSON for awsrole-sts, on a pipe only: a
// secret never goes to a terminal.
func get(d Deps, name string) error {
	if f, ok := d.Stdout.(*os.File); ok && tty.IsTerminal(f) {
		return errors.New("get writes secret keys for awsrole-sts, never to a terminal")
	}
	s, err := open(d)
	if err != nil {
		return err
	}
	k, err := s.Get(name)
	if err != nil {
		return err
	}
	return json.NewEncoder(d.Stdout).Encode(k)
}
