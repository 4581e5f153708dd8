package dirconfig

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// trustEnv points the trust store at a fresh directory and returns it.
func trustEnv(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	return filepath.Join(data, "awsrole")
}

func mustLoad(t *testing.T, path string) *Config {
	t.Helper()
	c, err := loadWithin(t, path, timeoutLoad)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantTrust(t *testing.T, c *Config, u *UserConfig, want Trust) {
	t.Helper()
	if got, err := TrustOf(c, u); got != want || err != nil {
		t.Errorf("TrustOf(%s) = %v, %v; want %v", c.Path, got, err, want)
	}
}

// entries lists the trust-store files of one kind ("allow" or "deny").
func entries(t *testing.T, store, kind string) []string {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(store, kind))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestTrustLifecycle(t *testing.T) {
	store := trustEnv(t)
	path := filepath.Join(t.TempDir(), FileName)
	mkfile(t, path, goodFile)
	c := mustLoad(t, path)

	wantTrust(t, c, nil, TrustUnknown)
	wantTrust(t, c, &UserConfig{}, TrustUnknown)
	if err := Allow(c); err != nil {
		t.Fatal(err)
	}
	wantTrust(t, c, nil, TrustAllowed)

	// The store is private: 0700 directories, 0600 files holding the path.
	for _, d := range []string{store, filepath.Join(store, "allow")} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, err %v; want 0700", d, fi.Mode().Perm(), err)
		}
	}
	allows := entries(t, store, "allow")
	if len(allows) != 1 {
		t.Fatalf("allow entries = %q, want one", allows)
	}
	entry := filepath.Join(store, "allow", allows[0])
	if fi, err := os.Stat(entry); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, err %v; want 0600", entry, fi.Mode().Perm(), err)
	}
	if data, _ := os.ReadFile(entry); string(data) != path+"\n" {
		t.Errorf("allow entry holds %q, want the path", data)
	}

	// Any edit revokes trust.
	mkfile(t, path, goodFile+"region = \"eu-west-1\"\n")
	edited := mustLoad(t, path)
	wantTrust(t, edited, nil, TrustUnknown)
	wantTrust(t, c, nil, TrustAllowed) // the old content stays allowed, as in direnv

	if err := Allow(edited); err != nil {
		t.Fatal(err)
	}
	wantTrust(t, edited, nil, TrustAllowed)

	// Deny wins whatever the content, and forgets the allows for the path.
	if err := Deny(edited); err != nil {
		t.Fatal(err)
	}
	wantTrust(t, edited, nil, TrustDenied)
	wantTrust(t, c, nil, TrustDenied)
	if got := entries(t, store, "allow"); len(got) != 0 {
		t.Errorf("allow entries after deny = %q", got)
	}
	if fi, err := os.Stat(filepath.Join(store, "deny", entries(t, store, "deny")[0])); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("deny entry: %v", err)
	}
	// Deny beats trusted_dirs too.
	wantTrust(t, edited, &UserConfig{TrustedDirs: []string{edited.Dir}}, TrustDenied)

	// Allow again lifts the deny.
	if err := Allow(edited); err != nil {
		t.Fatal(err)
	}
	wantTrust(t, edited, nil, TrustAllowed)
	wantTrust(t, c, nil, TrustUnknown) // the first content was forgotten by the deny
	if got := entries(t, store, "deny"); len(got) != 0 {
		t.Errorf("deny entries after allow = %q", got)
	}
}

func TestTrustIsPerPath(t *testing.T) {
	trustEnv(t)
	a := filepath.Join(t.TempDir(), FileName)
	b := filepath.Join(t.TempDir(), FileName)
	mkfile(t, a, goodFile)
	mkfile(t, b, goodFile)
	ca, cb := mustLoad(t, a), mustLoad(t, b)
	if err := Allow(ca); err != nil {
		t.Fatal(err)
	}
	wantTrust(t, ca, nil, TrustAllowed)
	wantTrust(t, cb, nil, TrustUnknown) // same content, other place
	if err := Deny(cb); err != nil {
		t.Fatal(err)
	}
	wantTrust(t, ca, nil, TrustAllowed)
	wantTrust(t, cb, nil, TrustDenied)
}

func TestTrustedDirs(t *testing.T) {
	trustEnv(t)
	u := &UserConfig{TrustedDirs: []string{"/home/a/work", "/srv/"}}
	for dir, want := range map[string]Trust{
		"/home/a/work":         TrustAllowed,
		"/home/a/work/x/y":     TrustAllowed,
		"/home/a/work2":        TrustUnknown,
		"/home/a/work2/x":      TrustUnknown,
		"/home/a/wor":          TrustUnknown,
		"/home/a":              TrustUnknown,
		"/home":                TrustUnknown,
		"/srv":                 TrustAllowed,
		"/srv/p":               TrustAllowed,
		"/srvx":                TrustUnknown,
		"/elsewhere/home/a/wo": TrustUnknown,
	} {
		c := &Config{Path: filepath.Join(dir, FileName), Dir: dir}
		wantTrust(t, c, u, want)
	}
	everything := &UserConfig{TrustedDirs: []string{"/"}}
	wantTrust(t, &Config{Path: "/x/" + FileName, Dir: "/x"}, everything, TrustAllowed)
}

// TestAllowPathInvalidFile: a file can be approved before it validates
// (e.g. `awsrole allow` then fix a typo... which revokes it again).
func TestAllowPathInvalidFile(t *testing.T) {
	store := trustEnv(t)
	path := filepath.Join(t.TempDir(), FileName)
	bad := "regoin = \"eu-west-1\"\n"
	mkfile(t, path, bad)
	if _, err := Load(path); err == nil {
		t.Fatal("bad file loaded")
	}
	if err := AllowPath(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(store, "allow", allowKey(path, []byte(bad)))); err != nil {
		t.Errorf("no allow entry: %v", err)
	}
	if err := DenyPath(path); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, store, "allow"); len(got) != 0 {
		t.Errorf("allow entries after deny = %q", got)
	}
	// Deny works for a path with nothing there.
	if err := DenyPath(filepath.Join(t.TempDir(), FileName)); err != nil {
		t.Error(err)
	}
	// AllowPath refuses what Load refuses to read, with the same message.
	fifoDir := t.TempDir()
	err := AllowPath(fifoDir)
	checkErr(t, fifoDir, err, []string{"PATH: is a directory"})
}

// TestTrustHandBuiltConfig: a Config not made by Parse is checked against
// the file on disk, and must still match its Hash.
func TestTrustHandBuiltConfig(t *testing.T) {
	trustEnv(t)
	path := filepath.Join(t.TempDir(), FileName)
	mkfile(t, path, goodFile)
	parsed := mustLoad(t, path)
	hand := &Config{Path: parsed.Path, Dir: parsed.Dir, Hash: parsed.Hash, RoleARN: parsed.RoleARN}
	if err := Allow(hand); err != nil {
		t.Fatal(err)
	}
	wantTrust(t, parsed, nil, TrustAllowed)
	wantTrust(t, hand, nil, TrustAllowed)
	stale := &Config{Path: parsed.Path, Dir: parsed.Dir, Hash: strings.Repeat("0", 64)}
	wantTrust(t, stale, nil, TrustUnknown)
	err := Allow(stale)
	checkErr(t, path, err, []string{"PATH: changed since it was read"})
}

func TestTrustString(t *testing.T) {
	for tr, want := range map[Trust]string{TrustUnknown: "not allowed", TrustAllowed: "allowed", TrustDenied: "denied"} {
		if tr.String() != want {
			t.Errorf("%d.String() = %q, want %q", tr, tr.String(), want)
		}
	}
}

// TestTrustDirsChangeOnAllowAndDeny: callers watch TrustDirs' modification
// times to notice an allow or deny from another shell.
func TestTrustDirsChangeOnAllowAndDeny(t *testing.T) {
	store := trustEnv(t)
	if TrustDir() != store {
		t.Errorf("TrustDir() = %q, want %q", TrustDir(), store)
	}
	dirs := TrustDirs()
	if len(dirs) != 2 || dirs[0] != filepath.Join(store, "allow") || dirs[1] != filepath.Join(store, "deny") {
		t.Fatalf("TrustDirs() = %q", dirs)
	}
	path := filepath.Join(t.TempDir(), FileName)
	mkfile(t, path, goodFile)
	c := mustLoad(t, path)
	if err := errors.Join(Allow(c), Deny(c)); err != nil {
		t.Fatal(err)
	}
	old := time.Unix(1, 0)
	for _, d := range dirs {
		if err := os.Chtimes(d, old, old); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []func(*Config) error{Allow, Deny} {
		if err := step(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range dirs {
		if fi, err := os.Stat(d); err != nil || !fi.ModTime().After(old) {
			t.Errorf("%s: mtime not changed by allow+deny (%v)", d, err)
		}
	}
}
