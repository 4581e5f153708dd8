package dirconfig

import (
	"os"
	"path/filepath"

	"github.com/awsrole/awsrole/internal/xdgdir"
)

// Test-only entry points: the CLI allows what Load accepts (Allow) and
// denies by path (DenyPath).

// AllowPath allows the file at path with its current content, whether or
// not it validates, so a user can approve a file before fixing it.
func AllowPath(path string) error {
	path, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if c, err := Load(path); err == nil {
		// A valid file is allowed as Load keys it: with its policy_file.
		return testTrust().Allow(c)
	}
	r, err := ReadRaw(path)
	if err != nil {
		return err
	}
	return testTrust().allow(r.RealPath, allowKey(r.RealPath, r.Data, nil))
}

// Deny blocks c's path, whatever its content, and forgets allows for it.
func Deny(c *Config) error { return testTrust().DenyPath(c.realPath()) }

// testTrust is the trust store of the test's XDG_DATA_HOME, as cmd names it.
func testTrust() TrustStore { return TrustStore{Dir: xdgdir.FromEnv(os.Getenv).Data} }
