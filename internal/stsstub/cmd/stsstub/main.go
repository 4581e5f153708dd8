// Command stsstub runs the local STS stand-in for shell-driven tests.
//
// It registers one long-term user, prints the base URL (for
// AWS_ENDPOINT_URL_STS) as a single line on stdout, and serves until it is
// killed (SIGINT/SIGTERM) or, when stdin is a pipe or socket, until stdin
// reaches end of file. With -log FILE it appends one JSON line per call.
// The same URL serves IAM Identity Center (AWS_ENDPOINT_URL_SSO and
// AWS_ENDPOINT_URL_SSO_OIDC); -sso-assign and -sso-session (or
// -sso-token-file) sign a user in without the device flow.
//
//	coproc STUB { stsstub -key AKIA... -secret ... -log calls.jsonl; }
//	read -r url <&"${STUB[0]}"
//	export AWS_ENDPOINT_URL_STS=$url   # the stub exits when the shell does
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/awsrole/awsrole/internal/stsstub"
)

// faultFlags collects repeated -fail ACTION:N:STATUS[:CODE[:MESSAGE]] flags.
type faultFlags []string

func (f *faultFlags) String() string     { return strings.Join(*f, ",") }
func (f *faultFlags) Set(v string) error { *f = append(*f, v); return nil }

// logLine is one call in the -log file; it carries no secrets.
type logLine struct {
	Time            string `json:"time"`
	Action          string `json:"action"`
	AccessKeyID     string `json:"access_key_id"`
	RoleArn         string `json:"role_arn,omitempty"`
	RoleSessionName string `json:"role_session_name,omitempty"`
	DurationSeconds int    `json:"duration_seconds,omitempty"`
	SerialNumber    string `json:"serial_number,omitempty"`
	AccountID       string `json:"account_id,omitempty"`
	RoleName        string `json:"role_name,omitempty"`
	GrantType       string `json:"grant_type,omitempty"`
	Status          int    `json:"status"`
	Error           string `json:"error,omitempty"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "stsstub:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		key      = flag.String("key", os.Getenv("STSSTUB_KEY"), "access key id of the long-term user (env STSSTUB_KEY)")
		secret   = flag.String("secret", os.Getenv("STSSTUB_SECRET"), "secret access key of the user (env STSSTUB_SECRET)")
		arn      = flag.String("arn", envOr("STSSTUB_ARN", "arn:aws:iam::111111111111:user/alice"), "IAM ARN of the user (env STSSTUB_ARN)")
		addr     = flag.String("addr", "127.0.0.1:0", "listen address")
		logPath  = flag.String("log", "", "append one JSON line per call to this file")
		duration = flag.Duration("session-duration", 0, "if >0, issued credentials expire after this long")
		faults   faultFlags
		sso      ssoFlags
	)
	sso.register(flag.CommandLine)
	flag.Var(&faults, "fail", "inject a fault: ACTION:N:STATUS[:CODE[:MESSAGE]] (ACTION may be empty for any); repeatable")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if *key == "" || *secret == "" {
		return fmt.Errorf("-key and -secret (or STSSTUB_KEY and STSSTUB_SECRET) are required")
	}

	s, err := stsstub.StartAddr(*addr)
	if err != nil {
		return err
	}
	defer s.Close()
	s.AddUser(*key, *secret, *arn)
	s.SetSessionDuration(*duration)
	if err := sso.apply(s); err != nil {
		return err
	}
	for _, f := range faults {
		action, n, fault, err := parseFault(f)
		if err != nil {
			return err
		}
		s.FailNext(action, n, fault)
	}
	if *logPath != "" {
		lf, err := os.OpenFile(*logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		defer lf.Close()
		var mu sync.Mutex
		s.SetCallHook(func(c stsstub.Call) {
			b, _ := json.Marshal(logLine{
				Time: c.Time.UTC().Format(time.RFC3339Nano), Action: c.Action, AccessKeyID: c.AccessKeyID,
				RoleArn: c.RoleArn, RoleSessionName: c.RoleSessionName, DurationSeconds: c.DurationSeconds,
				SerialNumber: c.SerialNumber, AccountID: c.AccountID, RoleName: c.RoleName, GrantType: c.GrantType,
				Status: c.Status, Error: c.Err,
			})
			mu.Lock()
			defer mu.Unlock()
			_, _ = lf.Write(append(b, '\n'))
		})
	}

	if _, err := fmt.Println(s.URL); err != nil {
		return err
	}

	stop := make(chan struct{}, 1)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		<-sigs
		stop <- struct{}{}
	}()
	if stdinIsPipe() {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop <- struct{}{}
		}()
	}
	<-stop
	return nil
}

// stdinIsPipe reports whether stdin is a pipe or socket, whose end of file
// means the parent went away. /dev/null and terminals are not watched, so
// a backgrounded stsstub in a script keeps running until killed.
func stdinIsPipe() bool {
	fi, err := os.Stdin.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) != 0
}

// parseFault parses ACTION:N:STATUS[:CODE[:MESSAGE]].
func parseFault(v string) (string, int, stsstub.Fault, error) {
	parts := strings.SplitN(v, ":", 5)
	if len(parts) < 3 {
		return "", 0, stsstub.Fault{}, fmt.Errorf("bad -fail %q: want ACTION:N:STATUS[:CODE[:MESSAGE]]", v)
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil {
		return "", 0, stsstub.Fault{}, fmt.Errorf("bad -fail %q: count: %w", v, err)
	}
	status, err := strconv.Atoi(parts[2])
	if err != nil {
		return "", 0, stsstub.Fault{}, fmt.Errorf("bad -fail %q: status: %w", v, err)
	}
	f := stsstub.Fault{Status: status}
	if len(parts) > 3 {
		f.Code = parts[3]
	}
	if len(parts) > 4 {
		f.Message = parts[4]
	}
	return parts[0], n, f, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
