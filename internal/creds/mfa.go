package creds

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/tty"
	"github.com/awsrole/awsrole/internal/wire"
)

// ChainedMax is what STS allows a role session assumed with temporary
// credentials; awsrole caps the duration rather than fail.
const ChainedMax = credreq.ChainedMax

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

// mfaSession is an MFA session of the source credentials: GetSessionToken
// with a code, once per device until the session lapses (Cached keeps it),
// from which every role with that device is assumed.
type mfaSession struct {
	cfg    aws.Config
	req    Request
	source credcache.Provider
	env    Environ
	ask    func(prompt string) (string, error) // the terminal prompt: tty.Ask
}

func (m *mfaSession) Retrieve(ctx context.Context) (credcache.Credentials, error) {
	from, err := m.source.Retrieve(ctx)
	if err != nil {
		return credcache.Credentials{}, err
	}
	code, err := mfaCode(m.req, m.ask)
	if err != nil {
		return credcache.Credentials{}, err
	}
	// The code was typed at leisure; STS gets its own time bound.
	sctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	in := &sts.GetSessionTokenInput{SerialNumber: aws.String(m.req.MFASerial), TokenCode: aws.String(code)}
	if m.req.MFADuration > 0 {
		in.DurationSeconds = aws.Int32(int32(m.req.MFADuration / time.Second))
	}
	out, err := sts.NewFromConfig(m.cfg, func(o *sts.Options) { o.Credentials = static(from) }).GetSessionToken(sctx, in)
	if err != nil {
		return credcache.Credentials{}, &roleError{role: m.req.RoleARN, err: m.env.describe(sctx, "STS", "AWS_ENDPOINT_URL_STS", err)}
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil || c.Expiration == nil {
		return credcache.Credentials{}, &roleError{role: m.req.RoleARN, err: errors.New("STS answered GetSessionToken without complete credentials")}
	}
	cr, err := checkReply(credcache.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken,
		Expiration: c.Expiration.UTC()}, m.env.where("STS", "AWS_ENDPOINT_URL_STS", m.cfg.Region), checkEndpoint("AWS_ENDPOINT_URL_STS"), true)
	if err != nil {
		return credcache.Credentials{}, &roleError{role: m.req.RoleARN, err: err}
	}
	return cr, nil
}

// mfaCode gets an MFA code from mfa_command, else from the terminal.
func mfaCode(req Request, ask func(prompt string) (string, error)) (string, error) {
	if req.MFACommand != "" {
		// A code is six digits: a command that prints pages is wrong.
		out := wire.Output{Max: 4 << 10}
		cmd := exec.Command("/bin/sh", "-c", req.MFACommand)
		cmd.Stdout = &out
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("assume %s: mfa_command failed (%v); check it in your user config", req.RoleARN, err)
		}
		code := strings.TrimSpace(string(out.Bytes()))
		if !sixDigits.MatchString(code) {
			return "", fmt.Errorf("assume %s: mfa_command did not print a 6-digit code; check it in your user config", req.RoleARN)
		}
		return code, nil
	}
	text, err := ask(fmt.Sprintf("MFA code for %s (role %s):", credcache.OneLine(req.MFASerial), credcache.OneLine(req.RoleARN)))
	switch {
	case errors.Is(err, tty.ErrNoTerminal):
		return "", fmt.Errorf("assume %s: needs an MFA code for %s and there is no terminal to ask on; set mfa_command in your user config, or enter the directory once from a terminal (one code lasts the MFA session)", req.RoleARN, req.MFASerial)
	case err != nil:
		return "", fmt.Errorf("assume %s: MFA prompt cancelled", req.RoleARN)
	}
	code := strings.TrimSpace(text)
	if !sixDigits.MatchString(code) {
		return "", errors.New("assume " + req.RoleARN + ": an MFA code is 6 digits; cd again to retry")
	}
	return code, nil
}
