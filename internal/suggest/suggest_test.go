package suggest

import "testing"

func TestNearest(t *testing.T) {
	names := []string{"secret-service", "pass", "file", "keychain"}
	for in, want := range map[string]string{"secret-servce": "secret-service", "pas": "pass", "Keychain": "keychain", "gnome": "", "": ""} {
		if got := Nearest(in, names); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", in, got, want)
		}
	}
}
