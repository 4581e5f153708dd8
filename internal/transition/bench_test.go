package transition_test

import (
	"testing"
	"time"

	"github.com/awsrole/awsrole/internal/transition"
)

func benchPtr(s string) *string { return &s }

// benchEnv is a shell's environment: some unrelated variables and the
// user's own long-term keys and profile.
func benchEnv() map[string]string {
	env := map[string]string{
		"HOME": "/home/alice", "PATH": "/usr/local/bin:/usr/bin:/bin", "SHELL": "/bin/zsh",
		"TERM": "xterm-256color", "LANG": "en_US.UTF-8", "USER": "alice", "PWD": "/home/alice/src/payments",
		"EDITOR": "vim", "PAGER": "less", "SHLVL": "1",
		"AWS_ACCESS_KEY_ID": "AKIAEXAMPLEALICE0001", "AWS_SECRET_ACCESS_KEY": "alice-secret",
		"AWS_PROFILE": "corp",
	}
	return env
}

// benchDesired is what a role puts in place (see engine.desired).
func benchDesired() map[string]*string {
	d := map[string]*string{
		"AWS_ACCESS_KEY_ID":         benchPtr("ASIAQEXAMPLE7BENCHKEY"),
		"AWS_SECRET_ACCESS_KEY":     benchPtr("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY+bench"),
		"AWS_SESSION_TOKEN":         benchPtr("IQoJb3JpZ2luX2VjEZm9vYmFyYmF6cXV4"),
		"AWS_CREDENTIAL_EXPIRATION": benchPtr("2026-11-24T13:04:05Z"),
		"AWS_REGION":                benchPtr("eu-west-1"),
		"AWS_DEFAULT_REGION":        benchPtr("eu-west-1"),
		"AWSROLE_ARN":               benchPtr("arn:aws:iam::222222222222:role/deploy"),
		"AWSROLE_DIR":               benchPtr("/home/alice/src/payments"),
	}
	for _, name := range transition.Hidden {
		d[name] = nil
	}
	return d
}

// benchActive enters the role from benchEnv and returns what is active and
// the environment afterwards.
func benchActive(now time.Time) (*transition.Active, map[string]string) {
	env := benchEnv()
	changes, applied := transition.Plan(nil, env, benchDesired(), false)
	a := &transition.Active{
		Dir: "/home/alice/src/payments", File: "/home/alice/src/payments/.awsrole.toml", Hash: "h1",
		RoleARN: "arn:aws:iam::222222222222:role/deploy", Expiration: now.Add(time.Hour),
		Originals: transition.Originals(nil, env), Applied: applied,
	}
	for k, v := range changes {
		if v == nil {
			delete(env, k)
		} else {
			env[k] = *v
		}
	}
	return a, env
}

// BenchmarkDecide is the decision for a prompt in the same project.
func BenchmarkDecide(b *testing.B) {
	now := time.Now()
	a, _ := benchActive(now)
	t := transition.Target{Dir: a.Dir, File: a.File, Hash: a.Hash}
	for b.Loop() {
		if k := transition.Decide(a, t, now, 5*time.Minute); k != transition.Stay {
			b.Fatal(k)
		}
	}
}

// BenchmarkPlan is the decision plus the variables that change, for each
// kind of move that changes any.
func BenchmarkPlan(b *testing.B) {
	now := time.Now()
	const window = 5 * time.Minute
	b.Run("enter", func(b *testing.B) {
		env, desired := benchEnv(), benchDesired()
		t := transition.Target{Dir: "/home/alice/src/payments", File: "/home/alice/src/payments/.awsrole.toml", Hash: "h1"}
		b.ReportAllocs()
		for b.Loop() {
			if transition.Decide(nil, t, now, window) != transition.Enter {
				b.Fatal("not an entry")
			}
			transition.Originals(nil, env)
			transition.Plan(nil, env, desired, false)
		}
	})
	b.Run("leave", func(b *testing.B) {
		a, env := benchActive(now)
		b.ReportAllocs()
		for b.Loop() {
			if transition.Decide(a, transition.Target{}, now, window) != transition.Leave {
				b.Fatal("not a leave")
			}
			transition.Plan(a, env, nil, false)
		}
	})
	b.Run("refresh", func(b *testing.B) {
		a, env := benchActive(now)
		t := transition.Target{Dir: a.Dir, File: a.File, Hash: a.Hash}
		later := a.Expiration.Add(-time.Minute)
		desired := benchDesired()
		b.ReportAllocs()
		for b.Loop() {
			if transition.Decide(a, t, later, window) != transition.Refresh {
				b.Fatal("not a refresh")
			}
			transition.Originals(a, env)
			transition.Plan(a, env, desired, true)
		}
	})
}
