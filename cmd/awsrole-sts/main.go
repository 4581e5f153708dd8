// Command awsrole-sts fetches credentials for awsrole when its cache cannot
// answer: the only part of awsrole that links the AWS SDK, whose package
// initialisation would otherwise slow every hook call. Install it next to
// awsrole (go install github.com/awsrole/awsrole/cmd/...); awsrole runs it.
package main

import (
	"os"

	"github.com/awsrole/awsrole/internal/creds"
)

func main() {
	os.Exit(creds.Serve(os.Stdin, os.Stdout))
}
