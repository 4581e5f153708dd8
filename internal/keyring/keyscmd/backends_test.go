package keyscmd_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/creack/pty"

	"github.com/awsrole/awsrole/internal/testrig"
	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

// The stored key: an IAM user the stand-in knows, other than the
// environment's.
const (
	storedKey    = "AKIAKEYRINGEXAMPLE01"
	storedSecret = "KeyringSecretKeyringSecretKeyring0000001"
	storedARN    = "arn:aws:iam::111111111111:user/bob"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds awsrole, awsrole-sts and awsrole-keyring once.
func binaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "awsrole-keys-bin-")
		if buildErr == nil {
			_, buildErr = testrig.Build(binDir)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// newWorld is a hermetic world whose user config names backend.
func newWorld(t *testing.T, backend string) *hermetic.World {
	w := hermetic.NewT(t, hermetic.Options{User: hermetic.User{Key: "AKIAIOSFODNN7EXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ARN: "arn:aws:iam::111111111111:user/alice"}})
	w.Stub.AddUser(storedKey, storedSecret, storedARN)
	w.Write(t, ".config/awsrole/config.toml", "keyring_backend = \""+backend+"\"\n")
	path := os.Getenv("PATH")
	w.Env["PATH"] = &path
	return w
}

// run runs one of the binaries in w with stdin; it returns stdout and
// stderr, failing t when the exit status is not as wanted.
func run(t *testing.T, w *hermetic.World, ok bool, stdin string, args ...string) (string, string) {
	t.Helper()
	// A D-Bus that never answers would hold the library's start forever.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binaries(t), args[0]), args[1:]...)
	cmd.Env, cmd.Dir = w.Environ(), w.Home
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if (err == nil) != ok {
		t.Fatalf("%s: %v (want success %v)\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, ok, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// roundTrip stores keys, names them as a role's source, uses the role,
// and removes them, in w's backend; no file under the world holds the
// secret in plaintext at any point.
func roundTrip(t *testing.T, w *hermetic.World, backend string) {
	t.Helper()
	_, stderr := run(t, w, true, storedKey+"\n"+storedSecret+"\n", "awsrole", "keys", "add", "bob")
	if !strings.Contains(stderr, "stored bob ("+storedKey+") in the "+backend+" keyring") {
		t.Fatalf("keys add: %s", stderr)
	}
	out, _ := run(t, w, true, "", "awsrole", "keys", "list")
	if !strings.Contains(out, "bob ") || !strings.Contains(out, storedKey) || !strings.Contains(out, backend) {
		t.Fatalf("keys list:\n%s", out)
	}
	noSecret(t, w.Root)

	// The role's source is the stored key: awsrole-sts asks
	// awsrole-keyring for it, and signs AssumeRole with it.
	w.Write(t, "proj/.awsrole.toml", "role_arn = \"arn:aws:iam::222222222222:role/deploy\"\nsource_keys = \"bob\"\n")
	run(t, w, true, "", "awsrole", "allow", filepath.Join(w.Home, "proj"))
	out, _ = run(t, w, true, "", "awsrole", "exec", "--dir", filepath.Join(w.Home, "proj"), "--", "env")
	if !strings.Contains(out, "AWSROLE_ARN=arn:aws:iam::222222222222:role/deploy") || strings.Contains(out, storedSecret) {
		t.Fatalf("awsrole exec env:\n%s", out)
	}
	signed := ""
	for _, c := range w.Stub.Calls() {
		if c.Action == "AssumeRole" {
			signed = c.AccessKeyID
		}
	}
	if signed != storedKey {
		t.Fatalf("AssumeRole signed with %q, want the stored key %s\n%s", signed, storedKey, hermetic.DescribeCalls(w.Stub.Calls()))
	}
	noSecret(t, w.Root)

	_, stderr = run(t, w, true, "", "awsrole", "keys", "rm", "bob")
	if !strings.Contains(stderr, "removed bob from the "+backend+" keyring") {
		t.Fatalf("keys rm: %s", stderr)
	}
	_, stderr = run(t, w, false, "", "awsrole-keyring", "get", "bob")
	if !strings.Contains(stderr, `no keys named "bob" are stored`) {
		t.Fatalf("get after rm: %s", stderr)
	}
}

// TestSecretService runs the round trip against gnome-keyring's Secret
// Service in a private D-Bus session, and checks that a locked keyring
// and a missing bus each get one line saying what to do.
func TestSecretService(t *testing.T) {
	testrig.Slow(t)
	w := newWorld(t, "secret-service")

	// A session bus with no Secret Service on it (and none to activate).
	quiet := w.Write(t, "bus.conf", `<busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`)
	startBus(t, w, "--config-file="+quiet)
	_, stderr := run(t, w, false, "", "awsrole", "keys", "list")
	if !strings.Contains(stderr, "no Secret Service answers on the D-Bus session bus") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("keys list with no Secret Service: %q", stderr)
	}

	startBus(t, w, "--session")
	startKeyring(t, w, "test-password")
	roundTrip(t, w, "secret-service")

	// A locked keyring: one line, saying to unlock it.
	run(t, w, true, storedKey+"\n"+storedSecret+"\n", "awsrole", "keys", "add", "bob")
	lock := exec.Command("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.secrets", "/org/freedesktop/secrets",
		"org.freedesktop.Secret.Service.Lock", "array:objpath:/org/freedesktop/secrets/collection/login")
	lock.Env = w.Environ()
	if out, err := lock.CombinedOutput(); err != nil {
		t.Fatalf("lock the login keyring: %v\n%s", err, out)
	}
	_, stderr = run(t, w, false, "", "awsrole-keyring", "get", "bob")
	if !strings.Contains(stderr, "unlock (or create) your login keyring") || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, storedSecret) {
		t.Fatalf("get from a locked keyring: %q", stderr)
	}

	// No login keyring at all (a Secret Service that was never unlocked
	// at a login): one line, saying how to make one; nothing stored.
	del := exec.Command("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.secrets", "/org/freedesktop/secrets/collection/login",
		"org.freedesktop.Secret.Collection.Delete")
	del.Env = w.Environ()
	if out, err := del.CombinedOutput(); err != nil {
		t.Fatalf("delete the login keyring: %v\n%s", err, out)
	}
	_, stderr = run(t, w, false, storedKey+"\n"+storedSecret+"\n", "awsrole", "keys", "add", "bob")
	if !strings.Contains(stderr, "gnome-keyring-daemon --unlock") || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, storedSecret) {
		t.Fatalf("add with no login keyring: %q", stderr)
	}

	// No session bus: say so, and what to choose instead.
	none := "unix:path=" + filepath.Join(w.Root, "no-bus")
	w.Env["DBUS_SESSION_BUS_ADDRESS"] = &none
	_, stderr = run(t, w, false, "", "awsrole", "keys", "list")
	if !strings.Contains(stderr, "needs a D-Bus session bus") || !strings.Contains(stderr, `keyring_backend = "pass" or "file"`) || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("keys list without a bus: %q", stderr)
	}
}

// TestPass runs the round trip against pass, with a GnuPG home and key of
// the test's own.
func TestPass(t *testing.T) {
	testrig.Slow(t)
	testrig.Tool(t, "pass", ".ci/run installs pass")
	testrig.Tool(t, "gpg", ".ci/run installs gnupg")
	w := newWorld(t, "pass")
	gnupg := filepath.Join(w.Root, "gnupg")
	store := filepath.Join(w.Home, ".password-store")
	if err := os.MkdirAll(gnupg, 0o700); err != nil {
		t.Fatal(err)
	}
	w.Env["GNUPGHOME"], w.Env["PASSWORD_STORE_DIR"] = &gnupg, &store
	t.Cleanup(func() {
		// The agent gpg started for this home.
		kill := exec.Command("gpgconf", "--kill", "gpg-agent")
		kill.Env = w.Environ()
		kill.Run()
	})
	for _, argv := range [][]string{
		{"gpg", "--batch", "--passphrase", "", "--quick-gen-key", "awsrole test <keys@example.com>", "default", "default", "never"},
		{"pass", "init", "keys@example.com"},
	} {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = w.Environ()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
		}
	}
	roundTrip(t, w, "pass")
	// The keys are one GnuPG-encrypted file of pass's, in a folder of awsrole's.
	run(t, w, true, storedKey+"\n"+storedSecret+"\n", "awsrole", "keys", "add", "bob")
	if _, err := os.Stat(filepath.Join(store, "awsrole", "awsrole:bob.gpg")); err != nil {
		t.Errorf("pass store: %v", err)
	}
	noSecret(t, w.Root)
}

// noSecret fails t when a file under root holds the stored secret.
func noSecret(t *testing.T, root string) {
	t.Helper()
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if data, err := os.ReadFile(path); err == nil && strings.Contains(string(data), storedSecret) {
			t.Errorf("%s holds the secret in plaintext", path)
		}
		return nil
	})
}

// startBus starts a private D-Bus session bus for w with config (--session,
// or --config-file=PATH), stopped when t ends.
func startBus(t *testing.T, w *hermetic.World, config string) string {
	t.Helper()
	testrig.Tool(t, "dbus-daemon", ".ci/run installs dbus")
	cmd := exec.Command("dbus-daemon", config, "--nofork", "--print-address=1")
	cmd.Env = w.Environ()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	addr = strings.TrimSpace(addr)
	w.Env["DBUS_SESSION_BUS_ADDRESS"] = &addr
	return addr
}

// startKeyring starts gnome-keyring's Secret Service on w's bus, its
// login keyring unlocked with password (created with it the first time).
func startKeyring(t *testing.T, w *hermetic.World, password string) {
	t.Helper()
	testrig.Tool(t, "gnome-keyring-daemon", ".ci/run installs gnome-keyring")
	runtime := filepath.Join(w.Root, "run")
	if err := os.MkdirAll(runtime, 0o700); err != nil {
		t.Fatal(err)
	}
	w.Env["XDG_RUNTIME_DIR"] = &runtime
	cmd := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	cmd.Env, cmd.Stdin = w.Environ(), strings.NewReader(password)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		q := exec.Command("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
			"org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets")
		q.Env = w.Environ()
		if out, err := q.Output(); err == nil && strings.Contains(string(out), "boolean true") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("gnome-keyring-daemon did not take org.freedesktop.secrets on the bus within 10s")
		}
	}
}

// startMoto starts moto's server (an AWS written by others) on a free
// loopback port, stopped when t ends, and returns its URL.
func startMoto(t *testing.T) string {
	t.Helper()
	testrig.Tool(t, "moto_server", "pip install 'moto[server]'")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	cmd := exec.Command("moto_server", "-H", "127.0.0.1", "-p", port)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://127.0.0.1:" + port
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(url + "/moto-api/"); err == nil {
			resp.Body.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not answer on %s within 30s:\n%s", url, logs.String())
		}
	}
}

// TestRotateMoto rotates a key of an IAM user of moto's IAM: one key
// before, one after, and it is the one stored.
func TestRotateMoto(t *testing.T) {
	testrig.Slow(t)
	url := startMoto(t)
	w := newWorld(t, "file")
	pass := "moto-passphrase"
	w.Env["AWSROLE_FILE_PASSPHRASE"], w.Env["AWS_ENDPOINT_URL_IAM"], w.Env["AWS_ENDPOINT_URL_STS"] = &pass, &url, &url

	ctx := context.Background()
	admin := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: &url,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAADMINADMINADMIN0", "adminadminadminadminadminadminadminadmin", "")})
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	first, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	oldID := aws.ToString(first.AccessKey.AccessKeyId)
	run(t, w, true, oldID+"\n"+aws.ToString(first.AccessKey.SecretAccessKey)+"\n", "awsrole", "keys", "add", "bob")
	_, stderr := run(t, w, true, "", "awsrole", "keys", "rotate", "bob")
	if !strings.Contains(stderr, "rotated bob: "+oldID+" is deleted") {
		t.Fatalf("rotate: %s", stderr)
	}
	keys, err := admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.AccessKeyMetadata) != 1 {
		t.Fatalf("bob has %d keys after the rotation, want 1", len(keys.AccessKeyMetadata))
	}
	newID := aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId)
	out, _ := run(t, w, true, "", "awsrole", "keys", "list")
	if newID == oldID || !strings.Contains(out, newID) {
		t.Fatalf("moto has %s, keys list:\n%s", newID, out)
	}
}

// TestAddOnTerminal: on a terminal, keys add asks for the key id and
// then the secret, which the terminal does not echo.
func TestAddOnTerminal(t *testing.T) {
	testrig.Slow(t)
	w := newWorld(t, "file")
	pass := "terminal-passphrase"
	w.Env["AWSROLE_FILE_PASSPHRASE"] = &pass
	cmd := exec.Command(filepath.Join(binaries(t), "awsrole"), "keys", "add", "bob")
	cmd.Env, cmd.Dir = w.Environ(), w.Home
	term := onTerminal(t, cmd)
	await := func(what string) {
		t.Helper()
		term.await(t, what, func(shown string) bool { return strings.Contains(shown, what) })
	}
	await("Access key ID:")
	term.Write([]byte(storedKey + "\n"))
	await("Secret access key:")
	term.Write([]byte(storedSecret + "\n"))
	await("stored bob")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("keys add: %v", err)
	}
	shown := term.shown()
	if strings.Contains(shown, storedSecret) {
		t.Fatalf("the terminal echoed the secret:\n%s", shown)
	}
	if !strings.Contains(shown, storedKey) {
		t.Errorf("the terminal did not echo the key id (only the secret is hidden):\n%s", shown)
	}
	out, _ := run(t, w, true, "", "awsrole-keyring", "get", "bob")
	if !strings.Contains(out, storedSecret) {
		t.Errorf("get after a terminal add: %s", out)
	}

	// get never writes the keys to a terminal.
	get := exec.Command(filepath.Join(binaries(t), "awsrole-keyring"), "get", "bob")
	get.Env = w.Environ()
	gterm, err := pty.Start(get)
	if err != nil {
		t.Fatal(err)
	}
	defer gterm.Close()
	shownGet, _ := io.ReadAll(gterm) // EIO at the end
	if get.Wait() == nil || strings.Contains(string(shownGet), storedSecret) || !strings.Contains(string(shownGet), "never to a terminal") {
		t.Errorf("get on a terminal showed:\n%s", shownGet)
	}
}

// TestHungBus: a D-Bus session bus that accepts and never answers (the
// keyring library connects to it as it starts, whatever the backend) holds
// neither keys add nor awsrole-sts's read of the encrypted file keyring.
func TestHungBus(t *testing.T) {
	testrig.Slow(t)
	w := newWorld(t, "file")
	pass := "hung-bus-passphrase"
	w.Env["AWSROLE_FILE_PASSPHRASE"] = &pass
	sock := filepath.Join(w.Root, "bus")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // never read from, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	addr := "unix:path=" + sock
	w.Env["DBUS_SESSION_BUS_ADDRESS"] = &addr

	quick := func(stdin string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, filepath.Join(binaries(t), args[0]), args[1:]...)
		cmd.Env, cmd.Dir, cmd.Stdin = w.Environ(), w.Home, strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s with a hung bus: %v (ctx %v)\n%s", strings.Join(args, " "), err, ctx.Err(), out)
		}
		return string(out)
	}
	quick(storedKey+"\n"+storedSecret+"\n", "awsrole", "keys", "add", "bob")
	w.Write(t, "proj/.awsrole.toml", "role_arn = \"arn:aws:iam::222222222222:role/deploy\"\nsource_keys = \"bob\"\n")
	quick("", "awsrole", "allow", filepath.Join(w.Home, "proj"))
	if out := quick("", "awsrole", "exec", "--dir", filepath.Join(w.Home, "proj"), "--", "env"); !strings.Contains(out, "AWSROLE_ARN=arn:aws:iam::222222222222:role/deploy") {
		t.Fatalf("awsrole exec env:\n%s", out)
	}
}

// TestFirstPassphraseTwice: the first keys add with the encrypted file
// keyring, on a terminal, asks for the new passphrase twice, and stores
// nothing when the two differ; a later add asks once.
func TestFirstPassphraseTwice(t *testing.T) {
	testrig.Slow(t)
	w := newWorld(t, "file")
	add := func(name string, typed ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(filepath.Join(binaries(t), "awsrole"), "keys", "add", name)
		cmd.Env, cmd.Dir = w.Environ(), w.Home
		term := onTerminal(t, cmd)
		for i, step := range typed {
			prompt, answer, _ := strings.Cut(step, "=")
			term.await(t, prompt, func(shown string) bool {
				return strings.Contains(shown, prompt) && strings.Count(shown, ":") >= i+1
			})
			term.Write([]byte(answer + "\n"))
		}
		err := cmd.Wait()
		time.Sleep(100 * time.Millisecond)
		return term.shown(), err
	}
	shown, err := add("bob", "Access key ID:="+storedKey, "Secret access key:="+storedSecret, "passphrase="+"first-pass", "again="+"first-pas")
	if err == nil || !strings.Contains(shown, "the two passphrases typed differ") {
		t.Fatalf("add with two different passphrases: %v\n%s", err, shown)
	}
	if _, err := os.Stat(filepath.Join(w.Home, ".local/share/awsrole/keyring/awsrole:bob")); err == nil {
		t.Fatal("stored under a passphrase typed two ways")
	}
	if shown, err = add("bob", "Access key ID:="+storedKey, "Secret access key:="+storedSecret, "passphrase="+"first-pass", "again="+"first-pass"); err != nil || !strings.Contains(shown, "stored bob") {
		t.Fatalf("add with the passphrase typed twice: %v\n%s", err, shown)
	}
	shown, err = add("carol", "Access key ID:="+storedKey, "Secret access key:="+storedSecret, "passphrase="+"first-pass")
	if err != nil || !strings.Contains(shown, "stored carol") || strings.Contains(shown, "again") {
		t.Fatalf("a second add: %v\n%s", err, shown)
	}
	pass := "first-pass"
	w.Env["AWSROLE_FILE_PASSPHRASE"] = &pass
	if out, _ := run(t, w, true, "", "awsrole-keyring", "get", "bob"); !strings.Contains(out, storedSecret) {
		t.Errorf("get with the passphrase: %s", out)
	}
}

// terminal is a command started on a pty, with what it has shown so far.
type terminal struct {
	*os.File
	mu  sync.Mutex
	out []byte
}

// onTerminal starts cmd on a pty (closed when the test ends) and collects
// what it shows.
func onTerminal(t *testing.T, cmd *exec.Cmd) *terminal {
	t.Helper()
	f, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	term := &terminal{File: f}
	go func() {
		b := make([]byte, 1024)
		for {
			n, err := f.Read(b)
			term.mu.Lock()
			term.out = append(term.out, b[:n]...)
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return term
}

func (term *terminal) shown() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return string(term.out)
}

// await waits up to 20 s until done holds of what the terminal shows, or
// fails the test saying it waited for what.
func (term *terminal) await(t *testing.T, what string, done func(shown string) bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !done(term.shown()); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q on the terminal; it shows:\n%s", what, term.shown())
		}
	}
}
