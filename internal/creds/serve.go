package creds

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"time"
)

// Reply is what Serve answers: credentials, or the one-line error.
type Reply struct {
	Credentials *Credentials `json:"credentials,omitempty"`
	Error       string       `json:"error,omitempty"`
}

// Serve is the awsrole-sts helper: it reads one Request (JSON) from in,
// fetches credentials and writes one Reply to out. awsrole runs it only
// when the cache cannot answer, so the prompt's hot path never pays for
// linking the AWS SDK. Notices (a damaged cache file) go to stderr.
func Serve(in io.Reader, out io.Writer) int {
	var req Request
	if err := json.NewDecoder(io.LimitReader(in, 1<<20)).Decode(&req); err != nil {
		json.NewEncoder(out).Encode(Reply{Error: "awsrole-sts: bad request: " + oneLine(err.Error())})
		return 2
	}
	c, err := (&Getter{Now: time.Now, Notice: os.Stderr}).Get(context.Background(), req)
	if err != nil {
		return encode(out, Reply{Error: oneLine(err.Error())})
	}
	return encode(out, Reply{Credentials: &c})
}

func encode(out io.Writer, r Reply) int {
	if err := json.NewEncoder(out).Encode(r); err != nil {
		return 1
	}
	return 0
}
