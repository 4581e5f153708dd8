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
// repeat the message nor hammer STS.
type Failure struct {
	PWD  string    `json:"pwd"`
	File string    `json:"file"`
	Hash string    `json:"hash"`
	At   time.Time `json:"at"`
}

func failureDir() string { return filepath.Join(Root(), "failures") }

func failurePath(pid int) string {
	return filepath.Join(failureDir(), fmt.Sprintf("%d.json", pid))
}

// RecordFailure notes that shell pid failed at f.
func RecordFailure(pid int, f Failure) error {
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return privfile.Write(failurePath(pid), data)
}

// Repeated reports whether shell pid's last failure was f, less than window
// before f.At.
func Repeated(pid int, f Failure, window time.Duration) bool {
	data, err := privfile.Read(failurePath(pid))
	if err != nil {
		return false
	}
	var last Failure
	if json.Unmarshal(data, &last) != nil {
		return false
	}
	return last.PWD == f.PWD && last.File == f.File && last.Hash == f.Hash &&
		f.At.Sub(last.At) < window && !f.At.Before(last.At)
}

// ClearFailure forgets shell pid's failure, after a success.
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
