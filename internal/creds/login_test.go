package creds

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/stsstub"
	"github.com/awsrole/awsrole/internal/wire"
)

// TestLoginNeverOpensAHostileAddress: the OIDC service answers the device
// authorization with an "address" that is a browser option. Login prints
// it, says to check it, and never runs $BROWSER (a script that records
// its argv).
func TestLoginNeverOpensAHostileAddress(t *testing.T) {
	srv := ssoWorld(t)
	dir := t.TempDir()
	record := filepath.Join(dir, "argv")
	script := filepath.Join(dir, "browser")
	os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > "+record+"\n"), 0o755)
	t.Setenv("BROWSER", script)
	hostile := "--gpu-launcher=touch " + filepath.Join(dir, "pwned")
	srv.FailNext("StartDeviceAuthorization", 1, stsstub.Fault{Replace: map[string]string{"verificationUriComplete": hostile}})

	tty := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- (&Getter{Cache: testCache()}).Login(ctx, wire.Login{Session: "corp"}, tty, credreq.EnvOf(os.Environ()))
	}()
	deadline := time.Now().Add(2 * Timeout)
	for !strings.Contains(tty.String(), "not opening the address in a browser") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no refusal on the terminal:\n%s", tty.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("login: %v, want cancelled", err)
	}
	out := tty.String()
	for _, want := range []string{"open " + hostile + " and check", "check where it leads before you open it yourself"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(record); err == nil {
		t.Error("$BROWSER ran")
	}
}

// syncBuffer is a terminal that a test reads while Login writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
