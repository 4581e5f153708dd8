// Command awsrole gives every project directory its own AWS IAM role.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:]))
}
