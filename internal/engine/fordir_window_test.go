package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
)

// TestForDirWindowByDuration: what credential-process (minLeft 16m, over
// botocore's 15-minute advisory refresh) asks the cache for, by the
// project's duration. Whenever the duration allows a fresh session to
// outlast 16 minutes by 4, that is the window; below, as much as that
// margin leaves (11 minutes at 15m, above botocore's mandatory 10), and
// the duration is never raised.
func TestForDirWindowByDuration(t *testing.T) {
	for _, tt := range []struct {
		duration string
		window   time.Duration
	}{
		{"15m", 11 * time.Minute},
		{"17m", 13 * time.Minute},
		{"20m", 16 * time.Minute},
		{"30m", 16 * time.Minute},
		{"1h", 16 * time.Minute},
	} {
		t.Run(tt.duration, func(t *testing.T) {
			w := newFailWorld(t)
			var got credreq.Request
			w.e.Creds = fakeCreds(func(req credreq.Request) (credcache.Credentials, error) {
				got = req
				return credcache.Credentials{AccessKeyID: "ASIAX", SecretAccessKey: "s", SessionToken: "t", Expiration: w.now.Add(req.Duration)}, nil
			})
			dir := filepath.Join(w.home, "d"+tt.duration)
			w.writeFile(t, dir, fmt.Sprintf("role_arn = %q\nduration = %q\n", roleA, tt.duration))
			if _, err := w.e.ForDir(context.Background(), dir, w.env, 16*time.Minute); err != nil {
				t.Fatal(err)
			}
			want, _ := time.ParseDuration(tt.duration)
			if got.Window != tt.window || got.Duration != want {
				t.Fatalf("duration %s: window %s, duration asked %s; want window %s, duration %s", tt.duration, got.Window, got.Duration, tt.window, want)
			}
		})
	}
}
