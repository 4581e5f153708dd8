package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/awsrole/awsrole/internal/oidcissuer"
	"github.com/awsrole/awsrole/internal/testrig"
	"github.com/awsrole/awsrole/internal/testrig/hermetic"
)

// The CI scenario: a monorepo checkout whose two directories deploy with
// two roles, reached from one entry role.
const (
	ciEntry   = "arn:aws:iam::111111111111:role/ci-entry"
	ciAPI     = "arn:aws:iam::222222222222:role/api"
	ciNetwork = "arn:aws:iam::333333333333:role/network"
)

// repoRoot is this repository: the action's and the docs' source.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// docBlock is the fenced block after `<!-- ci-test: NAME -->` in docs/ci.md.
func docBlock(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- ci-test: " + name + " -->\n```yaml\n(.*?)```")
	m := re.FindSubmatch(data)
	if m == nil {
		t.Fatalf("docs/ci.md has no yaml block marked ci-test: %s", name)
	}
	return string(m[1])
}

// ciWorld is a runner's machine: a hermetic HOME without any keys, the
// stand-in trusting a local OIDC issuer, the checkout, and a PATH with
// only the system, go and aws: awsrole must be installed by the job.
type ciWorld struct {
	*hermetic.World
	issuer    *oidcissuer.Issuer
	workspace string
	temp      string
	env       map[string]string
	tools     string
}

func newCIWorld(t *testing.T, subject, pattern string) *ciWorld {
	t.Helper()
	w := hermetic.NewT(t, hermetic.Options{User: hermetic.User{Key: userKey, Secret: userSecret, ARN: userARN}})
	is, err := oidcissuer.Start(subject)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(is.Close)
	w.Stub.AddOIDCProvider(is.URL, "sts.amazonaws.com")
	w.Stub.TrustWebIdentity(ciEntry, is.URL, pattern)
	c := &ciWorld{World: w, issuer: is, workspace: filepath.Join(w.Root, "work", "mono"), temp: filepath.Join(w.Root, "runner-temp"),
		tools: filepath.Join(w.Root, "tools")}
	for rel, content := range map[string]string{
		"services/api/.awsrole.toml":  fmt.Sprintf("role_arn = %q\nregion = \"eu-west-1\"\n", ciAPI),
		"infra/network/.awsrole.toml": fmt.Sprintf("role_arn = %q\n", ciNetwork),
		"README.md":                   "mono\n",
	} {
		w.Write(t, filepath.Join(c.workspace, rel), content)
	}
	for _, d := range []string{c.temp, c.tools} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// aws (binDir's link: the real script, not pyenv's shim) and go,
	// nothing else of ours.
	aws := filepath.Join(binDir, "aws")
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"aws": aws, "go": goBin} {
		if err := os.Symlink(target, filepath.Join(c.tools, name)); err != nil {
			t.Fatal(err)
		}
	}
	c.env = map[string]string{
		"HOME": w.Home, "USER": "runner", "LANG": "C.UTF-8", "AWS_PAGER": "",
		"PATH":                 c.tools + ":/usr/local/bin:/usr/bin:/bin",
		"CI":                   "true",
		"AWS_ENDPOINT_URL_STS": w.Stub.URL, "AWS_EC2_METADATA_DISABLED": "true",
		"GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "-mod=mod",
	}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		out, err := exec.Command("go", "env", k).Output()
		if err != nil {
			t.Fatal(err)
		}
		c.env[k] = strings.TrimSpace(string(out))
	}
	return c
}

// ghStep is a step of a workflow or a composite action.
type ghStep struct {
	Name             string            `yaml:"name"`
	Uses             string            `yaml:"uses"`
	With             map[string]string `yaml:"with"`
	Run              string            `yaml:"run"`
	Shell            string            `yaml:"shell"`
	Env              map[string]string `yaml:"env"`
	WorkingDirectory string            `yaml:"working-directory"`
}

// runner emulates the GitHub Actions runner for one job: each run step in
// bash -e -o pipefail, GITHUB_ENV and GITHUB_PATH files read after every
// step and fresh for the next, ::add-mask:: honoured, and the job's OIDC
// request endpoint (the local issuer) in every step's environment.
type runner struct {
	t     *testing.T
	w     *ciWorld
	path  []string
	masks []string
	// raw is everything the steps printed; steps are each step's output.
	raw   strings.Builder
	steps []string
	n     int
	// failed is the first step that failed, when mayFail lets the job go
	// on (to see how it fails).
	mayFail bool
	failed  error
}

func newRunner(t *testing.T, w *ciWorld) *runner {
	r := &runner{t: t, w: w}
	w.env["GITHUB_ACTIONS"] = "true"
	w.env["GITHUB_WORKSPACE"] = w.workspace
	w.env["RUNNER_TEMP"] = w.temp
	w.env["RUNNER_OS"] = map[string]string{"linux": "Linux", "darwin": "macOS"}[runtime.GOOS]
	w.env["ACTIONS_ID_TOKEN_REQUEST_URL"] = w.issuer.RequestURL()
	w.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = w.issuer.RequestToken
	return r
}

var exprRE = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// expand replaces ${{ expr }} with exprs[expr]; an expression the
// emulation does not know fails the test rather than pass unnoticed.
func (r *runner) expand(s string, exprs map[string]string) string {
	return exprRE.ReplaceAllStringFunc(s, func(m string) string {
		k := exprRE.FindStringSubmatch(m)[1]
		v, ok := exprs[k]
		if !ok {
			r.t.Fatalf("the emulation does not know the expression ${{ %s }}", k)
		}
		return v
	})
}

// workflowStep runs one step of the workflow.
func (r *runner) workflowStep(s ghStep) {
	switch {
	case strings.HasPrefix(s.Uses, "actions/checkout@"):
		// The checkout is in place already.
	case s.Uses == "./" || strings.HasPrefix(s.Uses, "awsrole/awsrole@"):
		r.action(s.With)
	case s.Uses != "":
		r.t.Fatalf("the emulation cannot run uses: %s", s.Uses)
	default:
		r.run(s, nil, "")
	}
}

// action runs the repository's composite action with inputs.
func (r *runner) action(with map[string]string) {
	root := repoRoot(r.t)
	data, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		r.t.Fatal(err)
	}
	var a struct {
		Inputs map[string]struct {
			Required bool   `yaml:"required"`
			Default  string `yaml:"default"`
		} `yaml:"inputs"`
		Runs struct {
			Using string   `yaml:"using"`
			Steps []ghStep `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(data, &a); err != nil {
		r.t.Fatalf("action.yml: %v", err)
	}
	if a.Runs.Using != "composite" {
		r.t.Fatalf("action.yml runs using %q", a.Runs.Using)
	}
	exprs := map[string]string{"github.action_path": root, "github.workspace": r.w.workspace, "runner.temp": r.w.temp}
	for name, in := range a.Inputs {
		v, given := with[name]
		if !given && in.Required {
			r.t.Fatalf("action input %s is required", name)
		}
		if !given {
			v = in.Default
		}
		exprs["inputs."+name] = v
	}
	for name := range with {
		if _, ok := a.Inputs[name]; !ok {
			r.t.Fatalf("the action has no input %s", name)
		}
	}
	for _, s := range a.Runs.Steps {
		if r.failed != nil {
			return
		}
		if s.Shell != "bash" {
			r.t.Fatalf("action step %q: shell %q, want bash", s.Name, s.Shell)
		}
		r.run(s, exprs, root)
	}
}

// run runs one run: step as the runner does, then applies GITHUB_ENV and
// GITHUB_PATH.
func (r *runner) run(s ghStep, exprs map[string]string, actionPath string) {
	r.t.Helper()
	r.n++
	dir := filepath.Join(r.w.temp, fmt.Sprintf("step%d", r.n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		r.t.Fatal(err)
	}
	script := filepath.Join(dir, "script.sh")
	envFile, pathFile := filepath.Join(dir, "env"), filepath.Join(dir, "path")
	for _, f := range []string{envFile, pathFile} {
		os.WriteFile(f, nil, 0o600)
	}
	if err := os.WriteFile(script, []byte("#!/bin/bash\n"+r.expand(s.Run, exprs)), 0o700); err != nil {
		r.t.Fatal(err)
	}
	// Every step's code passes shellcheck, as the hooks' does.
	sc := testrig.Tool(r.t, "shellcheck", ".ci/run installs it")
	if out, err := exec.Command(sc, "--enable=all", "-s", "bash", script).CombinedOutput(); err != nil {
		r.t.Errorf("step %d (%s): shellcheck: %v\n%s", r.n, s.Name, err, out)
	}
	env := map[string]string{}
	for k, v := range r.w.env {
		env[k] = v
	}
	for k, v := range s.Env {
		env[k] = r.expand(v, exprs)
	}
	env["GITHUB_ENV"], env["GITHUB_PATH"] = envFile, pathFile
	if actionPath != "" {
		env["GITHUB_ACTION_PATH"] = actionPath
	}
	if len(r.path) > 0 {
		env["PATH"] = strings.Join(r.path, ":") + ":" + env["PATH"]
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-e", "-o", "pipefail", script)
	cmd.Dir = r.w.workspace
	if wd := r.expand(s.WorkingDirectory, exprs); wd != "" {
		cmd.Dir = filepath.Join(r.w.workspace, wd)
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	r.raw.Write(out)
	r.steps = append(r.steps, string(out))
	var shown []string
	for _, line := range strings.Split(string(out), "\n") {
		if m, ok := strings.CutPrefix(line, "::add-mask::"); ok {
			r.masks = append(r.masks, m)
			continue
		}
		shown = append(shown, line)
	}
	r.t.Logf("step %d %s%s:\n%s", r.n, s.Name, s.Uses, r.masked(strings.Join(shown, "\n")))
	if err != nil && r.mayFail {
		r.failed = fmt.Errorf("step %d (%s): %w", r.n, s.Name, err)
		return
	}
	if err != nil {
		r.t.Fatalf("step %d (%s) failed: %v", r.n, s.Name, err)
	}
	for k, v := range readGitHubEnv(r.t, envFile) {
		r.w.env[k] = v
	}
	data, _ := os.ReadFile(pathFile)
	for _, p := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if p != "" {
			r.path = append([]string{p}, r.path...)
		}
	}
}

// masked is s as the runner logs it: every masked value as ***.
func (r *runner) masked(s string) string {
	for _, m := range r.masks {
		if m != "" {
			s = strings.ReplaceAll(s, m, "***")
		}
	}
	return s
}

// readGitHubEnv parses a GITHUB_ENV file: NAME=value lines and
// NAME<<DELIMITER heredocs.
func readGitHubEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var val []string
			for sc.Scan() && sc.Text() != delim {
				val = append(val, sc.Text())
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	return out
}

// noSecrets checks that out holds none of the secrets the stand-in and
// the issuer issued.
func (w *ciWorld) noSecrets(t *testing.T, what, out string) {
	t.Helper()
	secrets := append(w.Stub.Secrets(), w.issuer.Secrets()...)
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("%s holds a secret the stand-in or the issuer issued (%.6s…)", what, s)
		}
	}
	if len(secrets) < 3 {
		t.Errorf("only %d secrets issued: the check proves little", len(secrets))
	}
}

// The GitHub Actions workflow of docs/ci.md, as written, under the
// emulated runner: the action installs awsrole from source, trusts the
// checkout, writes the profiles and exports services/api's role through
// GITHUB_ENV (masked); the workflow's steps then see each directory's role
// with the real aws CLI. No log line holds a secret.
func TestCIGitHubWorkflowFromDocs(t *testing.T) {
	busy.Parallel(t)
	w := newCIWorld(t, "repo:org/mono:ref:refs/heads/main", "repo:org/mono:ref:refs/heads/main")
	var wf struct {
		Permissions map[string]string `yaml:"permissions"`
		Jobs        map[string]struct {
			RunsOn string   `yaml:"runs-on"`
			Steps  []ghStep `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(docBlock(t, "github")), &wf); err != nil {
		t.Fatalf("the workflow in docs/ci.md: %v", err)
	}
	if wf.Permissions["id-token"] != "write" {
		t.Fatalf("the workflow does not ask for id-token: write (%v)", wf.Permissions)
	}
	if _, err := exec.LookPath("awsrole"); err == nil && !strings.Contains(w.env["PATH"], "awsrole") {
		t.Log("(an awsrole on the test's PATH is not on the runner's)")
	}
	r := newRunner(t, w)
	for name, job := range wf.Jobs {
		t.Logf("job %s on %s", name, job.RunsOn)
		for _, s := range job.Steps {
			r.workflowStep(s)
		}
	}
	last := len(r.steps) - 1
	for i, want := range map[int]string{last - 2: "assumed-role/api/", last - 1: "assumed-role/network/", last: "assumed-role/network/"} {
		if !strings.Contains(r.steps[i], want) {
			t.Errorf("step %d printed %q, want %s", i+1, r.masked(r.steps[i]), want)
		}
	}
	if w.env["AWS_ROLE_ARN"] != ciEntry || w.env["AWSROLE_ARN"] != ciAPI || !strings.HasPrefix(w.env["AWS_ACCESS_KEY_ID"], "ASIA") {
		t.Errorf("GITHUB_ENV gave AWS_ROLE_ARN %q, AWSROLE_ARN %q", w.env["AWS_ROLE_ARN"], w.env["AWSROLE_ARN"])
	}
	for _, secret := range []string{w.env["AWS_ACCESS_KEY_ID"], w.env["AWS_SECRET_ACCESS_KEY"], w.env["AWS_SESSION_TOKEN"]} {
		found := false
		for _, m := range r.masks {
			found = found || m == secret
		}
		if !found {
			t.Errorf("a secret in GITHUB_ENV was not masked (%.6s…)", secret)
		}
	}
	// Outside the mask commands themselves, which the runner consumes,
	// no step printed a secret.
	var printed strings.Builder
	for _, line := range strings.Split(r.raw.String(), "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			printed.WriteString(line + "\n")
		}
	}
	w.noSecrets(t, "the job's log", printed.String())
	if n := w.issuer.Requests(); n != 1 {
		t.Errorf("the job asked the runner for %d tokens, want 1 (the entry role is cached)", n)
	}
	if n := w.Stub.Count("AssumeRoleWithWebIdentity"); n != 1 {
		t.Errorf("%d AssumeRoleWithWebIdentity calls, want 1", n)
	}
}

// The GitLab job of docs/ci.md, as written: the id_tokens token (signed
// by the local issuer, with the audience the job asks for) in
// GITLAB_OIDC_TOKEN, before_script then script in one bash -e shell.
func TestCIGitLabJobFromDocs(t *testing.T) {
	busy.Parallel(t)
	w := newCIWorld(t, "project_path:group/mono:ref_type:branch:ref:main", "project_path:group/mono:*")
	var jobs map[string]struct {
		Image     string                          `yaml:"image"`
		IDTokens  map[string]struct{ Aud string } `yaml:"id_tokens"`
		Variables map[string]string               `yaml:"variables"`
		Before    []string                        `yaml:"before_script"`
		Script    []string                        `yaml:"script"`
	}
	if err := yaml.Unmarshal([]byte(docBlock(t, "gitlab")), &jobs); err != nil {
		t.Fatalf("the GitLab job in docs/ci.md: %v", err)
	}
	const install = "go install github.com/awsrole/awsrole/cmd/...@latest"
	for name, job := range jobs {
		env := map[string]string{"GITLAB_CI": "true", "CI_PROJECT_DIR": w.workspace}
		for k, v := range w.env {
			env[k] = v
		}
		for k, v := range job.Variables {
			env[k] = v
		}
		for k, tok := range job.IDTokens {
			jwt, err := w.issuer.Token(w.issuer.Subject, tok.Aud, 5*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			env[k] = jwt
		}
		// The one line not run as written: the module from this tree.
		gobin := filepath.Join(w.Root, "gobin")
		env["PATH"] = gobin + ":" + env["PATH"]
		var lines []string
		found := false
		for _, l := range append(append([]string(nil), job.Before...), job.Script...) {
			if l == install {
				found = true
				l = fmt.Sprintf("(cd %q && GOBIN=%q go install ./cmd/awsrole ./cmd/awsrole-sts)", repoRoot(t), gobin)
			}
			lines = append(lines, "echo '$ '"+shellQuote(l), l)
		}
		if !found {
			t.Fatalf("job %s does not install awsrole with %q", name, install)
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", strings.Join(lines, "\n"))
		cmd.Dir = w.workspace
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		t.Logf("job %s (%s):\n%s", name, job.Image, out)
		if err != nil {
			t.Fatalf("job %s failed: %v", name, err)
		}
		if !strings.Contains(string(out), "assumed-role/api/") || !strings.Contains(string(out), "assumed-role/network/") {
			t.Errorf("job %s did not reach both directories' roles", name)
		}
		w.noSecrets(t, "the job's log", string(out))
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// The action without trust-checkout: true trusts nothing (CI=true and
// GITHUB_ACTIONS=true are set): its profiles step stops at the first file,
// saying how to approve it. Without id-token: write it says what to add.
func TestCIActionTrustsOnlyWhenAsked(t *testing.T) {
	busy.Parallel(t)
	w := newCIWorld(t, "repo:org/mono:ref:refs/heads/main", "repo:org/mono:*")
	r := newRunner(t, w)
	r.mayFail = true
	r.action(map[string]string{"role-to-assume": ciEntry})
	if r.failed == nil || !strings.Contains(r.steps[len(r.steps)-1], "is not allowed yet; check its content, then run: awsrole allow") {
		t.Fatalf("the action without trust-checkout: %v\n%s", r.failed, strings.Join(r.steps, "\n"))
	}
	if w.Stub.Count("") != 0 || w.issuer.Requests() != 0 {
		t.Errorf("an untrusted checkout cost %d STS calls and %d tokens", w.Stub.Count(""), w.issuer.Requests())
	}

	w = newCIWorld(t, "repo:org/mono:ref:refs/heads/main", "repo:org/mono:*")
	r = newRunner(t, w)
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_URL")
	delete(w.env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	r.mayFail = true
	r.action(map[string]string{"role-to-assume": ciEntry, "trust-checkout": "true"})
	if r.failed == nil || !strings.Contains(r.steps[len(r.steps)-1], "::error::awsrole: no OIDC token for this job; add 'permissions: id-token: write'") {
		t.Fatalf("the action without id-token: write: %v\n%s", r.failed, strings.Join(r.steps, "\n"))
	}
}
