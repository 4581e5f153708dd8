package wire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/awsrole/awsrole/internal/credcache"
)

// Handler carries out one call in awsrole-sts: creds.Handler, the one that
// links the AWS SDK. Its error becomes the reply's one-line error.
type Handler func(ctx context.Context, call Call) (Reply, error)

// MaxCall bounds what Serve reads: a call is a few KiB (a session policy
// is the largest part).
const MaxCall = 1 << 20

// Serve is awsrole-sts's end: it reads one Call (JSON) from in, refuses
// another protocol version, carries the call out with handle and writes
// one Reply to out. It returns the exit status: 2 for a call it could not
// read or speak, 1 when the reply could not be written.
func Serve(ctx context.Context, in io.Reader, out io.Writer, handle Handler) int {
	var call Call
	if err := json.NewDecoder(io.LimitReader(in, MaxCall)).Decode(&call); err != nil {
		encode(out, Reply{Error: "awsrole-sts: bad request: " + credcache.OneLine(err.Error())})
		return 2
	}
	if call.Version != ProtocolVersion {
		encode(out, Reply{Error: fmt.Sprintf("awsrole-sts speaks protocol version %d, the caller %d; install awsrole and awsrole-sts from the same release", ProtocolVersion, call.Version)})
		return 2
	}
	reply, err := handle(ctx, call)
	if err != nil {
		// Each quoted remote text is already bounded; folding keeps the
		// advice that follows it.
		var signIn *SignInError
		reply = Reply{Error: strings.Join(strings.Fields(err.Error()), " "), SignIn: errors.As(err, &signIn)}
	}
	return encode(out, reply)
}

func encode(out io.Writer, r Reply) int {
	r.Version = ProtocolVersion
	if err := json.NewEncoder(out).Encode(r); err != nil {
		return 1
	}
	return 0
}
