package dirconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// Limits STS puts on the identity controls of a role session.
const (
	MaxVia          = 8    // hops before role_arn; more is a mistake, not a design
	MaxTags         = 50   // session tags per AssumeRole
	MaxPolicyARNs   = 10   // managed session policies per AssumeRole
	MaxPolicyChars  = 2048 // inline session policy, whitespace aside
	MaxPolicyFile   = 64 << 10
	maxEnvironment  = 64
	maxTagKeyLen    = 128
	maxTagValueLen  = 256
	sourceIDExample = `"{user}"`
)

// UserPlaceholder in source_identity stands for the local user name.
const UserPlaceholder = "{user}"

// isTagChar is what STS allows in a tag key or value: letters, digits,
// spaces and _.:/=+-@ (Unicode letters and spaces count).
func isTagChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Zs, r) || strings.ContainsRune("_.:/=+-@", r)
}

// asStringList checks an array of strings, each with check.
func asStringList(v any, example string, check func(string) error) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be an array of strings, not %s; e.g. [%s]", tomlType(v), example)
	}
	out := make([]string, 0, len(list))
	for i, item := range list {
		s, err := asString(item, example)
		if err != nil {
			return nil, fmt.Errorf("entry %d %w", i+1, err)
		}
		if err := check(s); err != nil {
			return nil, fmt.Errorf("entry %d %w", i+1, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func checkVia(v any) ([]string, error) {
	via, err := asStringList(v, `"arn:aws:iam::111111111111:role/jump"`, func(s string) error {
		if err := checkIAMARN(s, "role", 64); err != nil {
			return fmt.Errorf("%s %w", quote(s), err)
		}
		return nil
	})
	if err == nil && len(via) > MaxVia {
		err = fmt.Errorf("names %d roles; a chain of more than %d hops is not supported", len(via), MaxVia)
	}
	return via, err
}

// CheckSourceIdentity checks a source identity as STS takes it, after
// {user} is expanded: 2 to 64 [\w+=,.@-], not starting with "aws:".
func CheckSourceIdentity(s string) error {
	const want = "2 to 64 " + nameCharsText + `, or "{user}" for your user name`
	if err := checkChars(s, isNameChar, want); err != nil {
		return fmt.Errorf("%s %w", quote(s), err)
	}
	if n := len(s); n < 2 || n > 64 {
		return fmt.Errorf("%s is %d characters; use %s", quote(s), n, want)
	}
	return nil
}

func checkSourceIdentity(v any) (string, error) {
	s, err := asString(v, sourceIDExample)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(strings.ToLower(s), "aws:") {
		return "", fmt.Errorf("%s starts with \"aws:\", which AWS reserves; choose another value", quote(s))
	}
	if strings.Contains(s, UserPlaceholder) {
		// The rest is checked once the user name is known.
		return s, CheckSourceIdentity(strings.ReplaceAll(s, UserPlaceholder, "xx"))
	}
	return s, CheckSourceIdentity(s)
}

func checkTagText(what, s string, max int, emptyOK bool) error {
	switch n := len([]rune(s)); {
	case n == 0 && !emptyOK:
		return fmt.Errorf("has an empty tag %s", what)
	case n > max:
		return fmt.Errorf("has a tag %s of %d characters; STS allows at most %d", what, n, max)
	}
	for i, r := range []rune(s) {
		if !isTagChar(r) {
			return fmt.Errorf("tag %s %s has %s at character %d; use letters, digits, spaces and _.:/=+-@", what, quote(s), describeRune(r), i+1)
		}
	}
	return nil
}

func checkTags(v any) (map[string]string, error) {
	t, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf(`must be a table of strings, not %s; e.g. tags = { project = "payments" }`, tomlType(v))
	}
	if len(t) > MaxTags {
		return nil, fmt.Errorf("has %d tags; STS allows at most %d session tags", len(t), MaxTags)
	}
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	seen := map[string]string{}
	out := make(map[string]string, len(t))
	for _, k := range keys {
		if err := checkTagText("key", k, maxTagKeyLen, false); err != nil {
			return nil, err
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, fmt.Errorf("tag key %s starts with \"aws:\", which AWS reserves", quote(k))
		}
		if other, dup := seen[strings.ToLower(k)]; dup {
			return nil, fmt.Errorf("tag keys %s and %s differ only in case; STS treats them as one", quote(other), quote(k))
		}
		seen[strings.ToLower(k)] = k
		s, ok := t[k].(string)
		if !ok {
			return nil, fmt.Errorf("tag %s must be a string in quotes, not %s", quote(k), tomlType(t[k]))
		}
		if err := checkTagText("value", s, maxTagValueLen, true); err != nil {
			return nil, fmt.Errorf("tag %s %w", quote(k), err)
		}
		out[k] = s
	}
	return out, nil
}

func checkTransitiveKeys(v any) ([]string, error) {
	return asStringList(v, `"project"`, func(s string) error { return checkTagText("key", s, maxTagKeyLen, false) })
}

// checkPolicyARN checks arn:PARTITION:iam::(ACCOUNT|aws):policy/[PATH/]NAME.
func checkPolicyARN(s string) error {
	const example = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	f := strings.SplitN(s, ":", 6)
	if len(f) < 6 || f[0] != "arn" {
		return fmt.Errorf("%s is not a policy ARN; use the form %s", quote(s), example)
	}
	switch f[1] {
	case "aws", "aws-cn", "aws-us-gov":
	default:
		return fmt.Errorf("%s has unknown partition %s; use aws, aws-cn or aws-us-gov", quote(s), quote(f[1]))
	}
	if f[2] != "iam" || f[3] != "" {
		return fmt.Errorf("%s is not an IAM policy ARN; use the form %s", quote(s), example)
	}
	if f[4] != "aws" && !isAccount(f[4]) {
		return fmt.Errorf("%s has account %s; use 12 digits, or \"aws\" for an AWS managed policy", quote(s), quote(f[4]))
	}
	name, ok := strings.CutPrefix(f[5], "policy/")
	if !ok || name == "" || strings.HasSuffix(name, "/") {
		return fmt.Errorf("%s names no policy; use the form %s", quote(s), example)
	}
	name = name[strings.LastIndexByte(name, '/')+1:]
	if len(name) > 128 {
		return fmt.Errorf("%s has a policy name of %d characters; IAM allows at most 128", quote(s), len(name))
	}
	if err := checkChars(name, isNameChar, nameCharsText); err != nil {
		return fmt.Errorf("%s policy name %w", quote(s), err)
	}
	return nil
}

func checkPolicyARNs(v any) ([]string, error) {
	arns, err := asStringList(v, `"arn:aws:iam::aws:policy/ReadOnlyAccess"`, checkPolicyARN)
	if err == nil && len(arns) > MaxPolicyARNs {
		err = fmt.Errorf("names %d policies; STS allows at most %d managed session policies", len(arns), MaxPolicyARNs)
	}
	return arns, err
}

// CheckPolicy checks an inline session policy: a JSON object STS can take
// in plain text. STS also packs policies and tags together into a limit of
// its own, which no client can compute exactly; the hint names the way out.
func CheckPolicy(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", errors.New("is empty; write a JSON policy document, or remove the key")
	}
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&doc); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + strings.Count(s[:min(int(se.Offset), len(s))], "\n")
			return "", fmt.Errorf("is not valid JSON (line %d of the policy): %s", line, se.Error())
		}
		return "", fmt.Errorf("is not a JSON object: %s", err.Error())
	}
	if dec.More() {
		return "", errors.New("is not valid JSON: more follows the policy object")
	}
	if _, ok := doc["Statement"]; !ok {
		return "", errors.New(`is JSON but not a policy: it has no "Statement"; e.g. {"Version":"2012-10-17","Statement":[...]}`)
	}
	var packed bytes.Buffer
	if err := json.Compact(&packed, []byte(s)); err != nil {
		return "", fmt.Errorf("is not valid JSON: %s", err.Error())
	}
	if n := packed.Len(); n > MaxPolicyChars {
		return "", fmt.Errorf("is %d characters without whitespace; STS allows %d, and policies and tags share a packed-size limit: move permissions to policy_arns or use fewer tags", n, MaxPolicyChars)
	}
	return s, nil
}

func checkPolicyFile(v any) (string, error) {
	s, err := asString(v, `"deploy-policy.json"`)
	if err != nil {
		return "", err
	}
	// A project's file may only narrow the role: its policy lives in the
	// project, not anywhere the user can read.
	if c := filepath.Clean(s); filepath.IsAbs(s) || strings.HasPrefix(s, "~") || c == ".." || strings.HasPrefix(c, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s must be relative to the directory of %s and inside it, e.g. \"deploy-policy.json\"", quote(s), FileName)
	}
	return s, nil
}

func checkEnvironment(v any) (string, error) {
	s, err := asString(v, `"prod"`)
	if err != nil {
		return "", err
	}
	if n := len([]rune(s)); n > maxEnvironment {
		return "", fmt.Errorf("is %d characters; an environment label has at most %d", n, maxEnvironment)
	}
	return s, nil
}

func checkBool(v any, key string) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("must be true or false (no quotes), not %s; e.g. %s = true", tomlType(v), key)
	}
	return b, nil
}

// checkControls checks the identity controls together, once every key is set.
func (c *Config) checkControls() error {
	keyErr := func(key, msg string) error { return &Error{Path: c.Path, Line: c.lines[key], Key: key, Msg: msg} }
	switch {
	case len(c.Via) > 0 && c.RoleARN == "":
		return keyErr("via", "needs role_arn: the role assumed after the chain; add a line role_arn = \""+exampleRoleARN+"\"")
	case c.Policy != "" && c.PolicyFile != "":
		return keyErr("policy_file", "cannot go with policy: name the session policy once, inline or in a file")
	case c.RoleARN == "" && (len(c.Tags) > 0 || len(c.PolicyARNs) > 0 || c.Policy != "" || c.PolicyFile != "" || c.SourceIdentity != ""):
		for _, k := range []string{"tags", "policy_arns", "policy", "policy_file", "source_identity"} {
			if _, ok := c.lines[k]; ok {
				return keyErr(k, "applies to an AssumeRole, and this file assumes none; add role_arn, or remove it")
			}
		}
	}
	for _, k := range c.TransitiveTagKeys {
		if _, ok := c.Tags[k]; !ok {
			return keyErr("transitive_tag_keys", fmt.Sprintf("names %s, which is not in tags; add it to tags or remove it here", quote(k)))
		}
	}
	return nil
}

// LoadPolicyFile reads a Config's policy_file into Policy with the checks
// Load makes (inside c.Dir, bounded, a valid policy), for a Config that
// Parse made: the inline `use awsrole ROLE policy_file=...` of an .envrc,
// whose Dir is the .envrc's.
func (c *Config) LoadPolicyFile() error {
	if c.PolicyFile == "" {
		return nil
	}
	data, _, err := c.loadPolicyFile()
	if err != nil {
		return err
	}
	return c.checkPolicy(data)
}

// loadPolicyFile reads c.PolicyFile next to the config as awsrole reads
// every file (bounded, a regular file only, never waiting) and returns its
// bytes, uninterpreted: the trust hash covers them before CheckPolicy reads
// them (checkPolicy).
func (c *Config) loadPolicyFile() ([]byte, fs.FileInfo, error) {
	path := filepath.Join(c.Dir, c.PolicyFile)
	if real, err := filepath.EvalSymlinks(path); err == nil {
		if dir, err := filepath.EvalSymlinks(c.Dir); err == nil && !Under(real, dir) {
			return nil, nil, c.KeyError("policy_file", fmt.Errorf("%s is a link out of %s; a project's policy lives in the project", displayPath(path), displayPath(c.Dir)))
		}
	}
	data, fi, err := readChecked(path, MaxPolicyFile, nil)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			err = errors.New(displayPath(e.Path) + ": " + e.Msg)
		}
		return nil, nil, c.KeyError("policy_file", err)
	}
	return data, fi, nil
}

// checkPolicy validates the policy_file's content, once it is trusted.
func (c *Config) checkPolicy(data []byte) error {
	if c.PolicyFile == "" {
		return nil
	}
	var err error
	if c.Policy, err = CheckPolicy(string(data)); err != nil {
		return c.KeyError("policy_file", fmt.Errorf("%s %w", displayPath(filepath.Join(c.Dir, c.PolicyFile)), err))
	}
	return nil
}

// asPolicyString takes a policy as a string (”'...”' in TOML), or says
// how to write one.
func asPolicyString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("must be a JSON document in a string, not %s; write policy = '''{\"Version\": \"2012-10-17\", ...}''' or use policy_file", tomlType(v))
	}
	return s, nil
}

// checkFederationURL takes an https URL, or http on the loopback (a
// local stand-in).
func checkFederationURL(v any) (string, error) {
	s, err := asString(v, `"https://signin.aws.amazon.com/federation"`)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%s is not a URL; e.g. \"https://signin.aws.amazon.com/federation\"", quote(s))
	}
	host := u.Hostname()
	ip, ipErr := netip.ParseAddr(host)
	loopback := host == "localhost" || ipErr == nil && ip.IsLoopback()
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback) {
		return "", fmt.Errorf("%s must use https (plain http only on the loopback)", quote(s))
	}
	return s, nil
}

// Colors are the names environment_colors takes.
var Colors = map[string]int{"black": 30, "red": 31, "green": 32, "yellow": 33, "blue": 34, "magenta": 35, "cyan": 36, "white": 37}

func checkColors(v any) (map[string]string, error) {
	t, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf(`must be a table, not %s; e.g. environment_colors = { prod = "red", dev = "green" }`, tomlType(v))
	}
	out := map[string]string{}
	for env, c := range t {
		s, ok := c.(string)
		if _, known := Colors[s]; !ok || !known {
			return nil, fmt.Errorf("%s: %v is not a colour; use one of black, red, green, yellow, blue, magenta, cyan, white", quote(env), c)
		}
		out[env] = s
	}
	return out, nil
}
