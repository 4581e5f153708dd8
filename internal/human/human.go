// Package human is how awsrole shows values to people, the same way in
// every message and command: one format for a moment in time, one for a
// list of names. Machine-read output (the exported variables, --json,
// credential_process) keeps RFC 3339 in UTC.
package human

import (
	"strings"
	"time"

	"github.com/awsrole/awsrole/internal/termsafe"
)

// Time is t in local time with its date and zone: "2026-01-02 01:27 CET".
// A time of day alone misleads for a token that runs past midnight, and
// the zone says which clock is meant where that is not obvious (a server
// on UTC, a shell over ssh).
func Time(t time.Time) string {
	return t.Local().Format("2006-01-02 15:04 MST")
}

// List is names as one line: "corp, other"; "none" when there are none.
// Each name is made safe for a terminal (names come from files others may
// have written).
func List(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = termsafe.String(n)
	}
	return strings.Join(out, ", ")
}
