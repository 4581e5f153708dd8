package browser

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
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
	env := Env{Browser: script}

	for _, bad := range []string{"--gpu-launcher=touch " + filepath.Join(dir, "pwned"), "file:///etc/passwd", "http://evil.example/device"} {
		var refused *RefusedError
		if err := Open(bad, env); !errors.As(err, &refused) {
			t.Errorf("Open(%q) = %v, want it refused", bad, err)
		}
		if _, err := os.Stat(record); err == nil {
			t.Fatalf("$BROWSER ran for %q", bad)
		}
	}

	good := "https://device.sso.eu-west-1.amazonaws.com/?user_code=ABCD-EFGH"
	if err := Open(good, env); err != nil {
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

// TestCommand: $BROWSER first, then open on macOS, then xdg-open under X11
// or Wayland; without any, a line that says so, and Open starts nothing.
func TestCommand(t *testing.T) {
	addr := "https://example.com/"
	for _, tt := range []struct {
		name string
		env  Env
		goos string
		want string // the command's argv[0], "" for none
	}{
		{"$BROWSER wins", Env{Browser: "/opt/firefox", Display: ":0"}, "darwin", "/opt/firefox"},
		{"macOS", Env{}, "darwin", "open"},
		{"X11", Env{Display: ":0"}, "linux", "xdg-open"},
		{"Wayland", Env{WaylandDisplay: "wayland-0"}, "linux", "xdg-open"},
		{"nothing", Env{}, "linux", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd, err := command(addr, tt.env, tt.goos)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), "no browser to open here") {
					t.Fatalf("command = %v, %v; want no browser", cmd, err)
				}
				return
			}
			if err != nil || cmd.Args[0] != tt.want || cmd.Args[1] != addr || len(cmd.Args) != 2 {
				t.Fatalf("command = %v, %v; want %s %s", cmd, err, tt.want, addr)
			}
		})
	}
	if runtime.GOOS != "darwin" {
		if err := Open(addr, Env{}); err == nil || !strings.Contains(err.Error(), "no browser") {
			t.Errorf("Open without a browser = %v", err)
		}
	}
	if err := Open(addr, Env{Browser: filepath.Join(t.TempDir(), "missing")}); err == nil || !strings.Contains(err.Error(), "could not start a browser") {
		t.Errorf("Open with a missing $BROWSER = %v", err)
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{"BROWSER": "b", "DISPLAY": "d", "WAYLAND_DISPLAY": "w", "HOME": "h"}
	if got := FromEnv(func(k string) string { return env[k] }); got != (Env{Browser: "b", Display: "d", WaylandDisplay: "w"}) {
		t.Errorf("FromEnv = %+v", got)
	}
}
