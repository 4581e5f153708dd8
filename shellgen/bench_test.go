package shellgen_test

import (
	"strings"
	"testing"

	"github.com/awsrole/awsrole/shellgen"
)

// benchChanges is a typical entry: four credential variables (a session
// token of realistic length), the region pair, the prompt markers and the
// snapshot pointer, nine in all.
func benchChanges() map[string]*string {
	p := func(s string) *string { return &s }
	return map[string]*string{
		"AWS_ACCESS_KEY_ID":         p("ASIAQEXAMPLE7BENCHKEY"),
		"AWS_SECRET_ACCESS_KEY":     p("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY+bench"),
		"AWS_SESSION_TOKEN":         p("IQoJb3JpZ2luX2VjE" + strings.Repeat("Zm9vYmFyYmF6cXV4", 50) + "=="),
		"AWS_CREDENTIAL_EXPIRATION": p("2026-11-24T13:04:05Z"),
		"AWS_REGION":                p("eu-west-1"),
		"AWS_DEFAULT_REGION":        p("eu-west-1"),
		"AWSROLE_ARN":               p("arn:aws:iam::222222222222:role/deploy"),
		"AWSROLE_DIR":               p("/home/alice/src/payments"),
		"AWSROLE_STATE":             p("/home/alice/.local/state/awsrole/snapshots/4242-1795478682865558571.json"),
	}
}

// BenchmarkRender renders the nine-variable entry in each dialect.
func BenchmarkRender(b *testing.B) {
	changes := benchChanges()
	for _, d := range shellgen.Names(shellgen.UseExport) {
		b.Run(d, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := shellgen.Render(d, changes); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRenderLeave renders the way back: nine variables unset or restored.
func BenchmarkRenderLeave(b *testing.B) {
	changes := benchChanges()
	for k := range changes {
		changes[k] = nil
	}
	for _, d := range shellgen.Names(shellgen.UseExport) {
		b.Run(d, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := shellgen.Render(d, changes); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSteady renders the variables a bash or zsh hook keeps for its
// own check, appended to every export for those shells.
func BenchmarkSteady(b *testing.B) {
	watch := []string{"/home/alice/.config/awsrole/config.toml",
		"/home/alice/.local/share/awsrole/allow", "/home/alice/.local/share/awsrole/deny"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := shellgen.Steady("bash", shellgen.Facts{File: "/home/alice/src/payments/.awsrole.toml",
			State: "/home/alice/.local/state/awsrole/snapshots/4242-1795478682865558571.json",
			Mark:  "/home/alice/.local/state/awsrole/marks/4242", Deadline: 1795482282, Watch: watch}); err != nil {
			b.Fatal(err)
		}
	}
}
