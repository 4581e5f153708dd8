package creds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/gofrs/flock"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/privfile"
)

// ChainedMax is what STS allows a role session assumed with temporary
// credentials; awsrole caps the duration rather than fail.
const ChainedMax = credcache.ChainedMax

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

// sessionFor returns credentials of an MFA session for the source
// credentials: from the cache, or GetSessionToken with a code. A session
// serves every region, so the region is not part of its key.
func (g *Getter) sessionFor(ctx context.Context, cfg aws.Config, req Request, src aws.Credentials) (aws.Credentials, error) {
	key := credcache.Path(Request{MFASerial: req.MFASerial, Duration: req.MFADuration}, src.AccessKeyID, "")
	path := filepath.Join(filepath.Dir(key), "mfa-"+filepath.Base(key))
	if c, ok := g.cached(path, "", req.Window, g.Notice); ok {
		return sdkCredentials(c), nil
	}
	if err := privfile.Dir(CacheDir()); err != nil {
		return aws.Credentials{}, err
	}
	lock := flock.New(path + ".lock")
	// A code may take the user a while to type: wait for another shell's
	// prompt longer than for STS.
	lctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if ok, err := lock.TryLockContext(lctx, 50*time.Millisecond); err != nil || !ok {
		return aws.Credentials{}, fmt.Errorf("assume %s: another awsrole is still asking for an MFA code", req.RoleARN)
	}
	defer lock.Unlock()
	if c, ok := g.cached(path, "", req.Window, nil); ok {
		return sdkCredentials(c), nil
	}
	code, err := mfaCode(req)
	if err != nil {
		return aws.Credentials{}, err
	}
	// The code was typed at leisure; STS gets its own time bound.
	sctx, scancel := context.WithTimeout(ctx, Timeout)
	defer scancel()
	in := &sts.GetSessionTokenInput{SerialNumber: aws.String(req.MFASerial), TokenCode: aws.String(code)}
	if req.MFADuration > 0 {
		in.DurationSeconds = aws.Int32(int32(req.MFADuration / time.Second))
	}
	out, err := sts.NewFromConfig(cfg).GetSessionToken(sctx, in)
	if err != nil {
		return aws.Credentials{}, describe(sctx, req.RoleARN, err)
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil || c.Expiration == nil {
		return aws.Credentials{}, fmt.Errorf("assume %s: STS answered GetSessionToken without complete credentials", req.RoleARN)
	}
	sess := Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken, Expiration: c.Expiration.UTC()}
	data, _ := json.Marshal(sess)
	if err := privfile.Write(path, data); err != nil {
		return aws.Credentials{}, fmt.Errorf("cache MFA session: %w", err)
	}
	return sdkCredentials(sess), nil
}

func sdkCredentials(c Credentials) aws.Credentials {
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		CanExpire: true, Expires: c.Expiration, Source: "awsrole-mfa"}
}

// staticProvider serves fixed credentials to the SDK.
func staticProvider(c aws.Credentials) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
}

// mfaCode gets an MFA code from mfa_command, else from the terminal.
func mfaCode(req Request) (string, error) {
	if req.MFACommand != "" {
		out, err := exec.Command("/bin/sh", "-c", req.MFACommand).Output()
		if err != nil {
			return "", fmt.Errorf("assume %s: mfa_command failed (%v); check it in your user config", req.RoleARN, err)
		}
		code := strings.TrimSpace(string(out))
		if !sixDigits.MatchString(code) {
			return "", fmt.Errorf("assume %s: mfa_command did not print a 6-digit code; check it in your user config", req.RoleARN)
		}
		return code, nil
	}
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", fmt.Errorf("assume %s: needs an MFA code for %s and there is no terminal to ask on; set mfa_command in your user config, or enter the directory once from a terminal (one code lasts the MFA session)", req.RoleARN, req.MFASerial)
	}
	defer f.Close()
	// The hook ignores SIGINT while it runs; listening again lets Ctrl-C
	// cancel the prompt.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT)
	defer signal.Stop(sig)
	fmt.Fprintf(f, "awsrole: MFA code for %s (role %s): ", oneLine(req.MFASerial), oneLine(req.RoleARN))
	line := make(chan string, 1)
	go func() {
		var b [64]byte
		var s strings.Builder
		for {
			n, err := f.Read(b[:])
			s.Write(b[:n])
			if err != nil || strings.ContainsAny(s.String(), "\r\n") {
				line <- s.String()
				return
			}
		}
	}()
	select {
	case <-sig:
		fmt.Fprintln(f)
		return "", fmt.Errorf("assume %s: MFA prompt cancelled", req.RoleARN)
	case text := <-line:
		code := strings.TrimSpace(text)
		if !sixDigits.MatchString(code) {
			return "", errors.New("assume " + req.RoleARN + ": an MFA code is 6 digits; cd again to retry")
		}
		return code, nil
	}
}
