package creds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
)

// AssumeRoleAPI is the one STS call a hop needs.
type AssumeRoleAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, opts ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

// assumeRole is one hop: the role of req, assumed with what source gives.
type assumeRole struct {
	cfg    aws.Config
	req    Request
	hop    credreq.Hop
	src    credreq.Source
	source credcache.Provider
	api    AssumeRoleAPI // nil: STS from cfg
	env    Environ
}

func (a *assumeRole) Retrieve(ctx context.Context) (credcache.Credentials, error) {
	from, err := a.source.Retrieve(ctx)
	if err != nil {
		return credcache.Credentials{}, a.wrap(err)
	}
	dur := a.hop.Duration
	if from.SessionToken != "" || a.src.Chained {
		// Whatever the source: temporary credentials make this a chained
		// role, which STS caps (a credential_process may give either).
		dur = min(dur, credreq.ChainedMax)
	}
	in := assumeRoleInput(a.hop, dur)
	api := a.api
	if api == nil {
		api = sts.NewFromConfig(a.cfg, func(o *sts.Options) { o.Credentials = static(from) })
	}
	// A code typed at an MFA prompt may have taken a while: the call gets
	// its own bound.
	sctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	out, err := api.AssumeRole(sctx, in)
	if err != nil {
		return credcache.Credentials{}, a.wrap(a.env.describe(sctx, "STS", "AWS_ENDPOINT_URL_STS", err))
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil || c.Expiration == nil {
		return credcache.Credentials{}, a.wrap(errors.New("STS answered without complete credentials"))
	}
	cr, err := checkReply(credcache.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey,
		SessionToken: *c.SessionToken, Expiration: c.Expiration.UTC()}, a.env.where("STS", "AWS_ENDPOINT_URL_STS", a.cfg.Region), checkEndpoint("AWS_ENDPOINT_URL_STS"), true)
	if err != nil {
		return credcache.Credentials{}, a.wrap(err)
	}
	return cr, nil
}

// assumeRoleInput is the AssumeRole request of one hop lasting dur.
func assumeRoleInput(h credreq.Hop, dur time.Duration) *sts.AssumeRoleInput {
	in := &sts.AssumeRoleInput{RoleArn: aws.String(h.RoleARN), RoleSessionName: aws.String(h.SessionName)}
	if dur > 0 {
		in.DurationSeconds = aws.Int32(int32(dur / time.Second))
	}
	if h.ExternalID != "" {
		in.ExternalId = aws.String(h.ExternalID)
	}
	if h.SourceIdentity != "" {
		in.SourceIdentity = aws.String(h.SourceIdentity)
	}
	keys := make([]string, 0, len(h.Tags))
	for k := range h.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(h.Tags[k])})
	}
	in.TransitiveTagKeys = h.TransitiveTagKeys
	for _, arn := range h.PolicyARNs {
		in.PolicyArns = append(in.PolicyArns, types.PolicyDescriptorType{Arn: aws.String(arn)})
	}
	if h.Policy != "" {
		in.Policy = aws.String(h.Policy)
	}
	return in
}

// wrap names the role in front of a cause, unless the cause already
// names a role (a failing MFA step does).
func (a *assumeRole) wrap(err error) error {
	var named *roleError
	if errors.As(err, &named) {
		return err
	}
	return &roleError{role: a.hop.RoleARN, err: err}
}

// roleError is a failure of one role: "assume ROLE: cause".
type roleError struct {
	role string
	err  error
}

func (e *roleError) Error() string { return "assume " + e.role + ": " + e.err.Error() }
func (e *roleError) Unwrap() error { return e.err }

// static serves fixed credentials to the SDK.
func static(c credcache.Credentials) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
}

// describe makes one line of a failed call to service (reached through
// the endpoint in envVar, if set): the service's own code and message, or
// what went wrong on the way and what to check.
func (e Environ) describe(ctx context.Context, service, envVar string, err error) error {
	endpoint := e.where(service, envVar, "")
	var api smithy.APIError
	var tooBig *ReplyTooBigError
	var netErr *net.OpError
	var garbled *smithy.DeserializationError
	switch {
	case errors.As(err, &tooBig):
		return fmt.Errorf("%s (%s): check %s", tooBig, service, checkEndpoint(envVar))
	case errors.As(err, &api):
		return fmt.Errorf("%s: %s", api.ErrorCode(), credcache.OneLine(api.ErrorMessage()))
	case errors.Is(err, context.Canceled):
		return errors.New("cancelled")
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return fmt.Errorf("%s did not answer within %s; check the network or %s", endpoint, Timeout, envVar)
	case errors.As(err, &netErr):
		return fmt.Errorf("cannot reach %s; check the network or %s: %s", endpoint, envVar, credcache.OneLine(netErr.Err.Error()))
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s closed the connection without answering; check the network or %s", endpoint, envVar)
	case errors.As(err, &garbled):
		return fmt.Errorf("%s did not answer like %s; check %s or a proxy in between: %s", endpoint, service, envVar, credcache.OneLine(garbled.Err.Error()))
	}
	return errors.New(credcache.OneLine(err.Error()))
}
