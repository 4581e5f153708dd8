package state

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/awsrole/awsrole/internal/privfile"
)

// Backoff is how long a shell waits before trying again what failed, unless
// the directory or the file changes first.
const Backoff = time.Minute

// Failure records what a shell last failed at, so the next prompts neither
// repeat the message nor hammer STS for Backoff.
type Failure struct {
	PWD  string
	File string // the file that failed, or the step when no file did ("find", "user-config")
	Hash string // the file's content or state, as far as it decides the outcome
	At   time.Time
	// SignIn: a sign-in on the terminal was made and did not complete.
	SignIn bool
	// Error is the line the shell was told, for `awsrole status` to say
	// the same.
	Error string
}

// Notice is a message about a file that a shell hears once: it stays said,
// however long the shell stays, until the shell's record is replaced (by
// another failure or notice) or cleared (ClearFailure).
type Notice struct {
	PWD, File, Hash string
	Kind            NoticeKind
}

// NoticeKind tells the notices about one file apart.
type NoticeKind string

// The notices a shell hears once.
const (
	Blocked  NoticeKind = "blocked"  // the file is not allowed yet, or denied
	Declined NoticeKind = "declined" // the file asks before entering, and the answer was no (or no one could answer)
)

// record is a shell's failures/PID.json: its last failure or notice.
type record struct {
	PWD    string     `json:"pwd"`
	File   string     `json:"file"`
	Hash   string     `json:"hash"`
	At     time.Time  `json:"at"`
	Notice NoticeKind `json:"notice,omitempty"` // "" for a failure
	SignIn bool       `json:"sign_in,omitempty"`
	Error  string     `json:"error,omitempty"`
}

func (st Store) failureDir() string { return filepath.Join(st.Dir, "failures") }

func (st Store) failurePath(pid int) string {
	return filepath.Join(st.failureDir(), fmt.Sprintf("%d.json", pid))
}

func (st Store) writeRecord(pid int, r record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return privfile.Write(st.failurePath(pid), data)
}

// Record is a shell's last failure or notice as read once: a hook call
// reads it before deciding anything and asks it every question (Repeats,
// SignInFailed, Noticed) without reading the file again. A nil *Record is
// a shell with no record.
type Record struct{ r record }

// Last reads shell pid's record; nil when it has none (or it cannot be
// read, which counts as none).
func (st Store) Last(pid int) *Record {
	var r record
	data, err := privfile.Read(st.failurePath(pid))
	if err != nil || json.Unmarshal(data, &r) != nil {
		return nil
	}
	return &Record{r}
}

// RecordFailure notes that shell pid failed at f.
func (st Store) RecordFailure(pid int, f Failure) error {
	return st.writeRecord(pid, record{PWD: f.PWD, File: f.File, Hash: f.Hash, At: f.At, SignIn: f.SignIn, Error: f.Error})
}

// Failure is the record's failure, if the record is one.
func (rec *Record) Failure() (Failure, bool) {
	if rec == nil || rec.r.Notice != "" {
		return Failure{}, false
	}
	r := rec.r
	return Failure{PWD: r.PWD, File: r.File, Hash: r.Hash, At: r.At, SignIn: r.SignIn, Error: r.Error}, true
}

// Repeats reports whether the record is failure f, less than Backoff
// before f.At.
func (rec *Record) Repeats(f Failure) bool {
	return rec.isFailure(f) && f.At.Sub(rec.r.At) < Backoff && !f.At.Before(rec.r.At)
}

// SignInFailed reports whether the record is failure f, however long ago,
// and a sign-in on the terminal was part of it: the shell has not moved
// nor anything changed since.
func (rec *Record) SignInFailed(f Failure) bool {
	return rec.isFailure(f) && rec.r.SignIn
}

func (rec *Record) isFailure(f Failure) bool {
	return rec != nil && rec.r.Notice == "" && rec.r.PWD == f.PWD && rec.r.File == f.File && rec.r.Hash == f.Hash
}

// RecordNotice notes that shell pid heard n at now, and returns the record
// that is now the shell's.
func (st Store) RecordNotice(pid int, n Notice, now time.Time) (*Record, error) {
	r := record{PWD: n.PWD, File: n.File, Hash: n.Hash, At: now, Notice: n.Kind}
	return &Record{r}, st.writeRecord(pid, r)
}

// Noticed reports whether the record is notice n.
func (rec *Record) Noticed(n Notice) bool {
	return rec != nil && rec.r.Notice == n.Kind && rec.r.PWD == n.PWD && rec.r.File == n.File && rec.r.Hash == n.Hash
}

// ClearFailure forgets shell pid's failure or notice, after a success or
// once it is out of every project.
func (st Store) ClearFailure(pid int) {
	os.Remove(st.failurePath(pid))
}

func (st Store) pruneFailures() {
	entries, err := os.ReadDir(st.failureDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(strings.TrimSuffix(e.Name(), ".json"))
		if err == nil && !Alive(pid) {
			os.Remove(filepath.Join(st.failureDir(), e.Name()))
		}
	}
}
