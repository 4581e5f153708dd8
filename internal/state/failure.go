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

func failureDir() string { return filepath.Join(Root(), "failures") }

func failurePath(pid int) string {
	return filepath.Join(failureDir(), fmt.Sprintf("%d.json", pid))
}

func writeRecord(pid int, r record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return privfile.Write(failurePath(pid), data)
}

func readRecord(pid int) (record, bool) {
	var r record
	data, err := privfile.Read(failurePath(pid))
	if err != nil || json.Unmarshal(data, &r) != nil {
		return record{}, false
	}
	return r, true
}

// RecordFailure notes that shell pid failed at f.
func RecordFailure(pid int, f Failure) error {
	return writeRecord(pid, record{PWD: f.PWD, File: f.File, Hash: f.Hash, At: f.At, SignIn: f.SignIn, Error: f.Error})
}

// LastFailure is shell pid's last failure, if its last record is one.
func LastFailure(pid int) (Failure, bool) {
	r, ok := readRecord(pid)
	if !ok || r.Notice != "" {
		return Failure{}, false
	}
	return Failure{PWD: r.PWD, File: r.File, Hash: r.Hash, At: r.At, SignIn: r.SignIn, Error: r.Error}, true
}

// Repeated reports whether shell pid's last record is failure f, less than
// Backoff before f.At.
func Repeated(pid int, f Failure) bool {
	last, ok := lastFailure(pid, f)
	return ok && f.At.Sub(last.At) < Backoff && !f.At.Before(last.At)
}

// SignInFailed reports whether shell pid's last record is failure f,
// however long ago, and a sign-in on the terminal was part of it: the
// shell has not moved nor anything changed since.
func SignInFailed(pid int, f Failure) bool {
	last, ok := lastFailure(pid, f)
	return ok && last.SignIn
}

func lastFailure(pid int, f Failure) (record, bool) {
	last, ok := readRecord(pid)
	return last, ok && last.Notice == "" && last.PWD == f.PWD && last.File == f.File && last.Hash == f.Hash
}

// RecordNotice notes that shell pid heard n at now.
func RecordNotice(pid int, n Notice, now time.Time) error {
	return writeRecord(pid, record{PWD: n.PWD, File: n.File, Hash: n.Hash, At: now, Notice: n.Kind})
}

// Noticed reports whether shell pid's last record is notice n.
func Noticed(pid int, n Notice) bool {
	last, ok := readRecord(pid)
	return ok && last.Notice == n.Kind && last.PWD == n.PWD && last.File == n.File && last.Hash == n.Hash
}

// ClearFailure forgets shell pid's failure or notice, after a success or
// once it is out of every project.
func ClearFailure(pid int) {
	os.Remove(failurePath(pid))
}

func pruneFailures() {
	entries, err := os.ReadDir(failureDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(strings.TrimSuffix(e.Name(), ".json"))
		if err == nil && !Alive(pid) {
			os.Remove(filepath.Join(failureDir(), e.Name()))
		}
	}
}
