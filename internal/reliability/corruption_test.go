package reliability

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// otherUID owns the files that "belong to someone else".
const otherUID = 4242

// damage is one way a state or cache file can be spoiled.
type damage struct {
	name string
	// spoil damages the file at path; it may skip.
	spoil func(t *testing.T, path string)
	// repair undoes the damage the way a user would after reading the
	// message, or is nil when the content is lost.
	repair func(t *testing.T, path string)
	// says is what the message must say besides the path.
	says []string
}

func damages() []damage {
	var saved sync.Map // path -> content before the damage
	keep := func(t *testing.T, path string) []byte {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		saved.Store(path, data)
		return data
	}
	restore := func(t *testing.T, path string) {
		if err := os.RemoveAll(path); err != nil {
			t.Fatal(err)
		}
		data, _ := saved.Load(path)
		if err := os.WriteFile(path, data.([]byte), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rewrite := func(f func([]byte) []byte) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			writeFile(t, path, f(keep(t, path)))
		}
	}
	garbage := make([]byte, 700)
	rand.New(rand.NewSource(2)).Read(garbage)
	return []damage{
		{"truncated", rewrite(func(b []byte) []byte { return b[:len(b)/2] }), nil, nil},
		{"truncated-to-nothing", rewrite(func([]byte) []byte { return nil }), nil, nil},
		{"garbage", rewrite(func([]byte) []byte { return garbage }), nil, nil},
		{"nul-filled", rewrite(func(b []byte) []byte { return make([]byte, len(b)) }), nil, nil},
		{"json-array", rewrite(func([]byte) []byte { return []byte("[]") }), nil, nil},
		{"json-null", rewrite(func([]byte) []byte { return []byte("null") }), nil, nil},
		{"other-version", rewrite(func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"version":1`), []byte(`"version":2`), 1)
		}), nil, nil},
		{"over-1MiB", rewrite(func(b []byte) []byte { return append(b, bytes.Repeat([]byte(" "), 1<<20)...) }),
			nil, []string{"larger than"}},
		{"directory", func(t *testing.T, path string) {
			keep(t, path)
			os.Remove(path)
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, restore, []string{"not a regular file"}},
		{"fifo", func(t *testing.T, path string) {
			keep(t, path)
			os.Remove(path)
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Skip("no FIFOs here:", err)
			}
		}, restore, []string{"not a regular file"}},
		{"group-writable", func(t *testing.T, path string) {
			if err := os.Chmod(path, 0o660); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, path string) {
			if err := os.Chmod(path, 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"writable by group or others", "chmod go-w"}},
		{"world-writable", func(t *testing.T, path string) {
			if err := os.Chmod(path, 0o666); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, path string) {
			if err := os.Chmod(path, 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"writable by group or others"}},
		{"other-owner", func(t *testing.T, path string) {
			if err := os.Lchown(path, otherUID, otherUID); err != nil {
				t.Skip("cannot give a file away:", err)
			}
		}, func(t *testing.T, path string) {
			if err := os.Lchown(path, os.Geteuid(), os.Getegid()); err != nil {
				t.Fatal(err)
			}
		}, []string{fmt.Sprintf("owned by uid %d", otherUID)}},
		{"symlink-elsewhere", func(t *testing.T, path string) {
			data := keep(t, path)
			elsewhere := filepath.Join(filepath.Dir(filepath.Dir(path)), "elsewhere-"+filepath.Base(path))
			writeFile(t, elsewhere, data)
			os.Chmod(elsewhere, 0o600)
			os.Remove(path)
			if err := os.Symlink(elsewhere, path); err != nil {
				t.Fatal(err)
			}
		}, restore, nil},
		{"dangling-symlink", func(t *testing.T, path string) {
			keep(t, path)
			os.Remove(path)
			if err := os.Symlink(path+".gone", path); err != nil {
				t.Fatal(err)
			}
		}, restore, nil},
		{"deleted", func(t *testing.T, path string) {
			keep(t, path)
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, restore, []string{"is gone"}},
	}
}

const roleCorrupt = "arn:aws:iam::222222222222:role/corrupt"

// TestCorruptSnapshot spoils the snapshot a shell's environment points at
// while a role is active. awsrole must say so on one line naming the file,
// keep the shell's variables as they are (it cannot know the originals), be
// quiet at the next prompt, still say so when the shell tries to leave, and
// never delete the file; once the user repairs it, leaving gives back the
// original values exactly. A snapshot that is gone is the exception once
// the shell leaves the project: the role must not stay, so its values go
// (the user's own were in the file), said once.
func TestCorruptSnapshot(t *testing.T) {
	t.Parallel()
	timed(t)
	w := newWorld(t)
	proj := w.project("corrupt", roleCorrupt, "eu-west-1")
	for _, d := range damages() {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			defer acquireCPU()()
			sh := mustShell(t, w, w.Home, w.Env)
			r := sh.mustStep(t, proj)
			if r.RC != 0 || r.Stderr != "" {
				t.Fatalf("entering: status %d, stderr %q", r.RC, r.Stderr)
			}
			checkActive(t, r.After, roleCorrupt)
			active := r.After
			snap := active["AWSROLE_STATE"]
			d.spoil(t, snap)

			// At the next prompt, and when leaving: one line, nothing changes.
			for i, dir := range []string{proj, w.Home} {
				r = sh.mustStep(t, dir)
				if d.name == "deleted" && dir == w.Home {
					checkNoCrash(t, r)
					if r.RC != 0 || !oneLine(r.Stderr) || !strings.Contains(r.Stderr, snap+" is gone; left "+roleCorrupt) {
						t.Errorf("leaving with the snapshot gone: status %d, stderr %q; want one line saying it is gone and the role left", r.RC, r.Stderr)
					}
					for _, k := range []string{"AWSROLE_ARN", "AWSROLE_STATE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
						if v, ok := r.After[k]; ok {
							t.Errorf("leaving with the snapshot gone: %s = %q kept", k, v)
						}
					}
					checkQuiet(t, sh.mustStep(t, dir))
					return
				}
				checkFailure(t, r, append([]string{snap, "your variables were left as they are"}, d.says...)...)
				checkBound(t, w, r, "the call")
				if d := envDiff(active, r.After); d != "" {
					t.Errorf("step %d: the environment changed:\n%s", i+1, d)
				}
				// The prompt after: quiet, nothing changes.
				r = sh.mustStep(t, dir)
				checkQuiet(t, r)
				if d := envDiff(active, r.After); d != "" {
					t.Errorf("step %d, second prompt: the environment changed:\n%s", i+1, d)
				}
			}
			if _, err := os.Lstat(snap); err != nil && d.name != "deleted" {
				t.Errorf("the damaged snapshot was removed: %v", err)
			}
			if d.repair == nil {
				return
			}
			d.repair(t, snap)
			r = sh.mustStep(t, filepath.Join(w.Home, "plain"))
			checkNoCrash(t, r)
			if r.RC != 0 || r.Stderr != "" {
				t.Errorf("leaving after the repair: status %d, stderr %q", r.RC, r.Stderr)
			}
			if d := managedDiff(sh.Orig, r.After); d != "" {
				t.Errorf("leaving after the repair did not give back the original values:\n%s", d)
			}
		})
	}
	t.Run("pointer-outside-the-state-dir", func(t *testing.T) {
		t.Parallel()
		sh := mustShell(t, w, w.Home, w.Env)
		r := sh.mustStep(t, proj)
		checkActive(t, r.After, roleCorrupt)
		active := r.After
		data, err := os.ReadFile(active["AWSROLE_STATE"])
		if err != nil {
			t.Fatal(err)
		}
		elsewhere := filepath.Join(w.Root, "planted.json")
		if err := os.WriteFile(elsewhere, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := sh.run("export AWSROLE_STATE=" + bashQuote(elsewhere)); err != nil {
			t.Fatal(err)
		}
		active["AWSROLE_STATE"] = elsewhere
		r = sh.mustStep(t, w.Home)
		checkFailure(t, r, elsewhere, "is not under", "your variables were left as they are")
		if d := envDiff(active, r.After); d != "" {
			t.Errorf("the environment changed:\n%s", d)
		}
	})
}

// TestCorruptCache spoils the cached credentials of a role: the next entry
// fetches them again from STS (one AssumeRole), says at most one line about
// it, and leaves a good cache behind that the entry after uses.
func TestCorruptCache(t *testing.T) {
	t.Parallel()
	timed(t)
	w := newWorld(t)
	ds := append(damages(), damage{name: "another-roles-credentials"}, damage{name: "expired"})
	for _, d := range ds {
		if d.name == "other-version" {
			continue // cache files carry no version
		}
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			defer acquireCPU()()
			role := "arn:aws:iam::222222222222:role/cache-" + d.name
			proj := w.project("cache-"+d.name, role, "")
			first := mustShell(t, w, w.Home, w.Env)
			r := first.mustStep(t, proj)
			if r.RC != 0 || r.Stderr != "" {
				t.Fatalf("entering: status %d, stderr %q", r.RC, r.Stderr)
			}
			checkActive(t, r.After, role)
			path := cacheFileOf(t, w, role)
			switch d.name {
			case "another-roles-credentials":
				other := cacheFileOf(t, w, roleOuterForCache(t, w))
				data, err := os.ReadFile(other)
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, path, data)
				os.Chmod(path, 0o600)
			case "expired":
				var c map[string]any
				data, _ := os.ReadFile(path)
				json.Unmarshal(data, &c)
				c["expiration"] = time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
				data, _ = json.Marshal(c)
				writeFile(t, path, data)
				os.Chmod(path, 0o600)
			default:
				d.spoil(t, path)
			}
			n := len(assumeCalls(w.Stub, role))

			second := mustShell(t, w, w.Home, w.Env)
			r = second.mustStep(t, proj)
			checkNoCrash(t, r)
			if r.RC != 0 {
				t.Fatalf("entering with the damaged cache: status %d, stderr %q", r.RC, r.Stderr)
			}
			if r.Stderr != "" && (!oneLine(r.Stderr) || !strings.HasPrefix(r.Stderr, "awsrole: ") || !strings.Contains(r.Stderr, path)) {
				t.Errorf("stderr %q: want nothing or one line naming %s", r.Stderr, path)
			}
			t.Logf("stderr: %q", r.Stderr)
			checkActive(t, r.After, role)
			if got := len(assumeCalls(w.Stub, role)) - n; got != 1 {
				t.Errorf("%d AssumeRole calls, want 1 (the damaged cache fetched anew)", got)
			}
			third := mustShell(t, w, w.Home, w.Env)
			if d.name == "directory" {
				// awsrole removes nothing of the user's: each entry
				// fetches anew and says why, until the user removes it.
				r = third.mustStep(t, proj)
				checkNoCrash(t, r)
				if r.RC != 0 || !oneLine(r.Stderr) || !strings.Contains(r.Stderr, path) {
					t.Errorf("entering once more: status %d, stderr %q; want one line naming %s", r.RC, r.Stderr, path)
				}
				checkActive(t, r.After, role)
				return
			}
			if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
				t.Errorf("the cache file is not a good one again: %v %v", fi, err)
			}
			r = third.mustStep(t, proj)
			if r.RC != 0 || r.Stderr != "" {
				t.Fatalf("entering once more: status %d, stderr %q", r.RC, r.Stderr)
			}
			if got := len(assumeCalls(w.Stub, role)) - n; got != 1 {
				t.Errorf("the entry after the repair made another AssumeRole call; the cache was not rewritten")
			}
			if r.After["AWS_ACCESS_KEY_ID"] != second.Env["AWS_ACCESS_KEY_ID"] {
				t.Errorf("the entry after the repair got other credentials than the cache holds")
			}
		})
	}
}

// roleOuterForCache enters a project of another role once and returns that role.
func roleOuterForCache(t *testing.T, w *world) string {
	role := "arn:aws:iam::222222222222:role/cache-other-" + strings.ReplaceAll(filepath.Base(t.Name()), "/", "-")
	proj := w.project(filepath.Base(role), role, "")
	if _, stderr, err := w.awsrole(proj, nil, "export", "bash", "--pid", fmt.Sprint(fakePIDNext())); err != nil {
		t.Fatalf("entering %s: %v %s", proj, err, stderr)
	}
	return role
}

// cacheFileOf finds the cache file holding role's credentials.
func cacheFileOf(t *testing.T, w *world, role string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(w.cacheDir(), "*.json"))
	for _, f := range files {
		// Another subtest may have put a FIFO at its entry: opening
		// that would wait for a writer.
		if fi, err := os.Lstat(f); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var c struct {
			RoleARN string `json:"role_arn"`
		}
		if json.Unmarshal(data, &c) == nil && c.RoleARN == role {
			return f
		}
	}
	t.Fatalf("no cache file for %s among %v", role, files)
	return ""
}

// unshareWorks reports whether this machine lets a test run a shell in
// its own mount namespace (unshare -rm): needed for a read-only or full
// state directory without touching the machine's mounts.
func unshareWorks() error {
	if _, err := exec.LookPath("unshare"); err != nil {
		return err
	}
	out, err := exec.Command("unshare", "-rm", "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs \"$d\" && mount --bind -o ro \"$d\" \"$d\" && umount \"$d\" && umount \"$d\" && rmdir \"$d\"").CombinedOutput()
	if err != nil {
		return fmt.Errorf("unshare -rm with tmpfs and read-only bind mounts: %v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}
