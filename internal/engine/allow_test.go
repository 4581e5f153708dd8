package engine_test

import (
	"os"
	"path/filepath"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

// allowPath approves the file at path with its current content, as
// dirconfig's own tests do (its AllowPath is test-only): a valid file as
// Load keys it, with its policy_file; an invalid one by its bytes where
// its symlinks land, so a test can approve a file that does not validate.
func allowPath(path string) error {
	path, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if c, err := dirconfig.Load(path); err == nil {
		return testTrust().Allow(c)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	return testTrust().Allow(&dirconfig.Config{Path: real})
}

// testTrust is the trust store of the test's XDG_DATA_HOME, as cmd names it.
func testTrust() dirconfig.TrustStore {
	return dirconfig.TrustStore{Dir: xdgdir.FromEnv(os.Getenv).Data}
}
