// Package console builds the AWS console sign-in through the federation
// endpoint: the getSigninToken request for a role's temporary
// credentials, and the login address the browser opens with the token.
// It is pure (net/url only): the request itself is made by awsrole-sts,
// which already links an HTTP client.
package console

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Partition is the AWS partition of an ARN ("aws" when unknown).
func Partition(arn string) string {
	if f := strings.SplitN(arn, ":", 3); len(f) == 3 && f[0] == "arn" && f[1] != "" {
		return f[1]
	}
	return "aws"
}

// hosts are the sign-in and console hosts of each partition.
var hosts = map[string][2]string{
	"aws":        {"signin.aws.amazon.com", "console.aws.amazon.com"},
	"aws-us-gov": {"signin.amazonaws-us-gov.com", "console.amazonaws-us-gov.com"},
	"aws-cn":     {"signin.amazonaws.cn", "console.amazonaws.cn"},
}

// FederationURL is the federation endpoint of partition.
func FederationURL(partition string) (string, error) {
	h, ok := hosts[partition]
	if !ok {
		return "", fmt.Errorf("no console sign-in known for partition %q; set console_federation_url in your user config", partition)
	}
	return "https://" + h[0] + "/federation", nil
}

// serviceRE is a console service name but for its length (1..63), checked
// apart: a bounded repeat compiles into a copy per count, which every
// process start would pay for.
var serviceRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Destination is where the sign-in lands: url when given (it must be on
// the partition's console), else the console home or service's page, in
// region when not "".
func Destination(partition, service, region, dest string) (string, error) {
	h, ok := hosts[partition]
	if !ok {
		h = hosts["aws"]
	}
	if dest != "" {
		u, err := url.Parse(dest)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return "", fmt.Errorf("--destination %q is not an https URL", dest)
		}
		return dest, nil
	}
	path := "/console/home"
	if service != "" {
		if len(service) > 63 || !serviceRE.MatchString(service) {
			return "", fmt.Errorf("--service %q is not a console service name like s3, ec2 or cloudwatch", service)
		}
		path = "/" + service + "/home"
	}
	u := url.URL{Scheme: "https", Host: h[1], Path: path}
	if region != "" {
		u.RawQuery = url.Values{"region": {region}}.Encode()
	}
	return u.String(), nil
}

// Session is the Session parameter of getSigninToken.
type Session struct {
	SessionID    string `json:"sessionId"`
	SessionKey   string `json:"sessionKey"`
	SessionToken string `json:"sessionToken"`
}

// TokenURL is the getSigninToken request for sess at federation;
// duration 0 leaves SessionDuration out (as it must be for credentials
// from role chaining).
func TokenURL(federation string, sess Session, duration time.Duration) (string, error) {
	u, err := url.Parse(federation)
	if err != nil {
		return "", err
	}
	js, err := json.Marshal(sess)
	if err != nil {
		return "", err
	}
	q := url.Values{"Action": {"getSigninToken"}, "Session": {string(js)}}
	if duration > 0 {
		q.Set("SessionDuration", fmt.Sprint(int(duration/time.Second)))
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// LoginURL is the address that signs the browser in with token and goes
// to destination.
func LoginURL(federation, token, destination string) (string, error) {
	u, err := url.Parse(federation)
	if err != nil {
		return "", err
	}
	u.RawQuery = url.Values{"Action": {"login"}, "Issuer": {"awsrole"}, "Destination": {destination}, "SigninToken": {token}}.Encode()
	return u.String(), nil
}

// SessionDuration is what to ask the console for: nothing for chained
// credentials (the endpoint refuses it), else the role's duration within
// the endpoint's 15 minutes to 12 hours.
func SessionDuration(chained bool, d time.Duration) time.Duration {
	if chained || d == 0 {
		return 0
	}
	return min(max(d, 15*time.Minute), 12*time.Hour)
}
