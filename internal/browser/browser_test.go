package browser

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"https://device.sso.eu-west-1.amazonaws.com/?user_code=ABCD-EFGH", true},
		{"https://signin.aws.amazon.com/federation?Action=login&SigninToken=x", true},
		{"http://127.0.0.1:43127/device?user_code=ABCD-EFGH", true},
		{"http://[::1]:8080/device", true},
		{"http://localhost:8080/device", true},
		{"http://device.sso.eu-west-1.amazonaws.com/", false},
		{"http://127.0.0.1.evil.example/", false},
		{"--gpu-launcher=touch /tmp/pwned", false},
		{"-https://x", false},
		{"file:///etc/passwd", false},
		{"javascript:alert(1)", false},
		{"data:text/html,<script>x</script>", false},
		{"https:///no-host", false},
		{"https://x.example/ --gpu-launcher=y", false},
		{"https://x.example/\nsecond", false},
		{"", false},
		{"ftp://x.example/", false},
	} {
		err := Check(tt.addr)
		if (err == nil) != tt.ok {
			t.Errorf("Check(%q) = %v, want ok %v", tt.addr, err, tt.ok)
		}
		var refused *RefusedError
		if err != nil && (!errors.As(err, &refused) || tt.addr != "" && strings.Contains(err.Error(), tt.addr)) {
			t.Errorf("Check(%q): %v is not a RefusedError without the address", tt.addr, err)
		}
	}
}

// TestOpenHandsOnlyCheckedAddresses: a $BROWSER that records its argv
// gets a good address as its one argument, and never runs for an option,
// a file or plain http to another machine.
func TestOpenHandsOnlyCheckedAddresses(t *testing.T) {
	dir := t.TempDir()
	record := filepath.Join(dir, "argv")
	script := filepath.Join(dir, "browser")
	os.WriteFile(script, []byte("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > "+record+".tmp && mv "+record+".tmp "+record+"\n"), 0o755)
	t.Setenv("BROWSER", script)

	for _, bad := range []string{"--gpu-launcher=touch " + filepath.Join(dir, "pwned"), "file:///etc/passwd", "http://evil.example/device"} {
		var refused *RefusedError
		if err := Open(bad); !errors.As(err, &refused) {
			t.Errorf("Open(%q) = %v, want it refused", bad, err)
		}
		if _, err := os.Stat(record); err == nil {
			t.Fatalf("$BROWSER ran for %q", bad)
		}
	}

	good := "https://device.sso.eu-west-1.amazonaws.com/?user_code=ABCD-EFGH"
	if err := Open(good); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, err := os.ReadFile(record)
		if err == nil {
			if string(data) != good+"\n" {
				t.Fatalf("$BROWSER got argv %q, want just the address", data)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("$BROWSER never ran for a good address")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
