package keyscmd_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/keyring/keyscmd"
	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

// TestRotateLocked: while another rotation of a name holds its lock, a
// second one says so and touches nothing (not the keyring, not IAM).
func TestRotateLocked(t *testing.T) {
	root := t.TempDir()
	dirs := xdgdir.Dirs{Config: filepath.Join(root, "config"), Data: filepath.Join(root, "data"), Cache: filepath.Join(root, "cache"), State: filepath.Join(root, "state")}
	if err := privfile.Dir(dirs.Data); err != nil {
		t.Fatal(err)
	}
	unlock, err := privfile.Lock(context.Background(), filepath.Join(dirs.Data, "keys.json.rotate-bob"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	var stderr strings.Builder
	code := keyscmd.Main([]string{"rotate", "bob"}, keyscmd.Deps{Dirs: dirs, Stderr: &stderr, Now: time.Now})
	if code == 0 || !strings.Contains(stderr.String(), "another awsrole keys rotate bob is under way") || strings.Count(stderr.String(), "\n") != 1 {
		t.Fatalf("rotate while another holds the lock: exit %d, %q", code, stderr.String())
	}
	// Another name rotates on its own (here it fails further on: nothing
	// is stored under it), not held by bob's lock.
	if err := os.MkdirAll(filepath.Dir(dirconfig.UserConfigPath(dirs.Config)), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dirconfig.UserConfigPath(dirs.Config), []byte("keyring_backend = \"file\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	keyscmd.Main([]string{"rotate", "carol"}, keyscmd.Deps{Dirs: dirs, Stderr: &stderr, Now: time.Now, Passphrase: "p"})
	if !strings.Contains(stderr.String(), `no keys named "carol"`) {
		t.Fatalf("carol's rotation waited for bob's lock: %q", stderr.String())
	}
}
