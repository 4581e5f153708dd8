package shellgen

import (
	"strings"
	"testing"
)

// The leave code restores only the variables awsrole manages, whatever
// it is given.
func TestSteadyRefusesUnmanagedNames(t *testing.T) {
	evil := "/tmp/evil.sh"
	for _, name := range []string{"BASH_ENV", "LD_PRELOAD", "PATH", "AWSROLE_STATE"} {
		for _, dialect := range []string{"bash", "zsh"} {
			_, err := Steady(dialect, Facts{Leave: []Restore{{Name: name, Original: &evil}}})
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("Steady(%s) restoring %s: err = %v, want a refusal", dialect, name, err)
			}
		}
	}
	key := "AKIAUSER"
	out, err := Steady("bash", Facts{Leave: []Restore{{Name: "AWS_ACCESS_KEY_ID", Original: &key}}})
	if err != nil || !strings.Contains(out, "AWS_ACCESS_KEY_ID") {
		t.Errorf("Steady restoring AWS_ACCESS_KEY_ID: %q, %v", out, err)
	}
}
