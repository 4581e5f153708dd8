package main

import (
	"testing"
	"time"
)

func TestShortStatus(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct{ arn, exp, want string }{
		{"", "2026-01-01T13:00:00Z", ""},
		{"arn:aws:iam::222222222222:role/deploy", "2026-01-01T12:54:30Z", "deploy@222222222222 54m"},
		{"arn:aws:iam::222222222222:role/team/ci/deploy", "2026-01-01T14:30:00Z", "deploy@222222222222 2h30m"},
		{"arn:aws:iam::222222222222:role/deploy", "2026-01-01T11:00:00Z", "deploy@222222222222 expired"},
		{"arn:aws:iam::222222222222:role/deploy", "garbage", "deploy@222222222222"},
		{"not-an-arn", "", "not-an-arn"},
	}
	for _, tt := range tests {
		if got := shortStatus(tt.arn, tt.exp, "", now); got != tt.want {
			t.Errorf("shortStatus(%q, %q) = %q, want %q", tt.arn, tt.exp, got, tt.want)
		}
	}
}

func TestShortStatusEnvironment(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	if got, want := shortStatus("arn:aws:iam::222222222222:role/deploy", "2026-01-01T12:54:30Z", "prod", now), "deploy@222222222222 (prod) 54m"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	if got := colorize("x", "prod"); got != "\x1b[31mx\x1b[0m" {
		t.Errorf("prod by default: %q", got)
	}
	if got := colorize("x", "sandbox"); got != "x" {
		t.Errorf("an environment with no colour: %q", got)
	}
}
