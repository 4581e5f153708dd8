package keyscmd

import "errors"

func rotate(d Deps, name string) error {
	return errors.New("awsrole keys rotate is not built yet")
}
