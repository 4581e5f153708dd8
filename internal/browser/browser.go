// Package browser opens an address in the user's web browser, and only
// where there is one to open: $BROWSER if set, else xdg-open under a
// graphical session, else open on macOS; and only an address a browser
// may be handed (Check).
package browser

import (
	"errors"
	"net"
	"net/url"
	"os/exec"
	"runtime"
	"strings"
)

// RefusedError is an address Open would not hand to a browser.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "not opening the address in a browser: " + e.Reason }

// Check refuses what a browser should not be handed: anything but an
// https:// address (http:// only to this machine, for a local stand-in),
// and anything a browser could read as more than one address: an
// argument that starts with "-" (an option such as --gpu-launcher=CMD), a
// space or a control character. The address comes from a remote reply
// (the OIDC service's verification address), so file:, javascript: and
// the like never reach the browser. The error never quotes the address.
func Check(addr string) error {
	if strings.HasPrefix(addr, "-") {
		return &RefusedError{"it starts with '-', like an option"}
	}
	if strings.IndexFunc(addr, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return &RefusedError{"it holds a space or a control character"}
	}
	u, err := url.Parse(addr)
	switch {
	case err != nil:
		return &RefusedError{"it is not a web address"}
	case u.Host == "" || u.Opaque != "":
		return &RefusedError{"it names no web server"}
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopback(u.Hostname()):
		return nil
	}
	return &RefusedError{"only https:// addresses are opened (http:// only on this machine)"}
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Env is what of the user's environment picks the browser: read by the
// caller where the binary starts (FromEnv), so that nothing here reads the
// process's environment.
type Env struct {
	Browser        string // $BROWSER: the command to run, first choice
	Display        string // $DISPLAY: an X11 session, where xdg-open works
	WaylandDisplay string // $WAYLAND_DISPLAY: a Wayland session, likewise
}

// FromEnv reads Env through getenv (os.Getenv, or a lookup in an
// environment the caller holds).
func FromEnv(getenv func(string) string) Env {
	return Env{Browser: getenv("BROWSER"), Display: getenv("DISPLAY"), WaylandDisplay: getenv("WAYLAND_DISPLAY")}
}

// command is the browser to run on addr under env on goos: $BROWSER if
// set, else open on macOS, else xdg-open under a graphical session.
func command(addr string, env Env, goos string) (*exec.Cmd, error) {
	switch {
	case env.Browser != "":
		return exec.Command(env.Browser, addr), nil
	case goos == "darwin":
		return exec.Command("open", addr), nil
	case env.Display != "" || env.WaylandDisplay != "":
		return exec.Command("xdg-open", addr), nil
	}
	return nil, errors.New("no browser to open here (no $BROWSER and no graphical session)")
}

// Open starts the browser env names on addr without waiting for it to
// close, once Check passes it.
func Open(addr string, env Env) error {
	if err := Check(addr); err != nil {
		return err
	}
	cmd, err := command(addr, env, runtime.GOOS)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return errors.New("could not start a browser: " + err.Error())
	}
	go cmd.Wait()
	return nil
}
