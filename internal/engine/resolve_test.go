package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/internal/transition"
)

// Resolve keeps each stage's error with its stage: a broken user config
// still finds the file (and judges nothing without it), a snapshot that is
// gone is an error of its own, and the originals come from the environment.
func TestResolveStages(t *testing.T) {
	w := newFailWorld(t)
	r := w.e.Resolve(w.a, w.env)
	if r.UserErr != nil || r.FindErr != nil || r.JudgeErr != nil || r.SnapshotErr != nil {
		t.Fatalf("errors: %v %v %v %v", r.UserErr, r.FindErr, r.JudgeErr, r.SnapshotErr)
	}
	if r.Path != filepath.Join(w.a, ".awsrole.toml") || r.Config() == nil || r.Config().RoleARN != roleA {
		t.Fatalf("file %q, config %+v", r.Path, r.Config())
	}
	if p, err := r.Project(); err != nil || p.Label() != roleA {
		t.Fatalf("project %v, %v", p, err)
	}
	if v := r.Originals["AWS_PROFILE"]; v == nil || *v != "corp" {
		t.Errorf("originals: AWS_PROFILE = %v", v)
	}

	if err := os.MkdirAll(filepath.Dir(w.stores.UserConfig), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.stores.UserConfig, []byte("refresh_before = [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{transition.StateVar: filepath.Join(w.stores.State.Dir, "snapshots", "1-1.json")}
	r = w.e.Resolve(w.a, env)
	if r.UserErr == nil || r.Path == "" || r.Judged != nil || r.Config() != nil {
		t.Errorf("broken user config: UserErr %v, path %q, judged %v", r.UserErr, r.Path, r.Judged)
	}
	if r.SnapshotErr == nil || !strings.Contains(r.SnapshotErr.Error(), "is gone") || r.Active != nil {
		t.Errorf("gone snapshot: %v, active %v", r.SnapshotErr, r.Active)
	}
	if _, err := r.Allowed(); err != r.UserErr {
		t.Errorf("Allowed() = %v, want the user config's error first", err)
	}
}
