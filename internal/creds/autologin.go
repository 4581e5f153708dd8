package creds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/wire"
)

// terminalSignIn makes an IAM Identity Center sign-in anew on the user's
// terminal when the one on file is gone (sso_login = "auto"): one at a
// time per session among every awsrole, ended by Ctrl-C or by the end of
// the process that asked.
type terminalSignIn struct {
	term *os.File // the controlling terminal, this process in its foreground
	env  Environ
	g    *Getter // the device flow's seams
}

// signInWait is how long a fetch waits for another shell's, when that one
// may be waiting for the user (an MFA code, a sign-in).
const signInWait = 2 * time.Minute

// run signs in to src's session and returns retrieve's credentials after
// it. A sign-in another awsrole made while this one waited its turn serves
// without a second one.
func (t *terminalSignIn) run(ctx context.Context, src credreq.Source, retrieve func() (aws.Credentials, error)) (aws.Credentials, error) {
	session := src.SSO.Session
	unlock, err := lockSignIn(ctx, t.g.Cache.Dir, session, t.term)
	if err != nil {
		return aws.Credentials{}, err
	}
	defer unlock()
	if c, err := retrieve(); err == nil || !signInGone(err) {
		if err != nil {
			return c, t.env.describeSSO(ctx, src, err)
		}
		return c, nil
	}
	lctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	lctx, cancel := whileParentLives(lctx)
	defer cancel()
	if err := t.g.login(lctx, wire.Login{Session: session}, t.term, t.env); err != nil {
		return aws.Credentials{}, &wire.SignInError{Msg: fmt.Sprintf("%s; run: %s", err, src.LoginCommand())}
	}
	c, err := retrieve()
	switch {
	case err != nil && signInGone(err):
		return c, &wire.SignInError{Msg: fmt.Sprintf("IAM Identity Center session %s refused the sign-in just made; check sso_start_url and sso_region of its [sso-session] in ~/.aws/config", session)}
	case err != nil:
		return c, t.env.describeSSO(ctx, src, err)
	}
	return c, nil
}

// lockSignIn takes the lock of session's sign-in, waiting signInWait for
// another awsrole's to end, and saying so on term; the lock is in dir.
func lockSignIn(ctx context.Context, dir, session string, term io.Writer) (unlock func(), err error) {
	if err := privfile.Dir(dir); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(session))
	unlock, err = credcache.LockSaying(ctx, filepath.Join(dir, "signin-"+hex.EncodeToString(sum[:8])+".lock"), signInWait, term,
		fmt.Sprintf("another shell is signing in to IAM Identity Center session %s; finish that sign-in, or press Ctrl-C to stop waiting (awsrole waits up to %s)", session, signInWait))
	if errors.Is(err, privfile.ErrBusy) {
		return nil, fmt.Errorf("another awsrole is still signing in to IAM Identity Center session %s; finish that sign-in, then cd again", session)
	}
	return unlock, err
}

// whileParentLives is ctx, also ended once the process that started this
// one is gone: the Go SDK kills a credential_process after a minute, and
// its awsrole-sts must not go on waiting for a sign-in on the terminal.
func whileParentLives(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	parent := os.Getppid()
	go func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if os.Getppid() != parent {
					cancel()
					return
				}
			}
		}
	}()
	return ctx, cancel
}
