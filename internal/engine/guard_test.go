package engine_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/engine"
)

// asker answers confirm questions from a list and records them.
type asker struct {
	answers []bool
	err     error
	asked   []string
}

func (a *asker) Ask(q string) (bool, error) {
	a.asked = append(a.asked, q)
	if a.err != nil {
		return false, a.err
	}
	yes := a.answers[0]
	a.answers = a.answers[1:]
	return yes, nil
}

// TestConfirm: a file with confirm = true enters only on yes; a no is said
// once and the shell stays as it was until it leaves every project; yes
// lasts while the shell holds the project.
func TestConfirm(t *testing.T) {
	w := newFailWorld(t)
	var notices bytes.Buffer
	w.e.Notice = &notices
	w.writeFile(t, w.a, "role_arn = \""+roleA+"\"\nenvironment = \"prod\"\nconfirm = true\n")
	a := &asker{answers: []bool{false, true}}
	w.e.Ask = a
	w.cd(t, w.a)
	if w.env["AWSROLE_ARN"] != "" || !strings.Contains(notices.String(), "declined") {
		t.Fatalf("a no entered (%q) or was not said (%q)", w.env["AWSROLE_ARN"], notices.String())
	}
	if len(a.asked) != 1 || a.asked[0] != "Enter role a@222222222222 (prod)? [y/N]" {
		t.Fatalf("asked %q", a.asked)
	}
	w.cd(t, w.a) // the next prompt: not asked again, still out
	if len(a.asked) != 1 || w.env["AWSROLE_ARN"] != "" || strings.Count(notices.String(), "declined") != 1 {
		t.Fatalf("the prompt after a no: asked %d times, %q", len(a.asked), notices.String())
	}
	w.cd(t, filepath.Join(w.home, "..")) // out of every project: asked again next time
	w.cd(t, w.a)
	if len(a.asked) != 2 || w.env["AWSROLE_ARN"] != roleA || w.env["AWSROLE_ENV"] != "prod" {
		t.Fatalf("after a yes: asked %d times, %v", len(a.asked), w.env)
	}
	w.now = w.now.Add(56 * time.Minute) // a renewal does not ask
	w.cd(t, w.a)
	if len(a.asked) != 2 {
		t.Fatal("a renewal asked again")
	}
	// exec, credential-process, console: --yes, else the answer; no
	// terminal is an error that says how to approve.
	cfg, err := dirconfig.Load(filepath.Join(w.a, dirconfig.FileName))
	if err != nil {
		t.Fatal(err)
	}
	e := *w.e
	e.Ask = &asker{err: engine.ErrNoTerminal}
	if err := e.ConfirmOnce(cfg); err == nil || !strings.Contains(err.Error(), "pass --yes") {
		t.Fatalf("no terminal: %v", err)
	}
	e.Ask = &asker{answers: []bool{false}}
	if err := e.ConfirmOnce(cfg); err == nil || !strings.Contains(err.Error(), "declined") {
		t.Fatalf("no: %v", err)
	}
	e.Yes = true
	if err := e.ConfirmOnce(cfg); err != nil {
		t.Fatalf("--yes: %v", err)
	}
}

// TestListAndPrune: the trust store's files with their state, a scanned
// tree's unknown ones, and pruning the entries of files that are gone.
func TestListAndPrune(t *testing.T) {
	w := newFailWorld(t)
	c := filepath.Join(w.home, "tree", "c")
	os.MkdirAll(c, 0o755)
	os.WriteFile(filepath.Join(c, dirconfig.FileName), []byte("sso_session = \"corp\"\nsso_account_id = \"333333333333\"\nsso_role_name = \"Admin\"\n"), 0o644)
	if err := os.Remove(filepath.Join(w.b, dirconfig.FileName)); err != nil {
		t.Fatal(err)
	}
	list, err := w.e.List([]string{filepath.Join(w.home, "tree")}, nil, w.now)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*engine.Listed{}
	for _, l := range list {
		got[filepath.Dir(l.Path)] = l
	}
	if l := got[w.a]; l == nil || l.State != "allowed" || l.RoleARN != roleA {
		t.Errorf("a: %+v", l)
	}
	if l := got[w.b]; l == nil || l.State != "gone" {
		t.Errorf("b (deleted): %+v", l)
	}
	if l := got[c]; l == nil || l.State != "not allowed" || l.SSOAccountID != "333333333333" || l.FromTrust {
		t.Errorf("c (scanned): %+v", l)
	}
	pruned, err := engine.Prune(list)
	if err != nil || len(pruned) != 1 || filepath.Dir(pruned[0]) != w.b {
		t.Fatalf("prune: %v, %v", pruned, err)
	}
	list, _ = w.e.List(nil, nil, w.now)
	for _, l := range list {
		if l.State == "gone" {
			t.Errorf("still listed after prune: %+v", l)
		}
	}
}

// TestLoginSession: the project's session, else the user config's, else
// the only one in ~/.aws/config; several name themselves in the error.
func TestLoginSession(t *testing.T) {
	w := newFailWorld(t)
	config := filepath.Join(w.home, ".aws", "config")
	w.useAWS(config, filepath.Join(w.home, ".aws", "credentials"))
	os.MkdirAll(filepath.Dir(config), 0o700)
	os.WriteFile(config, []byte("[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n[sso-session lab]\nsso_start_url = https://lab.awsapps.com/start\nsso_region = us-east-1\n"), 0o600)
	sso := filepath.Join(w.home, "sso")
	w.writeFile(t, sso, "sso_session = \"lab\"\nsso_account_id = \"333333333333\"\nsso_role_name = \"Admin\"\n")
	if s, err := w.e.LoginSession(sso, w.env); err != nil || s != "lab" {
		t.Errorf("in an SSO project: %q, %v", s, err)
	}
	if _, err := w.e.LoginSession(w.home, w.env); err == nil || !strings.Contains(err.Error(), "--sso-session: corp, lab") {
		t.Errorf("two sessions, none chosen: %v", err)
	}
	os.WriteFile(config, []byte("[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n"), 0o600)
	if s, err := w.e.LoginSession(w.home, w.env); err != nil || s != "corp" {
		t.Errorf("the only session: %q, %v", s, err)
	}
	if l := engine.Label(&dirconfig.Config{SSOAccountID: "333333333333", SSORoleName: "Admin"}); l != "sso:333333333333/Admin" {
		t.Errorf("label of a permission set: %s", l)
	}
}
