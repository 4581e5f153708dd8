package wire

import (
	"bytes"
	"fmt"
)

// Output collects what a child process prints on stdout, up to Max bytes:
// the helper's reply, the keyring helper's keys, an mfa_command's code. A
// child that prints more gets a write error (its pipe is closed) and the
// command fails with ErrTooMuch, instead of filling awsrole's memory.
type Output struct {
	Max int
	buf bytes.Buffer
}

// ErrTooMuch is the error of an Output written past its Max.
type ErrTooMuch struct{ Max int }

func (e *ErrTooMuch) Error() string { return fmt.Sprintf("printed more than %d bytes", e.Max) }

// Write implements io.Writer.
func (o *Output) Write(p []byte) (int, error) {
	if o.buf.Len()+len(p) > o.Max {
		return 0, &ErrTooMuch{Max: o.Max}
	}
	return o.buf.Write(p)
}

// Bytes is what was written.
func (o *Output) Bytes() []byte { return o.buf.Bytes() }
