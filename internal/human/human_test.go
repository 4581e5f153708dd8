package human

import (
	"testing"
	"time"
)

// TestTime: the date and the zone are always there, in local time.
func TestTime(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	old := time.Local
	time.Local = cet
	defer func() { time.Local = old }()
	at := time.Date(2026, 1, 2, 0, 27, 0, 0, time.UTC) // 01:27 the same day in CET
	if got, want := Time(at), "2026-01-02 01:27 CET"; got != want {
		t.Errorf("Time = %q, want %q", got, want)
	}
	if got, want := Time(time.Date(2026, 1, 1, 23, 30, 0, 0, time.UTC)), "2026-01-02 00:30 CET"; got != want {
		t.Errorf("Time past midnight = %q, want %q", got, want)
	}
}

func TestList(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{nil, "none"},
		{[]string{"corp"}, "corp"},
		{[]string{"corp", "other"}, "corp, other"},
		{[]string{"a\x1b[2Kb"}, `a\x1b[2Kb`},
	} {
		if got := List(tt.in); got != tt.want {
			t.Errorf("List(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
