package server

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/endpoint"
	"github.com/awsrole/awsrole/internal/xdgdir"
)

// TestServedKeptAfterFailure: a renewal that fails with nothing valid left
// keeps the expiry of what was served before in served.json, so that
// status does not say "nothing served" of a role served a minute earlier.
func TestServedKeptAfterFailure(t *testing.T) {
	world(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s := &Server{Store: testStore(), UserConfig: dirconfig.UserConfigPath(xdgdir.FromEnv(os.Getenv).Config), Now: func() time.Time { return now }}
	reg := &endpoint.Registration{Request: testReq, Dir: "/src/p"}
	served := now.Add(15 * time.Minute)
	s.record("id1", reg, credcache.Credentials{AccessKeyID: "ASIAX", Expiration: served}, nil)
	now = now.Add(16 * time.Minute)
	s.record("id1", reg, credcache.Credentials{}, errors.New("the sign-in has expired"))
	got := testStore().ReadServed()["id1"]
	if !got.Expiration.Equal(served) || got.Error != "the sign-in has expired" {
		t.Errorf("served.json after a failed renewal: %+v, want expiration %s and the error", got, served)
	}
	s.record("id2", reg, credcache.Credentials{}, errors.New("no access"))
	if got := testStore().ReadServed()["id2"]; !got.Expiration.IsZero() {
		t.Errorf("served.json of an id never served: %+v, want no expiration", got)
	}
}
