package wire

import (
	"errors"
	"os/exec"
	"testing"
	"time"
)

// A child that prints without end is cut off at Max: the command fails at
// once instead of filling memory, and what fits is kept.
func TestOutputBounded(t *testing.T) {
	out := Output{Max: 64 << 10}
	cmd := exec.Command("yes", "0123456789")
	cmd.Stdout = &out
	done := make(chan error, 1)
	go func() { done <- cmd.Run() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("yes ran to the end with a bounded stdout")
		}
		if got := len(out.Bytes()); got > 64<<10 {
			t.Errorf("kept %d bytes, more than Max", got)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("a child printing without end still ran after 10 s")
	}

	small := Output{Max: 16}
	cmd = exec.Command("printf", "123456")
	cmd.Stdout = &small
	if err := cmd.Run(); err != nil || string(small.Bytes()) != "123456" {
		t.Errorf("a short answer: %q, %v", small.Bytes(), err)
	}
	var tooMuch *ErrTooMuch
	if _, err := (&Output{Max: 2}).Write([]byte("abc")); !errors.As(err, &tooMuch) {
		t.Errorf("a write past Max: %v, want ErrTooMuch", err)
	}
}
