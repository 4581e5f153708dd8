// Command stsloop is a long-running aws-sdk-go-v2 client for the endpoint
// tests: one STS client, made once, calling GetCallerIdentity every second
// for the given number of seconds and printing "ok ARN" or "FAIL error".
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	secs, _ := strconv.Atoi(os.Args[1])
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Println("FAIL", err)
		os.Exit(1)
	}
	client := sts.NewFromConfig(cfg)
	end := time.Now().Add(time.Duration(secs) * time.Second)
	for time.Now().Before(end) {
		out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			fmt.Println("FAIL", err)
		} else {
			fmt.Println("ok", *out.Arn)
		}
		time.Sleep(time.Second)
	}
}
