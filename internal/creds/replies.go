package creds

import (
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/awsrole/awsrole/internal/credcache"
)

// MaxReply bounds the body of every reply the SDK reads from STS, the IAM
// Identity Center portal and its OIDC service. Their real replies are a few
// KiB (a page of ListAccounts some tens); 1 MiB is far above any of them and
// keeps a hostile or broken endpoint from making awsrole-sts read, and
// hold, hundreds of MiB.
const MaxReply = 1 << 20

// boundedClient is the HTTP client the SDK is given: the one it would
// have used (with the user's CA bundle and proxy), every reply body cut
// at MaxReply.
type boundedClient struct{ next aws.HTTPClient }

func (b boundedClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r = r.WithContext(r.Context()) // a shallow copy: the SDK's request stays as it is
		r.Body = readOnlyBody{r.Body}
	}
	resp, err := b.next.Do(r)
	if resp != nil && resp.Body != nil {
		resp.Body = &boundedBody{body: resp.Body, left: MaxReply, from: r.URL.Scheme + "://" + r.URL.Host}
	}
	return resp, err
}

// readOnlyBody hides the WriteTo of the SDK's request body. smithy-go's
// safeWriteToReadCloser answers WriteTo with io.EOF once the SDK has closed
// it (which it does as soon as the response headers arrive); net/http's
// write loop, still making its last read of a fully sent body, takes that
// for a write error and closes the connection while the reply is being
// read: "use of closed network connection" on a large reply, seen under
// load. Through Read, a closed body is a harmless EOF.
type readOnlyBody struct{ io.ReadCloser }

// boundedBody reads up to its limit, then fails with a ReplyTooBigError.
type boundedBody struct {
	body io.ReadCloser
	left int64
	from string
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a reply of exactly the limit from a
		// bigger one.
		var one [1]byte
		if n, err := b.body.Read(one[:]); n == 0 {
			return 0, err
		}
		return 0, &ReplyTooBigError{From: b.from}
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.body.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *boundedBody) Close() error { return b.body.Close() }

// ReplyTooBigError is a reply body over MaxReply.
type ReplyTooBigError struct{ From string }

func (e *ReplyTooBigError) Error() string {
	return fmt.Sprintf("%s sent a reply larger than %d KiB; not reading it", credcache.OneLine(e.From), MaxReply>>10)
}

// RetryableError tells the SDK's retryer not to ask again: the same
// endpoint would answer the same.
func (e *ReplyTooBigError) RetryableError() bool { return false }

// checkReply refuses credentials from a reply that no shell or SDK could
// use (see credcache.Credentials.Check), naming where they came from and
// what to check; session: the reply must carry a session token.
func checkReply(c credcache.Credentials, from, check string, session bool) (credcache.Credentials, error) {
	if err := c.Check(session); err != nil {
		return credcache.Credentials{}, fmt.Errorf("%s answered with %s; not using them: check %s", from, err, check)
	}
	return c, nil
}

// checkEndpoint is what to check when an endpoint answers nonsense.
func checkEndpoint(envVar string) string { return envVar + " or a proxy in between" }

// where names the endpoint of service's calls: the one envVar (or
// AWS_ENDPOINT_URL) names, else AWS's own in region.
func (env Environ) where(service, envVar, region string) string {
	switch e := env.endpoint(envVar); {
	case e != "":
		return service + " at " + credcache.OneLine(e)
	case region != "":
		return service + " in " + region
	}
	return service
}
