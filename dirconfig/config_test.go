package dirconfig

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"
)

const corpusDir = "../testdata/dirconfig/bad"

// timeoutLoad bounds every Load in these tests.
const timeoutLoad = time.Second

// loadWithin runs Load and fails the test if it does not return within d
// (a FIFO or a huge file must never make it hang).
func loadWithin(t *testing.T, path string, d time.Duration) (*Config, error) {
	t.Helper()
	type result struct {
		c   *Config
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := Load(path)
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		return r.c, r.err
	case <-time.After(d):
		t.Fatalf("Load(%q) did not return within %v", path, d)
		return nil, nil
	}
}

// checkErr asserts err is one printable line that starts with the file's
// path and holds every fragment of want ("PATH" stands for the path; a
// fragment starting with "!" must not appear).
func checkErr(t *testing.T, path string, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	msg := err.Error()
	if i := strings.IndexFunc(msg, unicode.IsControl); i >= 0 {
		t.Errorf("error has control character %q at %d: %q", msg[i], i, msg)
	}
	if !strings.HasPrefix(msg, displayPath(path)+":") {
		t.Errorf("error does not start with the path %q: %q", displayPath(path), msg)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("error is %T, not *Error: %q", err, msg)
	}
	for _, w := range want {
		if not, ok := strings.CutPrefix(w, "!"); ok {
			if strings.Contains(msg, not) {
				t.Errorf("error contains %q, which it must not:\n%s", not, msg)
			}
			continue
		}
		w = strings.ReplaceAll(w, "PATH", displayPath(path))
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q:\n%s", w, msg)
		}
	}
}

func readWant(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" {
			want = append(want, l)
		}
	}
	if len(want) == 0 {
		t.Fatalf("%s: no expected fragments", file)
	}
	return want
}

// TestBadCorpus loads every testdata/dirconfig/bad/NAME.toml as a project's
// .awsrole.toml and checks the error against NAME.want.
func TestBadCorpus(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/home/tester/.config")
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("only %d corpus files in %s", len(files), corpusDir)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".toml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := readWant(t, strings.TrimSuffix(f, ".toml")+".want")
			path := filepath.Join(t.TempDir(), FileName)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := loadWithin(t, path, timeoutLoad)
			if err == nil {
				t.Fatalf("loaded %+v, want an error", c)
			}
			checkErr(t, path, err, want)
			// Parse gives the same answer without I/O.
			_, perr := Parse(path, data)
			if perr == nil || perr.Error() != err.Error() {
				t.Errorf("Parse = %v, Load = %v", perr, err)
			}
		})
	}
}

// TestCorpusWantsAreDistinct keeps the corpus honest: every case expects
// something no other case expects in full.
func TestCorpusWantsAreDistinct(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.want"))
	seen := map[string]string{}
	for _, f := range files {
		key := strings.Join(readWant(t, f), "\n")
		if other, dup := seen[key]; dup {
			t.Errorf("%s and %s expect the same", f, other)
		}
		seen[key] = f
		if _, err := os.Stat(strings.TrimSuffix(f, ".want") + ".toml"); err != nil {
			t.Errorf("%s has no .toml", f)
		}
	}
}

// TestLoadSpecialFiles covers inputs that cannot sit in the corpus as plain
// text: raw bytes, and things at the path that are not regular files.
func TestLoadSpecialFiles(t *testing.T) {
	for _, tt := range specialFiles {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			if tt.setup == nil {
				writeData("x")(t, filepath.Join(dir, "file"))
				path = filepath.Join(dir, "file", FileName)
			} else {
				tt.setup(t, path)
			}
			// (loadWithin fails the test if Load blocks.)
			_, err := loadWithin(t, path, timeoutLoad)
			checkErr(t, path, err, tt.want)
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}

// writeData is a setup that writes data at the path.
func writeData(data string) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// specialFiles are TestLoadSpecialFiles' cases: what is at the path
// (setup nil: a parent of it is a file) and what Load says.
var specialFiles = []struct {
	name  string
	setup func(t *testing.T, path string)
	want  []string
	is    error // errors.Is target, if any
}{
	{"nul byte", writeData("role_arn = \"arn:aws:iam::123456789012:role/deploy\"\n\x00\n"),
		[]string{"PATH:2: contains a NUL byte; this looks like a binary file, not TOML text"}, nil},
	{"binary png", writeData("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"),
		[]string{"PATH:3: contains a NUL byte"}, nil},
	{"latin-1 text", writeData("role_arn = \"arn:aws:iam::123456789012:role/deploy\"\nsession_name = \"M\xfcller\"\n"),
		[]string{"PATH:2: is not valid UTF-8 (byte 0xfc); save it as UTF-8 text"}, nil},
	{"binary garbage", writeData("\x80\xff\xfe\xfd\xfc\x81garbage\x1b[2J"),
		[]string{"PATH:1: is not valid UTF-8 (byte 0x80)"}, nil},
	{"utf-16", writeData("\xff\xfer\x00o\x00l\x00e\x00"),
		[]string{"PATH:1: is UTF-16 text; save it as UTF-8"}, nil},
	{"raw control character", writeData("role_arn = \"arn:aws:iam::123456789012:role/deploy\x01\"\n"),
		[]string{"PATH:1: invalid TOML: TOML files cannot contain control characters"}, nil},
	{"bom then typo", writeData("\uFEFFregoin = \"eu-west-1\"\n"),
		[]string{"PATH:1: regoin: unknown key; did you mean region?"}, nil},
	{"just over the limit", func(t *testing.T, path string) {
		data := make([]byte, MaxFileSize+1)
		for i := range data {
			data[i] = '#'
		}
		writeData(string(data))(t, path)
	}, []string{"PATH: file is 1048577 bytes, over the 1048576-byte limit"}, nil},
	{"huge sparse file", func(t *testing.T, path string) {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(64 << 30); err != nil {
			t.Skip("cannot make a sparse file:", err)
		}
	}, []string{"PATH: file is 68719476736 bytes, over the 1048576-byte limit"}, nil},
	{"directory", func(t *testing.T, path string) {
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
	}, []string{"PATH: is a directory, not a regular file; remove or rename it"}, nil},
	{"symlink loop", func(t *testing.T, path string) {
		other := filepath.Join(filepath.Dir(path), "other")
		if err := errors.Join(os.Symlink(other, path), os.Symlink(path, other)); err != nil {
			t.Fatal(err)
		}
	}, []string{"PATH: symlink loop; fix or remove the link"}, syscall.ELOOP},
	{"self symlink", func(t *testing.T, path string) {
		if err := os.Symlink(FileName, path); err != nil {
			t.Fatal(err)
		}
	}, []string{"PATH: symlink loop"}, syscall.ELOOP},
	{"dangling symlink", func(t *testing.T, path string) {
		if err := os.Symlink("shared/awsrole.toml", path); err != nil {
			t.Fatal(err)
		}
	}, []string{`PATH: is a dangling symlink (its target "shared/awsrole.toml" does not exist); fix or remove the link`}, fs.ErrNotExist},
	{"fifo", func(t *testing.T, path string) {
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Skip("no FIFOs here:", err)
		}
	}, []string{"PATH: is a named pipe (FIFO), not a regular file"}, nil},
	{"symlink to fifo", func(t *testing.T, path string) {
		fifo := filepath.Join(filepath.Dir(path), "pipe")
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Skip("no FIFOs here:", err)
		}
		if err := os.Symlink(fifo, path); err != nil {
			t.Fatal(err)
		}
	}, []string{"PATH: is a named pipe (FIFO)"}, nil},
	{"socket", func(t *testing.T, path string) {
		l, err := net.Listen("unix", path)
		if err != nil {
			t.Skip("cannot make a unix socket:", err)
		}
		t.Cleanup(func() { l.Close() })
	}, []string{"PATH: is a socket, not a regular file"}, nil},
	{"device", func(t *testing.T, path string) {
		if err := os.Symlink(os.DevNull, path); err != nil {
			t.Fatal(err)
		}
	}, []string{"PATH: is a device, not a regular file"}, nil},
	{"missing", func(*testing.T, string) {},
		[]string{"PATH: does not exist"}, fs.ErrNotExist},
	{"parent is a file", nil, // see below
		[]string{"PATH: a parent of this path is not a directory"}, syscall.ENOTDIR},
	{"unreadable", func(t *testing.T, path string) {
		// root reads any file whatever its mode, and these tests often
		// run as root; TestPermissionMessage covers the message then.
		if os.Geteuid() == 0 {
			t.Skip("running as root: permissions do not stop reads")
		}
		writeData(`role_arn = "arn:aws:iam::123456789012:role/deploy"`)(t, path)
		if err := os.Chmod(path, 0); err != nil {
			t.Fatal(err)
		}
	}, []string{"PATH: cannot read it: permission denied"}, fs.ErrPermission},
}

// TestPermissionMessage checks the unreadable-file message without needing
// a non-root user.
func TestPermissionMessage(t *testing.T) {
	path := "/home/a/p/.awsrole.toml"
	err := statError(path, &fs.PathError{Op: "open", Path: path, Err: syscall.EACCES})
	checkErr(t, path, err, []string{"PATH: cannot read it: permission denied; check the permissions"})
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("errors.Is(%v, fs.ErrPermission) = false", err)
	}
}

// TestParseRefusesHugeInputUnparsed: 64 MiB of valid text is refused for
// its size before anything looks at it (a scan would end in another
// message: invalid TOML) and before it is copied (the decoder's string
// would allocate 64 MiB; measured as bytes allocated, not time).
func TestParseRefusesHugeInputUnparsed(t *testing.T) {
	data := bytes.Repeat([]byte("a"), 64<<20)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Parse("/p/"+FileName, data)
	runtime.ReadMemStats(&after)
	checkErr(t, "/p/"+FileName, err, []string{"over the 1048576-byte limit"})
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("Parse allocated %d bytes to refuse it", n)
	}
}

func TestParseGood(t *testing.T) {
	const arn = "arn:aws:iam::222222222222:role/deploy"
	tests := []struct {
		name string
		data string
		want Config
	}{
		{"minimal", `role_arn = "` + arn + `"`, Config{RoleARN: arn}},
		{"design example", `
role_arn       = "arn:aws:iam::222222222222:role/deploy"   # required
region         = "eu-west-1"          # optional: sets AWS_REGION and AWS_DEFAULT_REGION
session_name   = "alice-payments"     # optional; default derived from the user name
duration       = "1h"                 # optional; 15m..12h (Go duration or seconds)
external_id    = "Ab12+=,.@:/-_"      # optional
source_profile = "corp"               # optional: base credentials from ~/.aws/config
mfa_serial     = "arn:aws:iam::111111111111:mfa/alice"    # optional
`, Config{RoleARN: arn, Region: "eu-west-1", SessionName: "alice-payments", Duration: time.Hour,
			ExternalID: "Ab12+=,.@:/-_", SourceProfile: "corp", MFASerial: "arn:aws:iam::111111111111:mfa/alice"}},
		{"bom", "\uFEFFrole_arn = '" + arn + "'\n", Config{RoleARN: arn}},
		{"crlf", "# team\r\nrole_arn = \"" + arn + "\"\r\nregion = \"us-gov-west-1\"\r\n",
			Config{RoleARN: arn, Region: "us-gov-west-1"}},
		{"duration 15m edge", `role_arn = "` + arn + `"` + "\nduration = \"15m\"", Config{RoleARN: arn, Duration: 15 * time.Minute}},
		{"duration 12h edge", `role_arn = "` + arn + `"` + "\nduration = \"12h\"", Config{RoleARN: arn, Duration: 12 * time.Hour}},
		{"duration 900 seconds", `role_arn = "` + arn + `"` + "\nduration = 900", Config{RoleARN: arn, Duration: 15 * time.Minute}},
		{"duration 43200 string", `role_arn = "` + arn + `"` + "\nduration = \"43200\"", Config{RoleARN: arn, Duration: 12 * time.Hour}},
		{"duration mixed", `role_arn = "` + arn + `"` + "\nduration = \"1h30m\"", Config{RoleARN: arn, Duration: 90 * time.Minute}},
		{"role path", `role_arn = "arn:aws:iam::222222222222:role/team/ci/deploy+x=y,z.w@v-u_t"`,
			Config{RoleARN: "arn:aws:iam::222222222222:role/team/ci/deploy+x=y,z.w@v-u_t"}},
		{"china", `role_arn = "arn:aws-cn:iam::222222222222:role/r"` + "\nregion = \"cn-north-1\"",
			Config{RoleARN: "arn:aws-cn:iam::222222222222:role/r", Region: "cn-north-1"}},
		{"64-char name", `role_arn = "arn:aws:iam::222222222222:role/` + strings.Repeat("n", 64) + `"`,
			Config{RoleARN: "arn:aws:iam::222222222222:role/" + strings.Repeat("n", 64)}},
		{"hardware mfa", `role_arn = "` + arn + `"` + "\nmfa_serial = \"GAHT12345678\"", Config{RoleARN: arn, MFASerial: "GAHT12345678"}},
		{"multi-line literal without newline", "role_arn = '''" + arn + "'''", Config{RoleARN: arn}},
		{"session name edges", `role_arn = "` + arn + `"` + "\nsession_name = \"ab\"", Config{RoleARN: arn, SessionName: "ab"}},
		// Brackets, dots and commas inside strings and comments do not count
		// against the shape limits.
		{"punctuation in strings", "# . . . . . . . . . . [[[[[[[[[[ {{{{{{{{{ ,,,,,,\n" +
			`role_arn = "` + arn + `" # a.b.c.d.e.f.g.h.i.j` + "\n" +
			`session_name = 'a.b.c.d.e.f.g.h.i.j'` + "\n" +
			`external_id = "` + strings.Repeat(",=", 300) + `"` + "\n" +
			`source_profile = """a.b.c.d.e.f.g.h.i.j.k"""` + "\n",
			Config{RoleARN: arn, SessionName: "a.b.c.d.e.f.g.h.i.j", ExternalID: strings.Repeat(",=", 300), SourceProfile: "a.b.c.d.e.f.g.h.i.j.k"}},
		{"many comment lines", strings.Repeat("# x = 1, y = [[[[[[[[[[\n", 5000) + `role_arn = "` + arn + `"`, Config{RoleARN: arn}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			if err := os.WriteFile(path, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := loadWithin(t, path, timeoutLoad)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(tt.data))
			tt.want.Path, tt.want.RealPath, tt.want.Dir, tt.want.Hash = path, path, dir, hex.EncodeToString(sum[:])
			tt.want.approval, tt.want.lines = c.approval, c.lines
			if !reflect.DeepEqual(*c, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *c, tt.want)
			}
		})
	}
}

func TestLoadRelativePath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(`role_arn = "arn:aws:iam::123456789012:role/r"`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	c, err := Load(FileName)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, FileName); c.Path != want || c.Dir != dir {
		t.Errorf("Path, Dir = %q, %q; want %q, %q", c.Path, c.Dir, want, dir)
	}
}

func TestValidateRoleARN(t *testing.T) {
	for _, ok := range []string{
		"arn:aws:iam::123456789012:role/r",
		"arn:aws-us-gov:iam::123456789012:role/a/b/c",
		"arn:aws-cn:iam::123456789012:role/service-role/AWSCodePipeline+=,.@-_",
	} {
		if err := ValidateRoleARN(ok); err != nil {
			t.Errorf("ValidateRoleARN(%q) = %v", ok, err)
		}
	}
	for bad, want := range map[string]string{
		"":                                       "is empty",
		"arn:aws:iam::123456789012:user/u":       "names an IAM user",
		"arn:aws:iam::123456789012:role/a\nb":    "contains a newline",
		"arn:aws:iam::123456789012:role/a b":     "has a space",
		"arn:aws:iam::123456789012:policy/p":     "names an IAM policy",
		"arn:aws:iam::123456789012:role":         "has no role name",
		"arn:aws:iam::123456789012:role/a\u2028": "contains",
	} {
		err := ValidateRoleARN(bad)
		if err == nil || !strings.Contains(err.Error(), want) || strings.ContainsAny(err.Error(), "\n\u2028") {
			t.Errorf("ValidateRoleARN(%q) = %v, want %q on one line", bad, err, want)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{Path: "/a/.awsrole.toml", Line: 3, Key: "duration", Msg: "bad"}, "/a/.awsrole.toml:3: duration: bad"},
		{Error{Path: "/a/.awsrole.toml", Msg: "bad"}, "/a/.awsrole.toml: bad"},
		{Error{Path: "/a b/$x/é/.awsrole.toml", Key: "q k", Msg: "m"}, `/a b/$x/é/.awsrole.toml: "q k": m`},
		{Error{Path: "/a\nb/.awsrole.toml", Line: 1, Key: "k\n", Msg: "x\ny\x1b"}, `"/a\nb/.awsrole.toml":1: "k\n": x\ny\x1b`},
		{Error{Path: "/\xff/.awsrole.toml", Msg: "m"}, `"/\xff/.awsrole.toml": m`},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func TestSuggestKey(t *testing.T) {
	for key, want := range map[string]string{
		"role_ar": "role_arn", "regoin": "region", "Role_ARN": "role_arn", "ROLE-ARN": "role_arn",
		"sesion_name": "session_name", "duraton": "duration", "externalid": "external_id",
		"mfa_serail": "mfa_serial", "source-profile": "source_profile",
		"colour": "", "arn": "", "x": "", strings.Repeat("z", 10000): "",
	} {
		if got := suggestKey(key, projectKeys.names()); got != want {
			t.Errorf("suggestKey(%.20q) = %q, want %q", key, got, want)
		}
	}
}

// TestParseBoundedWork: the TOML parser is super-linear in nesting, dotted
// keys and item count; the shape limits keep the worst files that get past
// them cheap, so a hostile file cannot stall the prompt.
func TestParseBoundedWork(t *testing.T) {
	gen := func(n int, f func(i int) string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(f(i))
		}
		return b.String()
	}
	dots := strings.Repeat("a.", maxDots-1)
	inputs := map[string]string{
		"dotted keys":   gen(maxItems, func(i int) string { return dots + "k" + strconv.Itoa(i) + " = 1\n" }),
		"dotted tables": gen(maxItems, func(i int) string { return "[" + dots + "x" + strconv.Itoa(i) + "]\n" }),
		"arrays":        gen(maxItems, func(int) string { return "[[" + dots + "x]]\n" }),
		"inline":        gen(maxItems/8, func(i int) string { return "k" + strconv.Itoa(i) + " = {" + dots + "b = [[[[[1]]]]]}\n" }),
		"nesting":       "a = [" + gen(maxItems-2, func(int) string { return strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + "," }) + "]",
		"comments":      gen(MaxFileSize/20, func(int) string { return "# [[[[[[[[[[[[ ....\n" }),
		"deep":          "a = " + strings.Repeat("[", MaxFileSize/2),
		"long dotted":   strings.Repeat("a.", MaxFileSize/2),
		"many keys":     gen(MaxFileSize/8, func(i int) string { return "k" + strconv.Itoa(i) + "=1\n" }),
	}
	parse := func(s string) (time.Duration, error) {
		data := []byte(s)[:min(len(s), MaxFileSize)]
		start := time.Now()
		_, err := Parse("/p/"+FileName, data)
		_, _ = ParseUserConfig("/p/config.toml", data)
		return time.Since(start), err
	}
	// Lexing a full-size file of comments is the linear floor; compare to
	// it so the test holds on slow machines and under -race.
	floor, _ := parse(gen(MaxFileSize/10, func(int) string { return "# comment\n" }))
	for name, s := range inputs {
		if d, err := parse(s); d > 3*floor+50*time.Millisecond {
			t.Errorf("%s: took %v, over 3 × %v (%v)", name, d, floor, err)
		}
	}
}
