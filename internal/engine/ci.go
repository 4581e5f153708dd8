package engine

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/awsrole/awsrole/dirconfig"
	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/termsafe"
)

// CheckoutFiles are the project files under root (a CI job's checkout),
// by their real paths, sorted: regular files only (a symlink could point
// out of the checkout), skipping what a scan skips (.git, node_modules…).
func CheckoutFiles(root string) ([]string, error) {
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory; name the checkout: awsrole ci trust DIR", root)
	}
	byPath := map[string]*Listed{}
	if err := scanFiles(root, byPath); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(byPath))
	for p := range byPath {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// TrustCheckout approves every project file under root as it is now (by
// the hash of path and content, as allow does): the CI job's explicit
// opt-in. Every file is checked first; one that is invalid approves
// nothing, so a job never runs with half of its checkout trusted.
func (s Stores) TrustCheckout(root string) ([]*dirconfig.Config, error) {
	paths, err := CheckoutFiles(root)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no %s under %s; nothing to trust (is this the checkout?)", dirconfig.FileName, root)
	}
	cfgs := make([]*dirconfig.Config, 0, len(paths))
	for _, p := range paths {
		cfg, err := dirconfig.Load(p)
		if err != nil {
			return nil, fmt.Errorf("%w; fix it, then run awsrole ci trust again (nothing was approved)", err)
		}
		cfgs = append(cfgs, cfg)
	}
	// A file the user denied stays denied: approving the checkout must not
	// lift a deliberate deny (ci trust runs outside CI too).
	for _, cfg := range cfgs {
		if t, err := s.Trust.Of(cfg, nil); err != nil {
			return nil, err
		} else if t == dirconfig.TrustDenied {
			return nil, fmt.Errorf("%s is denied; run awsrole allow %s if you mean to use it, then awsrole ci trust again (nothing was approved)", termsafe.String(cfg.Path), shellQuote(cfg.Dir))
		}
	}
	for _, cfg := range cfgs {
		if err := s.Trust.Allow(cfg); err != nil {
			return nil, err
		}
	}
	return cfgs, nil
}

// ProfileDir is one named AWS profile for a project directory.
type ProfileDir struct {
	Name, Dir string
	Region    string // the file's region, "" for none
}

var profileNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+@-]*$`)

// ProfileName is the profile named after dir, relative to base: its path
// with "/" as "-" ("services/api" → "services-api"), base's own name for
// base itself.
func ProfileName(base, dir string) string {
	// Compared as real paths: a checkout under a symlink (macOS's /var)
	// is found by its real path.
	for _, p := range []*string{&base, &dir} {
		if real, err := filepath.EvalSymlinks(*p); err == nil {
			*p = real
		}
	}
	rel, err := filepath.Rel(base, dir)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		rel = filepath.Base(dir)
	}
	name := strings.Map(func(r rune) rune {
		if r == filepath.Separator || r == ' ' {
			return '-'
		}
		return r
	}, rel)
	return name
}

// CheckProfileName refuses a name no AWS config section can carry.
func CheckProfileName(name string) error {
	if !profileNameRE.MatchString(name) {
		return fmt.Errorf("profile name %q: use letters, digits and _.+@- (name it with NAME=DIR)", name)
	}
	return nil
}

// Profile block markers: the part of the AWS config that awsrole ci
// profiles owns and rewrites; the rest of the file is left as it is.
const (
	profilesBegin = "# >>> awsrole ci profiles (rewritten by awsrole ci profiles) >>>"
	profilesEnd   = "# <<< awsrole ci profiles <<<"
)

// ProfilesBlock is the AWS config of dirs: one profile each whose
// credential_process is `awsrole credential-process --dir DIR`, so SDKs
// (Terraform, CDK, Pulumi) renew each role on their own during long runs.
// Two directories with one name, or a path with a control character (a
// newline would start a section of its own), are refused.
func ProfilesBlock(dirs []ProfileDir, awsrole string) (string, error) {
	if !termsafe.Safe(awsrole) {
		return "", fmt.Errorf("the awsrole path %s has a control character; install awsrole elsewhere", termsafe.String(awsrole))
	}
	seen := map[string]string{}
	for _, d := range dirs {
		if !termsafe.Safe(d.Dir) {
			return "", fmt.Errorf("directory %s has a control character in its path; rename it", termsafe.String(d.Dir))
		}
		if other, ok := seen[d.Name]; ok && other != d.Dir {
			return "", fmt.Errorf("profile %s would be both %s and %s; name one with NAME=DIR", d.Name, termsafe.String(other), termsafe.String(d.Dir))
		}
		seen[d.Name] = d.Dir
	}
	var b strings.Builder
	b.WriteString(profilesBegin + "\n")
	for _, d := range dirs {
		fmt.Fprintf(&b, "[profile %s]\ncredential_process = %s credential-process --dir %s\n", d.Name, shellQuote(awsrole), shellQuote(d.Dir))
		if d.Region != "" {
			fmt.Fprintf(&b, "region = %s\n", d.Region)
		}
	}
	b.WriteString(profilesEnd + "\n")
	return b.String(), nil
}

// WriteProfiles puts block into the AWS config at path in place of the one
// written before (or at the end), atomically and through a symlinked
// config (as `awsrole install` edits an rc file), and refuses a profile
// the rest of the file defines already. A new config is 0600, as the aws
// CLI makes it.
func WriteProfiles(path, block string, dirs []ProfileDir) error {
	f, err := privfile.ReadUserFile(path)
	if err != nil {
		return err
	}
	if !f.Exists {
		f.Mode = 0o600
	}
	old := f.Content
	rest := old
	if i := bytes.Index(old, []byte(profilesBegin)); i >= 0 {
		if j := bytes.Index(old[i:], []byte(profilesEnd+"\n")); j >= 0 {
			rest = append(append([]byte(nil), old[:i]...), old[i+j+len(profilesEnd)+1:]...)
		}
	}
	for _, d := range dirs {
		if definesProfile(rest, d.Name) {
			return fmt.Errorf("%s already has a [profile %s] of its own; name ours otherwise with %s=DIR", path, d.Name, d.Name+"-ci")
		}
	}
	if len(rest) > 0 && !bytes.HasSuffix(rest, []byte("\n")) {
		rest = append(rest, '\n')
	}
	return f.Replace(append(rest, block...))
}

// shellQuote quotes s for sh -c (aws-sdk-go-v2) and shlex (botocore)
// alike: as it is when it is plain, else in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// GitHubEnv is what `awsrole ci github-env` writes: the workflow commands
// that mask each secret (for stdout, before anything else can print them)
// and the GITHUB_ENV lines that set desired for the job's later steps.
// A variable desired unset that env has is set empty (GITHUB_ENV cannot
// unset). Values go in GitHub's heredoc form with a random delimiter.
func GitHubEnv(desired map[string]*string, env map[string]string, secrets []string) (masks, lines string) {
	var m strings.Builder
	for _, s := range secrets {
		if s != "" {
			m.WriteString("::add-mask::" + escapeCommand(s) + "\n")
		}
	}
	names := make([]string, 0, len(desired))
	for k := range desired {
		names = append(names, k)
	}
	sort.Strings(names)
	var l strings.Builder
	for _, k := range names {
		v := desired[k]
		if v == nil {
			if _, set := env[k]; !set {
				continue
			}
			v = new(string)
		}
		delim := "ghadelimiter_" + randomHex()
		fmt.Fprintf(&l, "%s<<%s\n%s\n%s\n", k, delim, *v, delim)
	}
	return m.String(), l.String()
}

// escapeCommand escapes a workflow command's data as @actions/core does.
func escapeCommand(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func randomHex() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// definesProfile reports whether config has a section for profile name,
// written as the SDKs read it: [profile NAME] or, for default, [default],
// with any spacing.
func definesProfile(config []byte, name string) bool {
	for _, line := range strings.Split(string(config), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "[") || !strings.HasSuffix(line, "]") {
			continue
		}
		f := strings.Fields(line[1 : len(line)-1])
		if len(f) == 2 && f[0] == "profile" && f[1] == name || len(f) == 1 && f[0] == name && name == "default" {
			return true
		}
	}
	return false
}
