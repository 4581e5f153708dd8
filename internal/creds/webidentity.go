package creds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
)

// WebIdentityAPI is the one STS call the entry role needs; it is unsigned.
type WebIdentityAPI interface {
	AssumeRoleWithWebIdentity(ctx context.Context, in *sts.AssumeRoleWithWebIdentityInput, opts ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error)
}

// webIdentity is the entry role of a web identity source: the token read
// (a file, GitLab's variable) or asked for (GitHub's OIDC request
// endpoint) at each fetch, then AssumeRoleWithWebIdentity. The secrets it
// reads from env (the token, GitHub's request token) go only into the
// calls.
type webIdentity struct {
	cfg  aws.Config
	src  credreq.Source
	env  credreq.Env
	e    Environ
	now  func() time.Time
	http *http.Client   // GitHub's endpoint; nil: a client bounded by Timeout
	api  WebIdentityAPI // nil: STS from cfg
}

func (w *webIdentity) Retrieve(ctx context.Context) (credcache.Credentials, error) {
	c, err := w.retrieve(ctx)
	if err != nil {
		return credcache.Credentials{}, &roleError{role: w.src.WebIdentity.RoleARN, err: err}
	}
	return c, nil
}

func (w *webIdentity) retrieve(ctx context.Context) (credcache.Credentials, error) {
	wi := w.src.WebIdentity
	token, err := w.token(ctx)
	if err != nil {
		return credcache.Credentials{}, err
	}
	claims, err := credreq.ParseClaims(token)
	if err != nil {
		return credcache.Credentials{}, fmt.Errorf("%s %s", wi.Where(), err)
	}
	if !claims.Expiry.IsZero() && !w.now().Before(claims.Expiry) {
		return credcache.Credentials{}, w.expired("at " + claims.Expiry.Format(time.RFC3339))
	}
	api := w.api
	if api == nil {
		// AssumeRoleWithWebIdentity is unsigned: the token is the proof.
		api = sts.NewFromConfig(w.cfg, func(o *sts.Options) { o.Credentials = aws.AnonymousCredentials{} })
	}
	sctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	out, err := api.AssumeRoleWithWebIdentity(sctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(wi.RoleARN), RoleSessionName: aws.String(wi.SessionName), WebIdentityToken: aws.String(token)})
	if err != nil {
		return credcache.Credentials{}, w.describe(sctx, claims, err)
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil || c.Expiration == nil {
		return credcache.Credentials{}, errors.New("STS answered AssumeRoleWithWebIdentity without complete credentials")
	}
	return checkReply(credcache.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey,
		SessionToken: *c.SessionToken, Expiration: c.Expiration.UTC()}, w.e.where("STS", "AWS_ENDPOINT_URL_STS", w.cfg.Region), checkEndpoint("AWS_ENDPOINT_URL_STS"), true)
}

// token is the JWT: read from the file or the variable, or asked for.
func (w *webIdentity) token(ctx context.Context) (string, error) {
	wi := w.src.WebIdentity
	switch {
	case wi.TokenFile != "":
		tok, err := credreq.ReadTokenFile(wi.TokenFile)
		if err != nil {
			return "", &credreq.TokenFileError{Path: wi.TokenFile, Why: err.Error()}
		}
		return tok, nil
	case wi.TokenVar != "":
		return strings.TrimSpace(w.env.Get(wi.TokenVar)), nil
	}
	return w.fetchGitHub(ctx, wi.RequestURL, w.env.Get(credreq.GitHubRequestTokenVar))
}

// fetchGitHub asks GitHub Actions' OIDC request endpoint for a token for
// STS, as @actions/core's getIDToken does: GET the URL with &audience=,
// the request token as bearer, {"value": JWT} back.
func (w *webIdentity) fetchGitHub(ctx context.Context, requestURL, bearer string) (string, error) {
	const what = "the GitHub Actions OIDC endpoint (" + credreq.GitHubRequestURLVar + ")"
	u, err := url.Parse(requestURL)
	if err != nil || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && loopback(u.Hostname())) {
		return "", fmt.Errorf("%s is not an https URL (http only to this machine); unset it, or run in a GitHub Actions job with permissions: id-token: write", credreq.GitHubRequestURLVar)
	}
	q := u.Query()
	q.Set("audience", credreq.STSAudience)
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("%s: %s", what, credcache.OneLine(err.Error()))
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Accept", "application/json; api-version=2.0")
	client := w.http
	if client == nil {
		// No redirect: the bearer token goes to the address the runner
		// named and nowhere else.
		client = &http.Client{Timeout: Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	resp, err := client.Do(req)
	if err != nil {
		var netErr *net.OpError
		switch {
		case errors.As(err, &netErr):
			return "", fmt.Errorf("cannot reach %s: %s; check the runner's network, or that the job still runs", what, credcache.OneLine(netErr.Err.Error()))
		case ctx.Err() != nil:
			return "", fmt.Errorf("%s did not answer within %s; check the runner's network", what, Timeout)
		}
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the URL is the job's: not for logs
		}
		return "", fmt.Errorf("cannot reach %s: %s", what, credcache.OneLine(err.Error()))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4*credreq.MaxToken))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return "", fmt.Errorf("%s refused %s (HTTP %d); give the job permissions: id-token: write, and leave %s as the runner set it",
			what, credreq.GitHubRequestTokenVar, resp.StatusCode, credreq.GitHubRequestTokenVar)
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("%s answered HTTP %d; try again, or check the runner's network", what, resp.StatusCode)
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Value == "" || len(v.Value) > credreq.MaxToken {
		return "", fmt.Errorf("%s answered without a token (no \"value\" of at most %d bytes); check %s", what, credreq.MaxToken, credreq.GitHubRequestURLVar)
	}
	return v.Value, nil
}

// expired says the token has expired (when: "at T", or what STS said),
// and where a fresh one comes from.
func (w *webIdentity) expired(when string) error {
	wi := w.src.WebIdentity
	switch {
	case wi.TokenFile != "":
		return &credreq.TokenFileError{Path: wi.TokenFile, Why: "holds a token that expired " + when}
	case wi.TokenVar != "":
		return fmt.Errorf("the web identity token in %s expired %s; GitLab issues it when the job starts: retry the job, or give the token more time (id_tokens)", wi.TokenVar, when)
	}
	return fmt.Errorf("the GitHub Actions OIDC token expired %s; try again", when)
}

// describe makes one line of a refused AssumeRoleWithWebIdentity that
// names what to fix: the provider, the audience, the role's trust.
func (w *webIdentity) describe(ctx context.Context, c credreq.Claims, err error) error {
	wi := w.src.WebIdentity
	var api smithy.APIError
	if !errors.As(err, &api) {
		return w.e.describe(ctx, "STS", "AWS_ENDPOINT_URL_STS", err)
	}
	msg := credcache.OneLine(api.ErrorMessage())
	aud := strings.Join(c.Audience, ",")
	switch api.ErrorCode() {
	case "ExpiredTokenException":
		return w.expired("(STS says: " + msg + ")")
	case "InvalidIdentityToken":
		if strings.Contains(strings.ToLower(msg), "audience") {
			return fmt.Errorf("STS refused %s: the token's audience %q is not a client id of the IAM OIDC provider for %s; ask for audience %s, or add %q to the provider (InvalidIdentityToken: %s)",
				wi.Where(), aud, credcache.OneLine(c.Issuer), credreq.STSAudience, aud, msg)
		}
		return fmt.Errorf("STS refused %s from issuer %s; check that the role's account has an IAM OIDC provider for that issuer (InvalidIdentityToken: %s)",
			wi.Where(), credcache.OneLine(c.Issuer), msg)
	case "IDPCommunicationError":
		return fmt.Errorf("STS could not reach the token's issuer %s to check its signature; try again (IDPCommunicationError: %s)", credcache.OneLine(c.Issuer), msg)
	case "AccessDenied":
		return fmt.Errorf("the entry role %s (%s) does not trust this token; allow sub %q of %s in its trust policy, or set %s to a role that does (AccessDenied: %s)",
			wi.RoleARN, credreq.RoleARNVar, credcache.OneLine(c.Subject), credcache.OneLine(c.Issuer), credreq.RoleARNVar, msg)
	}
	return fmt.Errorf("%s: %s", api.ErrorCode(), msg)
}

// loopback reports whether host is this machine (the only place plain
// http may carry the request token: a test's issuer).
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
