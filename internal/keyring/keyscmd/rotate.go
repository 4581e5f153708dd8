package keyscmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/creds"
	"github.com/awsrole/awsrole/internal/keyindex"
	"github.com/awsrole/awsrole/internal/keyring"
	"github.com/awsrole/awsrole/internal/privfile"
)

// How long a rotation waits for IAM to accept a new key (its changes take
// a few seconds to reach every endpoint), and how often it tries.
const (
	DefaultRotateWait = time.Minute
	DefaultRotateTry  = time.Second
)

// rotate replaces name's key as aws-vault does: a new key made through IAM
// with the current one, checked with STS until IAM's change has spread,
// stored, and only then the old one deleted, with the new. A failure
// before the store deletes the new key again and leaves the stored one as
// it was; a failure to delete the old key leaves both valid and says so.
//
// One rotation of a name runs at a time (its lock is held throughout): two
// at once would each make a key, and the second, refused by IAM's limit of
// two, would name the first's new key as the one to delete.
func rotate(d Deps, name string) error {
	ctx := context.Background()
	unlock, err := rotateLock(ctx, d, name)
	if err != nil {
		return err
	}
	defer unlock()
	s, err := open(d)
	if err != nil {
		return err
	}
	old, err := s.Get(name)
	if err != nil {
		return err
	}
	oldCfg, err := awsConfig(ctx, old)
	if err != nil {
		return err
	}
	out, err := iam.NewFromConfig(oldCfg).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
	var api smithy.APIError
	switch {
	case errors.As(err, &api) && api.ErrorCode() == "LimitExceeded":
		// Read the stored key again: "the other key" must never be the
		// one the keyring holds now.
		cur, gerr := s.Get(name)
		if gerr != nil {
			return fmt.Errorf("IAM refused a new access key for %s: the IAM user has two keys already, and the stored key cannot be read again (%w); check awsrole keys list before deleting either; nothing changed", name, gerr)
		}
		if cur.AccessKeyID != old.AccessKeyID {
			return fmt.Errorf("IAM refused a new access key for %s: the IAM user has two keys already, and the stored key changed from %s to %s while this rotation ran; check awsrole keys list before deleting either; nothing changed", name, old.AccessKeyID, cur.AccessKeyID)
		}
		return fmt.Errorf("IAM refused a new access key for %s: the IAM user has two keys already; %s, then rotate again; nothing changed", name, otherKeys(ctx, oldCfg, cur.AccessKeyID))
	case err != nil:
		return fmt.Errorf("IAM refused a new access key for %s (%s): %s; nothing changed, the stored key is as it was", name, old.AccessKeyID, refusal(err))
	}
	next := keyring.Keys{AccessKeyID: aws.ToString(out.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(out.AccessKey.SecretAccessKey), MFASerial: old.MFASerial}
	undo := func(why error) error {
		_, derr := iam.NewFromConfig(oldCfg).DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: out.AccessKey.AccessKeyId})
		if derr != nil {
			return fmt.Errorf("%w; the new key %s is left in IAM (delete it: aws iam delete-access-key --access-key-id %s); the stored key %s is as it was",
				why, next.AccessKeyID, next.AccessKeyID, old.AccessKeyID)
		}
		return fmt.Errorf("%w; the new key is deleted again and the stored key %s is as it was", why, old.AccessKeyID)
	}
	nextCfg, err := awsConfig(ctx, next)
	if err != nil {
		return undo(err)
	}
	if err := d.waitWorks(ctx, nextCfg); err != nil {
		return undo(err)
	}
	if err := s.Put(name, next); err != nil {
		// Undo only while the keyring still holds the old key: once it
		// holds the new one (its index alone failed, or a write said it
		// failed but took), deleting the new key in IAM would leave no
		// working key anywhere.
		var stale *keyring.StaleIndexError
		if !errors.As(err, &stale) {
			cur, gerr := s.Get(name)
			switch {
			case gerr == nil && cur.AccessKeyID == old.AccessKeyID:
				return undo(err)
			case gerr != nil || cur.AccessKeyID != next.AccessKeyID:
				return fmt.Errorf("%w; the keyring cannot say which key it holds now, so both keys are left valid in IAM: the new %s and the old %s; once the keyring answers, run awsrole keys reindex and delete the key it does not hold (aws iam delete-access-key --access-key-id KEY)",
					err, next.AccessKeyID, old.AccessKeyID)
			}
			// The write took although it said it failed: the keyring
			// holds the new key; the index was not updated.
			err = fmt.Errorf("%w; yet the keyring holds the new key: run awsrole keys reindex", err)
		}
		return fmt.Errorf("%s; both keys are left valid in IAM: the new %s, in the keyring, and the old %s (delete it once the index is rebuilt: aws iam delete-access-key --access-key-id %s)",
			err, next.AccessKeyID, old.AccessKeyID, old.AccessKeyID)
	}
	_, err = iam.NewFromConfig(nextCfg).DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(old.AccessKeyID)})
	if err != nil {
		return fmt.Errorf("stored the new key %s for %s, but IAM refused to delete the old key %s: %s; both work: delete the old one with aws iam delete-access-key --access-key-id %s",
			next.AccessKeyID, name, old.AccessKeyID, refusal(err), old.AccessKeyID)
	}
	fmt.Fprintf(d.Stderr, "awsrole: rotated %s: %s is deleted, %s is stored in the %s keyring\n", name, old.AccessKeyID, next.AccessKeyID, s.Backend())
	return nil
}

// rotateLock takes name's rotation lock in awsrole's data directory,
// waiting a moment for another rotation of name to end; one that goes on
// is an error, the stored key untouched.
func rotateLock(ctx context.Context, d Deps, name string) (func(), error) {
	if err := privfile.Dir(d.Dirs.Data); err != nil {
		return nil, err
	}
	path := filepath.Join(d.Dirs.Data, keyindex.FileName+".rotate-"+name)
	unlock, err := privfile.Lock(ctx, path, time.Second)
	if errors.Is(err, privfile.ErrBusy) {
		return nil, fmt.Errorf("another awsrole keys rotate %s is under way (it holds %s); let it end, then check awsrole keys list; nothing changed", name, path)
	}
	return unlock, err
}

// otherKeys says which of the user's keys to delete to make room: those
// other than stored (ListAccessKeys), or how to find them.
func otherKeys(ctx context.Context, cfg aws.Config, stored string) string {
	out, err := iam.NewFromConfig(cfg).ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	if err != nil {
		return fmt.Sprintf("delete the one that is not %s (aws iam list-access-keys)", stored)
	}
	var others []string
	for _, k := range out.AccessKeyMetadata {
		if id := aws.ToString(k.AccessKeyId); id != stored {
			others = append(others, id)
		}
	}
	if len(others) == 0 {
		return "delete one of them"
	}
	return fmt.Sprintf("delete the one not stored here: aws iam delete-access-key --access-key-id %s", strings.Join(others, " / "))
}

// waitWorks calls GetCallerIdentity with cfg's key until STS accepts it
// (a new key is refused for a few seconds) or the wait is over.
func (d Deps) waitWorks(ctx context.Context, cfg aws.Config) error {
	wait, try := cmp.Or(d.RotateWait, DefaultRotateWait), cmp.Or(d.RotateTry, DefaultRotateTry)
	deadline := time.Now().Add(wait)
	client := sts.NewFromConfig(cfg)
	for {
		cctx, cancel := context.WithTimeout(ctx, credcache.Timeout)
		_, err := client.GetCallerIdentity(cctx, &sts.GetCallerIdentityInput{})
		cancel()
		var api smithy.APIError
		switch {
		case err == nil:
			return nil
		case !errors.As(err, &api) || api.ErrorCode() != "InvalidClientTokenId" && api.ErrorCode() != "SignatureDoesNotMatch":
			return fmt.Errorf("the new key does not work: %s", refusal(err))
		case time.Now().Add(try).After(deadline):
			return fmt.Errorf("STS still refused the new key after %s (IAM's change had not spread); try again later", wait)
		}
		time.Sleep(try)
	}
}

// awsConfig is the SDK config for calls made with k, IAM's and STS's
// endpoints from the environment (AWS_ENDPOINT_URL_IAM, …_STS); no
// profile's credentials take part (creds.WithoutProfile).
func awsConfig(ctx context.Context, k keyring.Keys) (aws.Config, error) {
	opts, done, err := creds.WithoutProfile(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %s", credcache.OneLine(err.Error()))
	}
	defer done()
	// IAM is global; its endpoint is in us-east-1.
	opts = append(opts, config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, "")))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %s", credcache.OneLine(err.Error()))
	}
	return cfg, nil
}

// refusal is one line of an AWS error: its code and message, else the error.
func refusal(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return credcache.OneLine(api.ErrorCode() + ": " + api.ErrorMessage())
	}
	return credcache.OneLine(err.Error())
}
