package shellgen_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/awsrole/awsrole/internal/testrig"

	"github.com/awsrole/awsrole/shellgen"
)

// hostileValues are values an STS response or a file path could carry that
// break naive quoting.
func hostileValues() []string {
	long := strings.Repeat("IQoJb3JpZ2luX2VjEJr//////////wEaCXVz+ab=", 50)
	return []string{
		"", " ", "  two  spaces  ", "'", `"`, "it's", `a'b"c`, "'\\''",
		"$(touch PWNED)", "`touch PWNED`", "$HOME", "${HOME}", "$((1+1))",
		"a;touch PWNED", "a|touch PWNED", "a&&touch PWNED", "<(touch PWNED)",
		`\`, `a\`, `\\`, `\n`, `\x41`, "\n", "\t", "line1\nline2\n", "\r\n", "\n\n",
		"!!", "!", "!$", "!-1", "^a^b", "%s", "%", "%%", "%1",
		"é✓😀", "\u00a0", "\u2028", "\ufeff",
		long[:2000],
		"-n", "-e", "-x", "--", "--erase", "=foo", "=", "a:=ls", "=ls", "~", "~root", "~/x",
		"*", "?", "[a]", "{a,b}", "#comment", "a #b", "$IFS", "\x01", "\x7f", "\x1b[31m",
		"\xff", "\xc3", "\xed\xa0\x80", "\uf6ff",
		"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"2024-01-01T00:00:00Z", "arn:aws:iam::222222222222:role/deploy",
		"/home/alice/src/my project/$test/utf-8 é",
	}
}

// shellRunner evaluates rendered exports in one real shell invocation mode.
type shellRunner struct {
	name    string
	dialect string
	argv    []string // the script is appended (or fed on stdin)
	stdin   bool     // interactive: the script is typed into the shell
	env     []string // extra environment
	// eval returns the code that evaluates the export stored in file and
	// shown inline as code.
	eval func(file, code string) string
	// probe writes $name to file, isSet writes "set" or "unset".
	probe, isSet func(name, file string) string
	// dump writes the environment, NUL-separated, to file, and done
	// writes "done"; nil: POSIX `env -0 > file` and `echo done > file`.
	dump, done func(file string) string
	// utf8Only: the shell's strings are UTF-8; other values are skipped.
	utf8Only bool
}

func posixProbe(name, file string) string {
	return fmt.Sprintf("printf '%%s' \"${%s-}\" > %s\n", name, file)
}

func posixIsSet(name, file string) string {
	return fmt.Sprintf("if [ -n \"${%s+set}\" ]; then echo set; else echo unset; fi > %s\n", name, file)
}

func fishProbe(name, file string) string {
	return fmt.Sprintf("printf '%%s' \"$%s\" > %s\n", name, file)
}

func fishIsSet(name, file string) string {
	return fmt.Sprintf("if set -q %s; echo set; else; echo unset; end > %s\n", name, file)
}

func inline(_, code string) string { return code }

func shellRunners() []shellRunner {
	posixEvalCapture := func(file, _ string) string {
		// What the hooks do: capture stdout, then eval it.
		return fmt.Sprintf("__code=$(<%s) && eval \"$__code\"\n", file)
	}
	var runners []shellRunner
	for _, sh := range shellgen.Names(shellgen.UsePrompt) {
		if sh != "bash" && sh != "zsh" {
			continue // below: their own runners
		}
		var nonInteractive, interactive []string
		if sh == "bash" {
			nonInteractive = []string{"bash", "--norc", "--noprofile", "-c"}
			interactive = []string{"bash", "--norc", "--noprofile", "-i"}
		} else {
			nonInteractive = []string{"zsh", "-f", "-c"}
			interactive = []string{"zsh", "-f", "-i"}
		}
		runners = append(runners,
			shellRunner{name: sh + " -c", dialect: sh, argv: nonInteractive, eval: inline, probe: posixProbe, isSet: posixIsSet},
			shellRunner{name: sh + " -c C locale", dialect: sh, argv: nonInteractive, env: []string{"LC_ALL=C"}, eval: inline, probe: posixProbe, isSet: posixIsSet},
			shellRunner{name: sh + " -c eval", dialect: sh, argv: nonInteractive, eval: posixEvalCapture, probe: posixProbe, isSet: posixIsSet},
			shellRunner{name: sh + " -i", dialect: sh, argv: interactive, stdin: true, eval: inline, probe: posixProbe, isSet: posixIsSet},
		)
	}
	fishArgv := []string{"fish", "--no-config", "-c"}
	return append(runners,
		shellRunner{name: "fish source", dialect: "fish", argv: fishArgv, probe: fishProbe, isSet: fishIsSet,
			eval: func(file, _ string) string { return "source " + file + "\n" }},
		shellRunner{name: "fish source C locale", dialect: "fish", argv: fishArgv, env: []string{"LC_ALL=C"}, probe: fishProbe, isSet: fishIsSet,
			eval: func(file, _ string) string { return "source " + file + "\n" }},
		shellRunner{name: "fish pipe", dialect: "fish", argv: fishArgv, probe: fishProbe, isSet: fishIsSet,
			// What the hook does: capture the lines, join them, source.
			eval: func(file, _ string) string {
				return "set -l code (string split \\n < " + file + "; or true); and string join \\n -- $code | source\n"
			}},
		shellRunner{name: "elvish -c", dialect: "elvish", argv: []string{"elvish", "-norc", "-c"}, eval: inline,
			probe: func(name, file string) string { return "print $E:" + name + " > " + file + "\n" },
			isSet: func(name, file string) string {
				return "if (has-env " + name + ") { echo set > " + file + " } else { echo unset > " + file + " }\n"
			}},
		shellRunner{name: "elvish eval", dialect: "elvish", argv: []string{"elvish", "-norc", "-c"},
			// What the hook does: capture the output, then eval it.
			eval:  func(file, _ string) string { return "eval (slurp < " + file + ")\n" },
			probe: func(name, file string) string { return "print $E:" + name + " > " + file + "\n" },
			isSet: func(name, file string) string {
				return "if (has-env " + name + ") { echo set > " + file + " } else { echo unset > " + file + " }\n"
			}},
		shellRunner{name: "nu load-env", dialect: "nu", argv: []string{"nu", "--no-config-file", "-c"}, utf8Only: true,
			// What the hook does with the env of `awsrole export nu`.
			eval: func(file, _ string) string {
				return "do --env { let c = (open --raw " + file + " | from json); for n in ($c | columns) { let v = ($c | get $n); if $v == null { hide-env -i $n } else { load-env {$n: $v} } } }\n"
			},
			probe: func(name, file string) string {
				return "$env." + name + "? | default '' | save -f --raw " + file + "\n"
			},
			isSet: func(name, file string) string {
				return "(if '" + name + "' in $env { \"set\\n\" } else { \"unset\\n\" }) | save -f --raw " + file + "\n"
			},
			dump: func(file string) string { return "^env -0 | save -f --raw " + file + "\n" },
			done: func(file string) string { return "\"done\\n\" | save -f --raw " + file + "\n" }},
	)
}

// roundTrip exports every value to its own variable in the runner's shell,
// reads each back, checks the environment a child sees, then unsets them all
// and checks they are gone (not empty). It batches values into few processes.
func roundTrip(t *testing.T, r shellRunner, values []string) {
	t.Helper()
	testrig.Tool(t, r.argv[0], ".ci/run installs it")
	values = r.takes(values)
	dump, done := r.dumpDone()
	dir := t.TempDir()
	for _, sub := range []string{"code", "out"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Batches stay well under Linux's 128 KiB limit for one argument, unset
	// code (added per value below) included.
	const maxScript, maxValues = 40_000, 200
	type batch struct {
		script      strings.Builder
		first, last int // values[first:last]
	}
	batches := []*batch{{}}
	name := func(i int) string { return fmt.Sprintf("AWSROLE_RT_%d", i) }
	writeCode := func(i int, kind, code string) string {
		f := fmt.Sprintf("code/%d.%s", i, kind)
		if err := os.WriteFile(filepath.Join(dir, f), []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	unsetCode := make([]string, len(values))
	for i, v := range values {
		// Each variable is set over a different earlier value, then (below)
		// unset twice: the second time it is already unset.
		prior, err := shellgen.Render(r.dialect, map[string]*string{name(i): ptr("prior")})
		if err != nil {
			t.Fatal(err)
		}
		set, err := shellgen.Render(r.dialect, map[string]*string{name(i): &v})
		if err != nil {
			t.Fatalf("Render(%q): %v", v, err)
		}
		if unsetCode[i], err = shellgen.Render(r.dialect, map[string]*string{name(i): nil}); err != nil {
			t.Fatal(err)
		}
		block := r.eval(writeCode(i, "prior", prior), prior) +
			r.eval(writeCode(i, "set", set), set) +
			r.probe(name(i), fmt.Sprintf("out/%d", i))
		b := batches[len(batches)-1]
		if b.script.Len() > 0 && (b.script.Len()+len(block) > maxScript || b.last-b.first >= maxValues) {
			b = &batch{first: i, last: i}
			batches = append(batches, b)
		}
		b.script.WriteString(block)
		b.last = i + 1
	}
	for n, b := range batches {
		s := &b.script
		s.WriteString(dump(fmt.Sprintf("out/env.%d", n)))
		for i := b.first; i < b.last; i++ {
			f := writeCode(i, "unset", unsetCode[i])
			s.WriteString(r.eval(f, unsetCode[i]) + r.eval(f, unsetCode[i]))
			s.WriteString(r.isSet(name(i), fmt.Sprintf("out/%d.unset", i)))
		}
		s.WriteString(dump(fmt.Sprintf("out/env-after.%d", n)))
		s.WriteString(done(fmt.Sprintf("out/done.%d", n)))
		runShell(t, r, dir, s.String())
		checkBatch(t, r, dir, values, b.first, b.last, n)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*PWNED*")); len(matches) > 0 {
		t.Errorf("a value was executed: %v exists", matches)
	}
}

// takes is the values the runner's shell can hold: the UTF-8 ones for a
// shell whose strings are UTF-8 only.
func (r shellRunner) takes(values []string) []string {
	if !r.utf8Only {
		return values
	}
	var valid []string
	for _, v := range values {
		if utf8.ValidString(v) {
			valid = append(valid, v)
		}
	}
	return valid
}

// dumpDone is the code that dumps the environment to a file and the code
// that says a batch is done: the runner's own, or a POSIX shell's.
func (r shellRunner) dumpDone() (dump, done func(file string) string) {
	if r.dump != nil {
		return r.dump, r.done
	}
	return func(file string) string { return "env -0 > " + file + "\n" },
		func(file string) string { return "echo done > " + file + "\n" }
}

func runShell(t *testing.T, r shellRunner, dir, script string) {
	t.Helper()
	args := append([]string(nil), r.argv[1:]...)
	cmd := exec.Command(r.argv[0], args...)
	if r.stdin {
		cmd.Stdin = strings.NewReader(script + "exit\n")
	} else {
		cmd.Args = append(cmd.Args, script)
	}
	cmd.Dir = dir
	cmd.Env = append([]string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "TERM=dumb",
		"LANG=C.UTF-8", "HISTFILE=" + filepath.Join(dir, "history"), "PS1=$ "}, r.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		t.Errorf("%s: %v\nstderr:\n%s", r.name, err, tail(stderr.String()))
	}
	if r.stdin {
		// Interactive shells echo prompts and input on stderr; only error
		// lines matter.
		for _, line := range strings.Split(stderr.String(), "\n") {
			if strings.Contains(line, r.argv[0]+": ") && !strings.Contains(line, "job control") && !strings.Contains(line, "terminal process group") {
				t.Errorf("%s: error from the shell: %q", r.name, line)
			}
		}
	} else if stderr.Len() > 0 {
		t.Errorf("%s: unexpected stderr:\n%s", r.name, tail(stderr.String()))
	}
	if !r.stdin && stdout.Len() > 0 {
		t.Errorf("%s: unexpected stdout:\n%s", r.name, tail(stdout.String()))
	}
}

func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}

func readEnv(t *testing.T, file string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Errorf("environment dump missing: %v", err)
		return nil
	}
	env := map[string]string{}
	for _, kv := range strings.Split(string(data), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

func checkBatch(t *testing.T, r shellRunner, dir string, values []string, first, last, batch int) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("out/done.%d", batch))); err != nil {
		t.Errorf("%s: batch %d did not run to the end", r.name, batch)
	}
	env := readEnv(t, filepath.Join(dir, fmt.Sprintf("out/env.%d", batch)))
	after := readEnv(t, filepath.Join(dir, fmt.Sprintf("out/env-after.%d", batch)))
	for i := first; i < last; i++ {
		want := values[i]
		name := fmt.Sprintf("AWSROLE_RT_%d", i)
		got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("out/%d", i)))
		switch {
		case err != nil:
			t.Errorf("%s: value %q: not read back: %v", r.name, want, err)
		case string(got) != want:
			t.Errorf("%s: value %q came back as %q", r.name, want, got)
		}
		if env != nil {
			if got, ok := env[name]; !ok || got != want {
				t.Errorf("%s: value %q: child environment has %q (present %v)", r.name, want, got, ok)
			}
		}
		state, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("out/%d.unset", i)))
		if err != nil || string(state) != "unset\n" {
			t.Errorf("%s: value %q: after unset the variable is %q (%v), want unset", r.name, want, state, err)
		}
		if _, ok := after[name]; ok && after != nil {
			t.Errorf("%s: value %q: still in the environment after unset", r.name, want)
		}
	}
}

func TestRoundTripHostileValues(t *testing.T) {
	values := hostileValues()
	for _, r := range shellRunners() {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			roundTrip(t, r, values)
		})
	}
}

// TestRoundTripCorpus replays the fuzz seeds and the stored corpus (both the
// curated one under testdata/shellgen/fuzz and anything `go test -fuzz`
// saved under shellgen/testdata/fuzz) through the real shells.
func TestRoundTripCorpus(t *testing.T) {
	values := corpusValues(t)
	if stored := len(values) - len(hostileValues()); stored < 40 {
		t.Fatalf("only %d stored corpus values found; is testdata/shellgen/fuzz missing?", stored)
	}
	var usable []string
	for _, v := range values {
		if !strings.Contains(v, "\x00") {
			usable = append(usable, v)
		}
	}
	for _, r := range shellRunners() {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			roundTrip(t, r, usable)
		})
	}
}

// TestRoundTripRandom sends random byte strings, weighted towards bytes the
// shells treat specially, through the real shells. The seed is fixed so a
// failure reproduces; AWSROLE_RANDOM_SEED and AWSROLE_RANDOM_COUNT widen the
// search.
func TestRoundTripRandom(t *testing.T) {
	seed, count := int64(1), 300
	if s := os.Getenv("AWSROLE_RANDOM_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	if s := os.Getenv("AWSROLE_RANDOM_COUNT"); s != "" {
		count, _ = strconv.Atoi(s)
	}
	t.Logf("seed %d, %d values", seed, count)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	special := []byte("'\"\\$`!%=:~*?[]{}()<>|&;# \t\n\r\x01\x7f\x80\x83\x9f\xc3\xa9\xed\xef\xf0\xff")
	values := make([]string, count)
	for i := range values {
		b := make([]byte, rng.IntN(64))
		for j := range b {
			if rng.IntN(2) == 0 {
				b[j] = special[rng.IntN(len(special))]
			} else {
				b[j] = byte(1 + rng.IntN(255))
			}
		}
		values[i] = string(b)
	}
	for _, r := range shellRunners() {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			roundTrip(t, r, values)
		})
	}
}
