package e2e

import (
	"strings"
	"testing"

	"github.com/awsrole/awsrole/internal/stsstub"
)

// TestHostileSTSReplyInShells: STS answers the entry with a 200 KiB
// session token (then with an empty one). In every shell, cd into the
// project prints one awsrole: line naming the STS endpoint, exports
// nothing, and commands still run (a 200 KiB variable would make every
// one fail with "Argument list too long").
func TestHostileSTSReplyInShells(t *testing.T) {
	forEachShell(t, func(t *testing.T, kind string) {
		r := newRig(t, nil)
		r.install(kind)
		proj := r.project("p", roleDeploy, "e2e-hostile", "eu-west-1", true)
		s := r.startShell(kind, "", nil)
		before := s.Managed()
		for _, token := range []string{strings.Repeat("FwoGZXIvYXdzE", 16000), ""} {
			r.Stub.FailNext("AssumeRole", 3, stsstub.Fault{Replace: map[string]string{"SessionToken": token}})
			_, full := s.RunFull(s.Cd(proj))
			lines := awsroleLines(full)
			if len(lines) != 1 || !strings.Contains(lines[0], "STS at "+r.Stub.URL) || !strings.Contains(lines[0], "session token") {
				t.Errorf("token of %d bytes: want one awsrole: line naming STS at %s, got %q", len(token), r.Stub.URL, lines)
			}
			wantSame(t, "in the project after a hostile reply", before, s.Managed())
			if out := s.Run("/bin/echo still-runs"); !strings.Contains(out, "still-runs") {
				t.Errorf("a command after the hostile reply: %q", out)
			}
			s.Run(s.Cd(r.Home))
			r.Stub.FailNext("AssumeRole", 0, stsstub.Fault{})
		}
	})
}
