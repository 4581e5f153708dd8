package transition

import (
	"testing"
	"time"
)

func s(v string) *string { return &v }

func TestDecide(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	active := &Active{File: "/a/.awsrole.toml", Hash: "h1", Expiration: now.Add(time.Hour)}
	expiring := &Active{File: "/a/.awsrole.toml", Hash: "h1", Expiration: now.Add(4 * time.Minute)}
	a := Target{Dir: "/a", File: "/a/.awsrole.toml", Hash: "h1"}
	tests := []struct {
		name   string
		active *Active
		target Target
		want   Kind
	}{
		{"nothing anywhere", nil, Target{}, Stay},
		{"enter", nil, a, Enter},
		{"leave", active, Target{}, Leave},
		{"same project, fresh", active, a, Stay},
		{"nested dir, other file", active, Target{Dir: "/a/b", File: "/a/b/.awsrole.toml", Hash: "h2"}, Switch},
		{"content edited", active, Target{Dir: "/a", File: "/a/.awsrole.toml", Hash: "h9"}, Switch},
		{"inside refresh window", expiring, a, Refresh},
		{"exactly at window edge", &Active{File: a.File, Hash: "h1", Expiration: now.Add(5 * time.Minute)}, a, Refresh},
		{"just outside window", &Active{File: a.File, Hash: "h1", Expiration: now.Add(5*time.Minute + time.Second)}, a, Stay},
		{"expired", &Active{File: a.File, Hash: "h1", Expiration: now.Add(-time.Hour)}, a, Refresh},
		{"expiring but leaving", expiring, Target{}, Leave},
	}
	for _, tt := range tests {
		if got := Decide(tt.active, tt.target, now, 5*time.Minute); got != tt.want {
			t.Errorf("%s: Decide = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// role is what entering a project asks for.
func role(key, region string) map[string]*string {
	d := map[string]*string{
		"AWS_ACCESS_KEY_ID":         s(key),
		"AWS_SECRET_ACCESS_KEY":     s("secret-" + key),
		"AWS_SESSION_TOKEN":         s("token-" + key),
		"AWS_CREDENTIAL_EXPIRATION": s("2026-01-01T13:00:00Z"),
		"AWSROLE_ARN":               s("arn:aws:iam::222222222222:role/" + key),
		"AWSROLE_DIR":               s("/" + key),
		"AWS_PROFILE":               nil,
		"AWS_DEFAULT_PROFILE":       nil,
		"AWS_SECURITY_TOKEN":        nil,
	}
	if region != "" {
		d["AWS_REGION"] = s(region)
		d["AWS_DEFAULT_REGION"] = s(region)
	}
	return d
}

// apply plays changes onto env, as the shell would.
func apply(env map[string]string, changes map[string]*string) map[string]string {
	out := make(map[string]string)
	for k, v := range env {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = *v
		}
	}
	return out
}

// step enters desired from env with active a and returns the new env and active.
func step(a *Active, env map[string]string, desired map[string]*string, same bool) (map[string]string, *Active) {
	orig := Originals(a, env)
	changes, applied := Plan(a, env, desired, same)
	if len(desired) == 0 {
		return apply(env, changes), nil
	}
	return apply(env, changes), &Active{Originals: orig, Applied: applied}
}

func equal(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
		return
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s: %s = %q (set %v), want %q", what, k, g, ok, v)
		}
	}
}

func TestEnterLeaveRestoresExactly(t *testing.T) {
	user := map[string]string{
		"HOME":                  "/home/u",
		"AWS_ACCESS_KEY_ID":     "AKIAUSER",
		"AWS_SECRET_ACCESS_KEY": "usersecret",
		"AWS_PROFILE":           "corp",
		"AWS_DEFAULT_REGION":    "", // set to the empty string
	}
	env, a := step(nil, user, role("A", "eu-west-1"), false)
	if _, ok := env["AWS_PROFILE"]; ok {
		t.Fatal("AWS_PROFILE still set while active")
	}
	if env["AWS_REGION"] != "eu-west-1" || env["AWS_ACCESS_KEY_ID"] != "A" {
		t.Fatalf("not entered: %q", env)
	}
	if got := a.Originals["AWS_DEFAULT_REGION"]; got == nil || *got != "" {
		t.Fatalf("empty original not kept as empty: %v", got)
	}
	if got := a.Originals["AWS_REGION"]; got != nil {
		t.Fatalf("unset original not kept as unset: %v", *got)
	}
	env, _ = step(a, env, nil, false)
	equal(t, "after leave", env, user)
}

func TestSwitchKeepsOriginalsFromBeforeFirstProject(t *testing.T) {
	user := map[string]string{"AWS_ACCESS_KEY_ID": "AKIAUSER", "AWS_SECRET_ACCESS_KEY": "usersecret", "AWS_REGION": "us-east-2"}
	env, a := step(nil, user, role("A", "eu-west-1"), false)
	// Source credentials for B are the user's, not A's.
	src := Originals(a, env)
	if *src["AWS_ACCESS_KEY_ID"] != "AKIAUSER" || *src["AWS_REGION"] != "us-east-2" {
		t.Fatalf("originals for B = %v", src)
	}
	env, a = step(a, env, role("B", ""), false)
	if env["AWS_ACCESS_KEY_ID"] != "B" || env["AWS_REGION"] != "us-east-2" {
		t.Fatalf("in B: %q", env)
	}
	env, _ = step(a, env, nil, false)
	equal(t, "after leaving B", env, user)
}

func TestHandSetValueSurvives(t *testing.T) {
	user := map[string]string{"AWS_ACCESS_KEY_ID": "AKIAUSER"}
	env, a := step(nil, user, role("A", "eu-west-1"), false)
	env["AWS_REGION"] = "ap-south-1" // the user's own export inside the project
	// A refresh leaves it alone and stops owning it.
	env, a = step(a, env, role("A2", "eu-west-1"), true)
	if env["AWS_REGION"] != "ap-south-1" || env["AWS_ACCESS_KEY_ID"] != "A2" {
		t.Fatalf("after refresh: %q", env)
	}
	env, _ = step(a, env, nil, false)
	want := map[string]string{"AWS_ACCESS_KEY_ID": "AKIAUSER", "AWS_REGION": "ap-south-1"}
	equal(t, "after leave", env, want)
}

func TestHandSetProfileInsideProjectIsKept(t *testing.T) {
	user := map[string]string{"AWS_PROFILE": "corp"}
	env, a := step(nil, user, role("A", ""), false)
	env["AWS_PROFILE"] = "other"
	env, _ = step(a, env, nil, false)
	if env["AWS_PROFILE"] != "other" {
		t.Fatalf("hand-set AWS_PROFILE lost: %q", env)
	}
}

func TestPlanNoChangesWhenNothingDiffers(t *testing.T) {
	env := map[string]string{"AWS_REGION": "x"}
	changes, _ := Plan(nil, env, map[string]*string{"AWS_REGION": s("x")}, false)
	if len(changes) != 0 {
		t.Fatalf("changes = %v", changes)
	}
}

func TestLostSnapshotNeverMakesRoleKeysTheUsers(t *testing.T) {
	env := map[string]string{
		"AWS_ACCESS_KEY_ID": "ASIAROLE", "AWS_SECRET_ACCESS_KEY": "rolesecret", "AWS_SESSION_TOKEN": "tok",
		"AWSROLE_ARN": "arn:aws:iam::222222222222:role/deploy", "AWSROLE_DIR": "/p", "AWS_REGION": "eu-west-1",
	}
	o := Originals(nil, env)
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWSROLE_ARN", "AWSROLE_DIR"} {
		if o[name] != nil {
			t.Errorf("%s = %q taken as the user's own", name, *o[name])
		}
	}
	if o["AWS_REGION"] == nil || *o["AWS_REGION"] != "eu-west-1" {
		t.Errorf("AWS_REGION lost: %v", o["AWS_REGION"])
	}
	// Without the marker, keys in the environment are the user's.
	delete(env, "AWSROLE_ARN")
	if o := Originals(nil, env); o["AWS_ACCESS_KEY_ID"] == nil {
		t.Error("user's own keys dropped")
	}
}
