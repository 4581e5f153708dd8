// Package tty asks the user for one line on the controlling terminal,
// /dev/tty: the hook's stdout is evaluated by the shell and its stdin may
// be anything, so prompts (an MFA code, a confirmation) never use them.
package tty

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/awsrole/awsrole/internal/termsafe"
)

// ErrNoTerminal: there is no terminal to ask on (CI, an editor's shell).
var ErrNoTerminal = errors.New("no terminal")

// ErrCancelled: the user pressed Ctrl-C at the prompt.
var ErrCancelled = errors.New("cancelled")

// Open opens the controlling terminal to talk to the user there, when this
// process is in its foreground: a background job (cmd &) or a program
// whose terminal is elsewhere could neither be seen nor interrupted there,
// and would wait for an answer no one gives. ErrNoTerminal otherwise.
func Open() (*os.File, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, ErrNoTerminal
	}
	if fg, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP); err != nil || fg != unix.Getpgrp() {
		f.Close()
		return nil, ErrNoTerminal
	}
	return f, nil
}

// Ask prints prompt (made safe for the terminal) and returns the line the
// user types, without its line end.
func Ask(prompt string) (string, error) {
	f, err := Open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	return ask(f, prompt)
}

// ask prompts on the terminal f and reads one line there.
func ask(f *os.File, prompt string) (string, error) {
	// The hook ignores SIGINT while it runs; listening again lets Ctrl-C
	// end the prompt.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT)
	defer signal.Stop(sig)
	fmt.Fprintf(f, "awsrole: %s ", termsafe.String(prompt))
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
		return "", ErrCancelled
	case text := <-line:
		return strings.TrimRight(text, "\r\n"), nil
	}
}

// AskSecret is Ask without echo, for a secret key or a passphrase: what
// is typed never shows on the terminal (nor in its scrollback).
func AskSecret(prompt string) (string, error) {
	f, err := Open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return "", ErrNoTerminal
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &quiet); err != nil {
		return "", ErrNoTerminal
	}
	defer func() {
		unix.IoctlSetTermios(fd, ioctlSetTermios, old)
		fmt.Fprintln(f)
	}()
	return ask(f, prompt)
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), ioctlGetTermios)
	return err == nil
}
