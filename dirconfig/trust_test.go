package dirconfig

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/testrig"
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
	if got, err := testTrust().Of(c, u); got != want || err != nil {
		t.Errorf("testTrust().Of(%s) = %v, %v; want %v", c.Path, got, err, want)
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

// checkPrivateStore: the store is private: 0700 directories, 0600 files
// holding the path; path is its one allowed file.
func checkPrivateStore(t *testing.T, store, path string) {
	t.Helper()
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
}

func TestTrustLifecycle(t *testing.T) {
	store := trustEnv(t)
	path := filepath.Join(t.TempDir(), FileName)
	mkfile(t, path, goodFile)
	c := mustLoad(t, path)

	wantTrust(t, c, nil, TrustUnknown)
	wantTrust(t, c, &UserConfig{}, TrustUnknown)
	if err := testTrust().Allow(c); err != nil {
		t.Fatal(err)
	}
	wantTrust(t, c, nil, TrustAllowed)

	checkPrivateStore(t, store, path)

	// Any edit revokes trust.
	mkfile(t, path, goodFile+"region = \"eu-west-1\"\n")
	edited := mustLoad(t, path)
	wantTrust(t, edited, nil, TrustUnknown)
	wantTrust(t, c, nil, TrustAllowed) // the old content stays allowed, as in direnv

	if err := testTrust().Allow(edited); err != nil {
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
	if err := testTrust().Allow(edited); err != nil {
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
	if err := testTrust().Allow(ca); err != nil {
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

// TestTrustedDirsMatch: trusted_dirs names directories by whole path
// elements.
func TestTrustedDirsMatch(t *testing.T) {
	dirs := []string{"/home/a/work", "/srv/"}
	for dir, want := range map[string]bool{
		"/home/a/work":         true,
		"/home/a/work/x/y":     true,
		"/home/a/work2":        false,
		"/home/a/work2/x":      false,
		"/home/a/wor":          false,
		"/home/a":              false,
		"/home":                false,
		"/srv":                 true,
		"/srv/p":               true,
		"/srvx":                false,
		"/elsewhere/home/a/wo": false,
	} {
		if got := underAny(dir, dirs); got != want {
			t.Errorf("underAny(%s, %q) = %v, want %v", dir, dirs, got, want)
		}
	}
	if !underAny("/x", []string{"/"}) {
		t.Error("/ does not hold /x")
	}
}

// TestTrustedDirsOnlyOwnFiles: trusted_dirs vouches for a file only if the
// user (or root) owns it, nobody else can write it, and nobody else can
// write its directory or one above it: another user's file in a 0777
// sub-directory of a trusted tree is not trusted, and says why.
func TestTrustedDirsOnlyOwnFiles(t *testing.T) {
	trustEnv(t)
	t.Setenv("HOME", t.TempDir())
	tree := t.TempDir()
	u := &UserConfig{TrustedDirs: []string{tree}}
	uid, gid := testrig.OtherUser(t)
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, file string)
		want  Trust
		why   string
	}{
		{"own", func(*testing.T, string) {}, TrustAllowed, ""},
		{"foreign file in a 0777 dir", func(t *testing.T, file string) {
			chmod(t, filepath.Dir(file), 0o777)
			chown(t, file, uid, gid)
		}, TrustUnknown, "not by you or root"},
		{"own file in a 0777 dir", func(t *testing.T, file string) { chmod(t, filepath.Dir(file), 0o777) }, TrustUnknown, "writable by group or others"},
		{"foreign file", func(t *testing.T, file string) { chown(t, file, uid, gid) }, TrustUnknown, "not by you or root"},
		{"group-writable file", func(t *testing.T, file string) { chmod(t, file, 0o664) }, TrustUnknown, "writable by group or others"},
		{"0777 dir above", func(t *testing.T, file string) { chmod(t, filepath.Dir(filepath.Dir(file)), 0o777) }, TrustUnknown, "writable by group or others"},
		{"foreign dir", func(t *testing.T, file string) { chown(t, filepath.Dir(file), uid, gid) }, TrustUnknown, "not by you or root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(tree, strings.ReplaceAll(tc.name, " ", "-"), "sub", FileName)
			mkfile(t, file, goodFile)
			tc.setup(t, file)
			wantTrust(t, mustLoad(t, file), u, tc.want)
			j, err := testTrust().Judge(file, u)
			if err != nil || j.Trust != tc.want {
				t.Fatalf("Judge = %+v, %v; want %v", j, err, tc.want)
			}
			if tc.why == "" && j.NotTrustedDir != nil || tc.why != "" && (j.NotTrustedDir == nil || !strings.Contains(j.NotTrustedDir.Error(), tc.why)) {
				t.Errorf("why trusted_dirs did not vouch: %v; want %q", j.NotTrustedDir, tc.why)
			}
			if tc.want != TrustAllowed && j.Config != nil {
				t.Errorf("an untrusted file was parsed: %+v", j.Config)
			}
		})
	}
}

func chmod(t *testing.T, p string, mode fs.FileMode) {
	t.Helper()
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func chown(t *testing.T, p string, uid, gid int) {
	t.Helper()
	if err := os.Chown(p, uid, gid); err != nil {
		t.Fatal(err)
	}
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
	if _, err := os.Stat(filepath.Join(store, "allow", allowKey(path, []byte(bad), nil))); err != nil {
		t.Errorf("no allow entry: %v", err)
	}
	if err := testTrust().DenyPath(path); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, store, "allow"); len(got) != 0 {
		t.Errorf("allow entries after deny = %q", got)
	}
	// Deny works for a path with nothing there.
	if err := testTrust().DenyPath(filepath.Join(t.TempDir(), FileName)); err != nil {
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
	if err := testTrust().Allow(hand); err != nil {
		t.Fatal(err)
	}
	wantTrust(t, parsed, nil, TrustAllowed)
	wantTrust(t, hand, nil, TrustAllowed)
	stale := &Config{Path: parsed.Path, Dir: parsed.Dir, Hash: strings.Repeat("0", 64)}
	wantTrust(t, stale, nil, TrustUnknown)
	err := testTrust().Allow(stale)
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
	if testTrust().Dir != store {
		t.Errorf("testTrust().Dir = %q, want %q", testTrust().Dir, store)
	}
	dirs := testTrust().Dirs()
	if len(dirs) != 2 || dirs[0] != filepath.Join(store, "allow") || dirs[1] != filepath.Join(store, "deny") {
		t.Fatalf("testTrust().Dirs() = %q", dirs)
	}
	path := filepath.Join(t.TempDir(), FileName)
	mkfile(t, path, goodFile)
	c := mustLoad(t, path)
	if err := errors.Join(testTrust().Allow(c), Deny(c)); err != nil {
		t.Fatal(err)
	}
	old := time.Unix(1, 0)
	for _, d := range dirs {
		if err := os.Chtimes(d, old, old); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []func(*Config) error{testTrust().Allow, Deny} {
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

// TestApprovalHashAmbiguity is finding 5: a sub-directory named
// ".awsrole.toml\nrole_arn = ...666666666666... #" whose file the user
// approved must not approve a root file holding that line and then the
// approved content, which direnv's path + "\n" + content hashed alike.
func TestApprovalHashAmbiguity(t *testing.T) {
	store := trustEnv(t)
	repo := t.TempDir()
	evil := `role_arn = "arn:aws:iam::666666666666:role\u002Fevil" #`
	reviewed := "sso_account_id = \"222222222222\"\nsso_role_name = \"ReadOnly\"\n"
	sub := filepath.Join(repo, FileName+"\n"+evil, FileName)
	mkfile(t, sub, reviewed)
	if err := AllowPath(sub); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(repo, FileName)
	rootContent := evil + "/" + FileName + "\n" + reviewed
	mkfile(t, root, rootContent)
	if legacyAllowKey(sub, []byte(reviewed), nil) != legacyAllowKey(root, []byte(rootContent), nil) {
		t.Fatal("the test does not build the collision of the old hash")
	}
	cfg := mustLoad(t, root)
	if cfg.RoleARN != "arn:aws:iam::666666666666:role/evil" {
		t.Fatalf("root file role %q", cfg.RoleARN)
	}
	wantTrust(t, cfg, nil, TrustUnknown)
	if j, err := testTrust().Judge(root, nil); err != nil || j.Trust != TrustUnknown || j.Config != nil {
		t.Errorf("testTrust().Judge(root) = %+v, %v; want not allowed, unparsed", j, err)
	}
	if j, err := testTrust().Judge(sub, nil); err != nil || j.Trust != TrustAllowed {
		t.Errorf("testTrust().Judge(sub) = %+v, %v; want the approved file allowed", j, err)
	}

	// A store written by an older awsrole: its entry for the sub-directory
	// still approves nothing at the root (it records another path), and
	// itself needs a new allow (its path has a newline).
	for _, e := range entries(t, store, "allow") {
		os.Remove(filepath.Join(store, "allow", e))
	}
	legacy := filepath.Join(store, "allow", legacyAllowKey(sub, []byte(reviewed), nil))
	if err := os.WriteFile(legacy, []byte(sub+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantTrust(t, cfg, nil, TrustUnknown)
	for _, p := range []string{root, sub} {
		if j, err := testTrust().Judge(p, nil); err != nil || j.Trust != TrustUnknown {
			t.Errorf("testTrust().Judge(%q) with the old entry = %+v, %v; want not allowed", p, j, err)
		}
	}
}

// TestLegacyApprovalMigrates: an approval written with the old hash, for a
// path without control characters, still counts and is written again
// with the new one.
func TestLegacyApprovalMigrates(t *testing.T) {
	store := trustEnv(t)
	path := filepath.Join(t.TempDir(), FileName)
	mkfile(t, path, goodFile)
	legacy := filepath.Join(store, "allow", legacyAllowKey(path, []byte(goodFile), nil))
	mkfile(t, legacy, path+"\n")
	if err := os.Chmod(legacy, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{store, filepath.Dir(legacy)} {
		if err := os.Chmod(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if j, err := testTrust().Judge(path, nil); err != nil || j.Trust != TrustAllowed || j.Config == nil {
		t.Fatalf("Judge with an old approval = %+v, %v; want allowed", j, err)
	}
	if got, want := entries(t, store, "allow"), []string{allowKey(path, []byte(goodFile), nil)}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("allow entries after migration = %q, want %q", got, want)
	}
	wantTrust(t, mustLoad(t, path), nil, TrustAllowed)
	// An old entry that records another path approves nothing.
	other := filepath.Join(t.TempDir(), FileName)
	mkfile(t, other, goodFile)
	mkfile(t, filepath.Join(store, "allow", legacyAllowKey(other, []byte(goodFile), nil)), path+"\n")
	if j, err := testTrust().Judge(other, nil); err != nil || j.Trust != TrustUnknown {
		t.Errorf("Judge with an old entry for another path = %+v, %v; want not allowed", j, err)
	}
}

// TestJudgeActsOnTheBytesItHashed: what is parsed is what was judged. A
// file swapped for an unapproved one between the read and the parse (a
// hostile checkout racing the hook) is parsed as the approved bytes, and
// the next read judges the new ones, unapproved.
func TestJudgeActsOnTheBytesItHashed(t *testing.T) {
	trustEnv(t)
	dir := t.TempDir()
	approved := `role_arn = "arn:aws:iam::111111111111:role/approved"` + "\n"
	path := testrig.Write(t, dir, FileName, approved)
	if err := testTrust().Allow(mustLoad(t, path)); err != nil {
		t.Fatal(err)
	}
	r, err := ReadRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	testrig.Write(t, dir, FileName, `role_arn = "arn:aws:iam::222222222222:role/swapped"`+"\n")
	gate := approvalOf(r.RealPath, r.Data, nil)
	if tr, _, err := testTrust().judge(gate, nil); tr != TrustAllowed || err != nil {
		t.Fatalf("the approved bytes: %v, %v", tr, err)
	}
	c, _, err := r.parse()
	if err != nil {
		t.Fatal(err)
	}
	if c.RoleARN != "arn:aws:iam::111111111111:role/approved" {
		t.Errorf("parsed %q: not the bytes that were judged", c.RoleARN)
	}
	j, err := testTrust().Judge(path, nil)
	if err != nil || j.Trust != TrustUnknown || j.Config != nil {
		t.Errorf("the swapped file: trust %v, config %v, err %v; want not allowed and not parsed", j.Trust, j.Config, err)
	}
}

// TestWatchIsTheFilesEntries: the entries Watch names are the ones allow
// and deny write or remove for this file, and no other file's.
func TestWatchIsTheFilesEntries(t *testing.T) {
	trustEnv(t)
	dir := t.TempDir()
	path := testrig.Write(t, dir, FileName, `role_arn = "arn:aws:iam::111111111111:role/a"`+"\n")
	other := testrig.Write(t, t.TempDir(), FileName, `role_arn = "arn:aws:iam::111111111111:role/b"`+"\n")
	s := testTrust()
	exists := func(p string) bool { _, err := os.Lstat(p); return err == nil }
	j, err := s.Judge(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := s.Watch(j)
	if len(w) != 2 {
		t.Fatalf("Watch = %q, want the allow and the deny entry", w)
	}
	allowEntry, denyEntry := w[0], w[1]
	if exists(allowEntry) || exists(denyEntry) {
		t.Fatal("entries exist before any allow or deny")
	}
	if err := s.Allow(mustLoad(t, other)); err != nil {
		t.Fatal(err)
	}
	if exists(allowEntry) || exists(denyEntry) {
		t.Error("allowing another file touched this file's entries")
	}
	if err := s.Allow(mustLoad(t, path)); err != nil {
		t.Fatal(err)
	}
	if !exists(allowEntry) {
		t.Error("allow wrote no watched entry")
	}
	if err := s.DenyPath(path); err != nil {
		t.Fatal(err)
	}
	if exists(allowEntry) || !exists(denyEntry) {
		t.Error("deny: the allow entry should go and the deny entry appear")
	}
	if got := s.Watch(nil); len(got) != 2 || got[0] != filepath.Join(s.Dir, "allow") {
		t.Errorf("Watch(nil) = %q, want the directories", got)
	}
}
