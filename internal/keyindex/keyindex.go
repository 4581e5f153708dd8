// Package keyindex is the list of the long-term keys `awsrole keys add`
// stored in the OS keyring, without their secrets: each name's access key
// id and MFA device. The prompt's binary reads it to name a source_keys
// source by a stable identity (name and key id) without opening the
// keyring, which only awsrole-keyring does; awsrole-keyring writes it
// whenever it adds, rotates or removes keys.
//
// An access key id is no secret (AWS prints it in CloudTrail and every
// signed request); the secret key lives only in the keyring.
package keyindex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/suggest"
)

// FileName is the index's file in awsrole's data directory.
const FileName = "keys.json"

// Index is the index file of one user.
type Index struct{ Path string }

// In is the index in awsrole's data directory (xdgdir.Dirs.Data).
func In(dataDir string) Index { return Index{Path: filepath.Join(dataDir, FileName)} }

// Entry is what the index holds of one name's keys.
type Entry struct {
	AccessKeyID string    `json:"access_key_id"`
	MFASerial   string    `json:"mfa_serial,omitempty"`
	Backend     string    `json:"backend"` // the keyring backend that holds the secret
	Added       time.Time `json:"added"`   // stored (added or rotated) at
}

type file struct {
	Version int              `json:"version"`
	Keys    map[string]Entry `json:"keys"`
}

// All is every entry, by name; none when the file does not exist.
func (ix Index) All() (map[string]Entry, error) {
	data, err := privfile.Read(ix.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]Entry{}, nil
	}
	if err != nil {
		return nil, err
	}
	var f file
	if err := json.Unmarshal(data, &f); err != nil || f.Version != 1 {
		return nil, fmt.Errorf("%s is damaged; run awsrole keys add for each of your keys again, or remove it if you have none stored", ix.Path)
	}
	if f.Keys == nil {
		f.Keys = map[string]Entry{}
	}
	return f.Keys, nil
}

// Names are the stored names, sorted.
func Names(all map[string]Entry) []string {
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup is credreq's view of name's keys: its identity without the
// secret. A name that is not stored is a NotFoundError.
func (ix Index) Lookup(name string) (credreq.StoredKeys, error) {
	all, err := ix.All()
	if err != nil {
		return credreq.StoredKeys{}, err
	}
	e, ok := all[name]
	if !ok {
		return credreq.StoredKeys{}, &NotFoundError{Name: name, Known: Names(all)}
	}
	return credreq.StoredKeys{Name: name, AccessKeyID: e.AccessKeyID, MFASerial: e.MFASerial}, nil
}

// Put records name's entry (added or rotated).
func (ix Index) Put(name string, e Entry) error {
	return ix.change(func(all map[string]Entry) { all[name] = e })
}

// Remove forgets name.
func (ix Index) Remove(name string) error {
	return ix.change(func(all map[string]Entry) { delete(all, name) })
}

// Replace writes all as the whole index, whatever the file held (awsrole
// keys reindex, which read all from the keyring).
func (ix Index) Replace(all map[string]Entry) error {
	return ix.write(func() (map[string]Entry, error) { return all, nil })
}

// change applies f to the index under its lock: two keys added at once
// are both recorded.
func (ix Index) change(f func(map[string]Entry)) error {
	return ix.write(func() (map[string]Entry, error) {
		all, err := ix.All()
		if err == nil {
			f(all)
		}
		return all, err
	})
}

// write writes what next gives, under the index's lock.
func (ix Index) write(next func() (map[string]Entry, error)) error {
	if err := privfile.Dir(filepath.Dir(ix.Path)); err != nil {
		return err
	}
	unlock, err := privfile.Lock(context.Background(), ix.Path+".lock", 10*time.Second)
	if err != nil {
		return fmt.Errorf("%s is being changed by another awsrole keys: %w", ix.Path, err)
	}
	defer unlock()
	all, err := next()
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(file{Version: 1, Keys: all}, "", "  ")
	if err != nil {
		return err
	}
	return privfile.Write(ix.Path, append(data, '\n'))
}

// NotFoundError: no keys are stored under Name.
type NotFoundError struct {
	Name  string
	Known []string
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("no keys named %q are stored", e.Name)
	switch near := suggest.Nearest(e.Name, e.Known); {
	case near != "":
		return msg + fmt.Sprintf("; did you mean %q? (awsrole keys list shows them all)", near)
	case len(e.Known) > 0:
		return msg + "; stored are: " + strings.Join(e.Known, ", ") + " (awsrole keys add " + e.Name + " stores new ones)"
	}
	return msg + "; store them with: awsrole keys add " + e.Name
}
