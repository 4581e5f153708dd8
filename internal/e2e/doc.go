// Package e2e holds awsrole's end-to-end tests: the real binary, installed
// with `awsrole install` into a temporary HOME, driven through interactive
// bash, zsh and fish under a pseudo-terminal, against the in-process STS
// stand-in (internal/stsstub), with the real aws CLI as an independent client
// (in bash; the Go SDK in the other shells, see callerArn).
//
// Everything lives in the _test.go files; this file only names the package.
package e2e
