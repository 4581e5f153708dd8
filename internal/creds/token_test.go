package creds

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credreq"
)

// TestSSOTokenFileChecked: the token of `aws sso login` passes the checks
// of every file awsrole reads before the SDK reads it. One that another
// user wrote (into a cache directory anyone can write, or into the
// user's own) is refused with one line that says what to do, and the
// portal is never asked; a FIFO in its place fails at once.
func TestSSOTokenFileChecked(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	const other = 54321
	req := Request{SSO: credreq.SSORole{Session: "corp", AccountID: "222222222222", RoleName: "Deploy"}, Duration: time.Hour, Window: 5 * time.Minute}
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  []string
	}{
		{"another user's token in a world-writable cache dir", func(t *testing.T, path string) {
			os.Chmod(filepath.Dir(path), 0o777)
			os.Chown(path, other, other)
		}, []string{"writable by group or others (mode 0777)", "chmod go-w", "then remove", "and sign in again: awsrole login --sso-session corp"}},
		{"another user's token in the user's own cache dir", func(t *testing.T, path string) {
			os.Chown(path, other, other)
		}, []string{"is owned by uid 54321, not by you; not using it: remove it and sign in again: awsrole login --sso-session corp"}},
		{"the user's token, writable by others", func(t *testing.T, path string) {
			os.Chmod(path, 0o666)
		}, []string{"is writable by group or others (mode 0666); not using it: remove it and sign in again"}},
		{"the user's token in a group-writable cache dir", func(t *testing.T, path string) {
			os.Chmod(filepath.Dir(path), 0o770)
		}, []string{"writable by group or others (mode 0770)", "chmod go-w", "awsrole login --sso-session corp"}},
		{"a FIFO", func(t *testing.T, path string) {
			os.Remove(path)
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"is not a regular file; not using it: remove it and sign in again: awsrole login --sso-session corp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ssoWorld(t)
			writeToken(t, srv, time.Hour, true)
			path := awsconfig.PathsFromEnv(os.Getenv).TokenPath("corp")
			tt.setup(t, path)
			done := make(chan error, 1)
			go func() {
				_, err := get(&Getter{Now: time.Now}, req, nil)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(2 * Timeout):
				// Let the read that hangs go, then fail.
				if fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					syscall.Close(fd)
				}
				t.Fatal("the fetch hung on the token file")
			}
			if err == nil {
				t.Fatal("used the token")
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "chown") {
				t.Errorf("not one line: %q", msg)
			}
			if n := srv.Count("GetRoleCredentials"); n != 0 {
				t.Errorf("%d GetRoleCredentials calls with a token not trusted", n)
			}
		})
	}
}
