package dirconfig

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// exampleRoleARN shows the expected shape in messages.
const exampleRoleARN = "arn:aws:iam::123456789012:role/NAME"

// Character sets, as IAM and STS define them (\w is ASCII only).
const (
	nameCharsText = "letters, digits and _+=,.@-"
	extIDText     = "letters, digits and _+=,.@:/-"
)

var (
	// The length (9..256) is checked apart: a {9,256} repeat compiles into
	// 256 copies, a cost every process start would pay.
	mfaHWRE  = regexp.MustCompile(`^[\w+=/:,.@-]+$`)
	regionRE = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)
)

// isNameChar matches [\w+=,.@-]: role, session and profile names.
func isNameChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '_' || r == '+' || r == '=' || r == ',' || r == '.' || r == '@' || r == '-'
}

// isExtIDChar matches [\w+=,.@:/-]: external IDs.
func isExtIDChar(r rune) bool { return isNameChar(r) || r == ':' || r == '/' }

// allDigits matches ^[0-9]+$.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isAccount is an AWS account id: 12 digits.
func isAccount(s string) bool { return len(s) == 12 && allDigits(s) }

// asString checks the TOML type and the things no string value may hold:
// emptiness, control characters (newlines, NUL) and surrounding spaces.
func asString(v any, example string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("must be a string in quotes, not %s; e.g. %s", tomlType(v), example)
	}
	if s == "" {
		return "", fmt.Errorf("is empty; set a value like %s", example)
	}
	for i, r := range []rune(s) {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return "", fmt.Errorf("contains %s at character %d; a value must be one line of text", describeRune(r), i+1)
		}
	}
	if strings.TrimSpace(s) != s {
		return "", errors.New("has leading or trailing whitespace; remove it")
	}
	return s, nil
}

// checkChars reports the first character of s that ok refuses.
func checkChars(s string, ok func(rune) bool, allowed string) error {
	for i, r := range []rune(s) {
		if !ok(r) {
			return fmt.Errorf("has %s at character %d, which is not allowed; use %s", describeRune(r), i+1, allowed)
		}
	}
	return nil
}

// ValidateRoleARN reports, in one line, what keeps s from being an IAM role ARN.
func ValidateRoleARN(s string) error {
	if _, err := asString(s, strconv.Quote(exampleRoleARN)); err != nil {
		return err
	}
	if err := checkIAMARN(s, "role", 64); err != nil {
		return fmt.Errorf("%s %w", quote(s), err)
	}
	return nil
}

// checkIAMARN checks arn:PARTITION:iam::ACCOUNT:KIND/[PATH/]NAME. The
// message it returns follows the quoted value.
func checkIAMARN(s, kind string, maxName int) error {
	example := "arn:aws:iam::123456789012:" + kind + "/NAME"
	if !strings.HasPrefix(s, "arn:") {
		switch {
		case isAccount(s):
			return fmt.Errorf("is an account ID, not an ARN; use the form %s", example)
		case !strings.Contains(s, ":"):
			return fmt.Errorf("is not an ARN; use the full ARN, e.g. %s", example)
		}
		return fmt.Errorf("is not an ARN (it must start with \"arn:\"); use the form %s", example)
	}
	f := strings.SplitN(s, ":", 6)
	if len(f) < 6 {
		return fmt.Errorf("is not a complete ARN (it needs 6 colon-separated fields); use the form %s", example)
	}
	a := iamARN{partition: f[1], service: f[2], region: f[3], account: f[4], resource: f[5], kind: kind, example: example}
	if err := a.checkPrefix(); err != nil {
		return err
	}
	typ, rest, ok := strings.Cut(a.resource, "/")
	if typ != kind || !ok {
		return a.wrongResource(typ)
	}
	return a.checkName(rest, maxName)
}

// iamARN is an ARN split into its fields, checked as one of kind.
type iamARN struct {
	partition, service, region, account, resource string
	kind, example                                 string
}

// checkPrefix checks the fields before the resource.
func (a iamARN) checkPrefix() error {
	switch a.partition {
	case "aws", "aws-cn", "aws-us-gov":
	case "":
		return fmt.Errorf("has an empty partition; use aws, aws-cn or aws-us-gov, e.g. %s", a.example)
	default:
		return fmt.Errorf("has unknown partition %s; use aws, aws-cn or aws-us-gov", quote(a.partition))
	}
	if a.service != "iam" {
		if a.service == "sts" && strings.HasPrefix(a.resource, "assumed-role/") && a.kind == "role" {
			role, _, _ := strings.Cut(strings.TrimPrefix(a.resource, "assumed-role/"), "/")
			return fmt.Errorf("is an assumed-role session, not a role; use the role's ARN, e.g. %s",
				quote("arn:"+a.partition+":iam::"+a.account+":role/"+role))
		}
		return fmt.Errorf("is for service %s, not iam; use the form %s", quote(a.service), a.example)
	}
	if a.region != "" {
		return fmt.Errorf("has region %s, but IAM ARNs have none (\"iam::\"); use the form %s", quote(a.region), a.example)
	}
	if !isAccount(a.account) {
		hint := ""
		if strings.ContainsAny(a.account, "- ") {
			hint = " (remove the dashes)"
		}
		return fmt.Errorf("has account %s, which is not 12 digits%s; use the form %s", quote(a.account), hint, a.example)
	}
	return nil
}

// wrongResource says what the resource, of type typ, is instead of
// KIND/NAME.
func (a iamARN) wrongResource(typ string) error {
	what := map[string]string{"role": "a role", "mfa": "an MFA device"}[a.kind]
	switch typ {
	case a.kind:
		return fmt.Errorf("has no %s name; use the form %s", a.kind, a.example)
	case "user", "group", "policy", "instance-profile", "role", "mfa", "server-certificate",
		"saml-provider", "oidc-provider", "sms-mfa":
		return fmt.Errorf("names an IAM %s, not %s; use the form %s", typ, what, a.example)
	case "root":
		return fmt.Errorf("names the account root, not %s; use the form %s", what, a.example)
	}
	return fmt.Errorf("has resource %s, which is not %s/NAME; use the form %s", quote(a.resource), a.kind, a.example)
}

// checkName checks [PATH/]NAME, what follows KIND/.
func (a iamARN) checkName(rest string, maxName int) error {
	kind := a.kind
	path, name := "/", rest
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		path, name = "/"+rest[:i+1], rest[i+1:]
	}
	if name == "" {
		return fmt.Errorf("has an empty %s name (it ends with \"/\"); use the form %s", kind, a.example)
	}
	if n := len([]rune(name)); n > maxName {
		return fmt.Errorf("has a %s name of %d characters; IAM allows at most %d", kind, n, maxName)
	}
	if err := checkChars(name, isNameChar, nameCharsText); err != nil {
		return fmt.Errorf("%s name %s", kind, err)
	}
	if len(path) > 512 {
		return fmt.Errorf("has a %s path of %d characters; IAM allows at most 512", kind, len(path))
	}
	for i, r := range []rune(path) {
		if r < 0x21 || r > 0x7e {
			return fmt.Errorf("%s path has %s at character %d, which is not allowed; paths use printable ASCII without spaces",
				kind, describeRune(r), i+1)
		}
	}
	return nil
}

func checkRegion(v any) (string, error) {
	s, err := asString(v, `"eu-west-1"`)
	if err != nil {
		return "", err
	}
	if regionRE.MatchString(s) {
		return s, nil
	}
	if l := strings.ToLower(s); l != s && regionRE.MatchString(l) {
		return "", fmt.Errorf("%s must be lowercase; use %s", quote(s), quote(l))
	}
	return "", fmt.Errorf("%s is not an AWS region code; use one like \"eu-west-1\", \"us-gov-west-1\" or \"cn-north-1\"", quote(s))
}

func checkSessionName(v any) (string, error) {
	s, err := asString(v, `"alice-payments"`)
	if err != nil {
		return "", err
	}
	const want = "2 to 64 " + nameCharsText
	if err := checkChars(s, isNameChar, want); err != nil {
		return "", fmt.Errorf("%s %w", quote(s), err)
	}
	switch n := len(s); {
	case n < 2:
		return "", fmt.Errorf("%s is too short; use %s", quote(s), want)
	case n > 64:
		return "", fmt.Errorf("is %d characters, too long; use %s", n, want)
	}
	return s, nil
}

// checkExternalID never repeats the value: it is not a secret as AWS sees
// it, but it is meant to be hard to guess, so messages only describe it.
func checkExternalID(v any) (string, error) {
	s, err := asString(v, `"my-external-id"`)
	if err != nil {
		return "", err
	}
	const want = "2 to 1224 " + extIDText
	if err := checkChars(s, isExtIDChar, want); err != nil {
		return "", err
	}
	switch n := len(s); {
	case n < 2:
		return "", fmt.Errorf("is too short (%d character); use %s", n, want)
	case n > 1224:
		return "", fmt.Errorf("is %d characters, too long; use %s", n, want)
	}
	return s, nil
}

func checkMFASerial(v any) (string, error) {
	s, err := asString(v, `"arn:aws:iam::123456789012:mfa/NAME"`)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(s, "arn:") {
		if err := checkIAMARN(s, "mfa", 226); err != nil {
			return "", fmt.Errorf("%s %w", quote(s), err)
		}
		return s, nil
	}
	if len(s) < 9 || len(s) > 256 || !mfaHWRE.MatchString(s) {
		return "", fmt.Errorf("%s is neither an MFA device ARN (arn:aws:iam::123456789012:mfa/NAME) nor a hardware token serial (9 to 256 %s/:)",
			quote(s), nameCharsText)
	}
	return s, nil
}

func checkSourceProfile(v any) (string, error) {
	s, err := asString(v, `"corp"`)
	if err != nil {
		return "", err
	}
	if err := checkChars(s, isNameChar, nameCharsText); err != nil {
		return "", fmt.Errorf("%s %w", quote(s), err)
	}
	if len(s) > 256 {
		return "", fmt.Errorf("is %d characters, too long for a profile name", len(s))
	}
	return s, nil
}

// durationRange is an inclusive range for a duration key, with an example.
type durationRange struct {
	min, max time.Duration
	example  string
}

var (
	roleDuration    = durationRange{15 * time.Minute, 12 * time.Hour, `"1h"`}
	refreshRange    = durationRange{10 * time.Second, time.Hour, `"5m"`}
	sessTokenRange  = durationRange{15 * time.Minute, 36 * time.Hour, `"12h"`}
	maxSecondsValue = int64(1<<63-1) / int64(time.Second)
)

// checkDuration accepts a Go duration string ("1h", "90m"), or whole seconds
// as a TOML integer or a string of digits, within r.
func checkDuration(v any, r durationRange) (time.Duration, error) {
	rangeText := fmt.Sprintf("use %s to %s (e.g. %s)", fmtDuration(r.min), fmtDuration(r.max), r.example)
	var (
		d     time.Duration
		shown string
	)
	switch x := v.(type) {
	case int64:
		shown = fmt.Sprintf("%d seconds", x)
		d = secondsDuration(x, r)
	case string:
		s, err := asString(x, r.example)
		if err != nil {
			return 0, err
		}
		shown = quote(s)
		if allDigits(s) {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				n = maxSecondsValue
			}
			d = secondsDuration(n, r)
			break
		}
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%s is not a duration; write one like %s or \"90m\", or whole seconds like 3600, from %s to %s",
				shown, r.example, fmtDuration(r.min), fmtDuration(r.max))
		}
	default:
		return 0, fmt.Errorf("must be a duration string like %s or whole seconds, not %s", r.example, tomlType(v))
	}
	switch {
	case d < r.min:
		return 0, fmt.Errorf("%s is too short; %s", shown, rangeText)
	case d > r.max:
		return 0, fmt.Errorf("%s is too long; %s", shown, rangeText)
	}
	return d, nil
}

// secondsDuration converts n seconds, clamping values far outside r so the
// multiplication cannot overflow.
func secondsDuration(n int64, r durationRange) time.Duration {
	switch {
	case n < 0:
		return r.min - 1
	case n > int64(r.max/time.Second)+1:
		return r.max + time.Second
	}
	return time.Duration(n) * time.Second
}

// fmtDuration prints 15m, 12h, 1h30m rather than 15m0s, 12h0m0s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func checkSSOSession(v any) (string, error) {
	s, err := asString(v, `"corp"`)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(s, "[] \t") || len(s) > 256 {
		return "", fmt.Errorf("%s is not an sso-session name; use the NAME of a [sso-session NAME] section in ~/.aws/config", quote(s))
	}
	return s, nil
}

func checkAccountID(v any) (string, error) {
	if n, ok := v.(int64); ok {
		return "", fmt.Errorf("is a number; write the account as a string of 12 digits, e.g. \"%012d\"", n)
	}
	s, err := asString(v, `"123456789012"`)
	if err != nil {
		return "", err
	}
	if !isAccount(s) {
		return "", fmt.Errorf("%s is not an AWS account id: 12 digits, e.g. \"123456789012\"", quote(s))
	}
	return s, nil
}

// checkPermissionSet checks a permission set name: 1 to 32 [\w+=,.@-].
func checkPermissionSet(v any) (string, error) {
	s, err := asString(v, `"Deploy"`)
	if err != nil {
		return "", err
	}
	if err := checkChars(s, isNameChar, nameCharsText); err != nil {
		return "", fmt.Errorf("%s %w", quote(s), err)
	}
	if len(s) > 32 {
		return "", fmt.Errorf("is %d characters; a permission set name has at most 32", len(s))
	}
	return s, nil
}

// CheckMFASerial checks an MFA device as mfa_serial would (awsrole keys
// add --mfa-serial).
func CheckMFASerial(s string) error {
	_, err := checkMFASerial(s)
	return err
}
