// Package browser opens an address in the user's web browser, and only
// where there is one to open: $BROWSER if set, else xdg-open under a
// graphical session, else open on macOS.
package browser

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
)

// Open starts the browser on url without waiting for it to close.
func Open(url string) error {
	var cmd *exec.Cmd
	switch {
	case os.Getenv("BROWSER") != "":
		cmd = exec.Command(os.Getenv("BROWSER"), url)
	case runtime.GOOS == "darwin":
		cmd = exec.Command("open", url)
	case os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "":
		cmd = exec.Command("xdg-open", url)
	default:
		return errors.New("no browser to open here (no $BROWSER and no graphical session)")
	}
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return errors.New("could not start a browser: " + err.Error())
	}
	go cmd.Wait()
	return nil
}
