package main

import (
	"io"
	"os"
	"testing"

	"github.com/spf13/cobra"
)

// TestPanicIsOneLine: a panic in a command is a failure like any other:
// status 1, one line on stderr naming where, no stack, and nothing on
// stdout for a hook to evaluate.
func TestPanicIsOneLine(t *testing.T) {
	root := rootCmd()
	root.AddCommand(&cobra.Command{Use: "boom", RunE: func(*cobra.Command, []string) error {
		var env map[string]*string
		*env["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI"
		return nil
	}})
	var status int
	stdout, stderr := captured(t, func() { status = runRoot(root, []string{"boom"}) })
	if status != 1 || stdout != "" {
		t.Errorf("status %d, stdout %q; want 1 and nothing", status, stdout)
	}
	want := "awsrole: internal error (runtime error: invalid memory address or nil pointer dereference) in awsrole.TestPanicIsOneLine.func1; please report it\n"
	if stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
}

// TestOneLineShowsControls: a message shows a newline in a path as \n, so
// a path with one cannot pass for another (finding 5: `allow` printed the
// sub-directory's path as if it were the root file's).
func TestOneLineShowsControls(t *testing.T) {
	path := "/repo/.awsrole.toml\nrole_arn = \"x\" #/.awsrole.toml"
	if got, want := oneLine("allowed "+path+"\n"), `allowed /repo/.awsrole.toml\nrole_arn = "x" #/.awsrole.toml`; got != want {
		t.Errorf("oneLine = %q, want %q", got, want)
	}
}

// captured runs f with os.Stdout and os.Stderr going to pipes, and returns
// what each received.
func captured(t *testing.T, f func()) (stdout, stderr string) {
	t.Helper()
	read := func(p **os.File) (func() string, func()) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		old := *p
		*p = w
		got := make(chan string, 1)
		go func() {
			b, _ := io.ReadAll(r)
			got <- string(b)
		}()
		return func() string { return <-got }, func() { *p = old; w.Close() }
	}
	out, restoreOut := read(&os.Stdout)
	errs, restoreErr := read(&os.Stderr)
	f()
	restoreOut()
	restoreErr()
	return out(), errs()
}
