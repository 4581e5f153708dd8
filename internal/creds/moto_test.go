package creds

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/oidcissuer"
	"github.com/awsrole/awsrole/internal/testrig"
)

// startMoto runs moto_server (Python moto: an AWS written by others) on a
// free port until the test ends.
func startMoto(t *testing.T) string {
	t.Helper()
	bin := testrig.Tool(t, "moto_server", "pip install 'moto[server]'")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Env = append(os.Environ(), "MOTO_ALLOW_NONEXISTENT_REGION=true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not answer on %s within 30s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Against moto's STS: the entry role by AssumeRoleWithWebIdentity (the
// SDK's unsigned call, with a real JWT), then the directory's role chained
// from it with AssumeRole, signed with the entry session; the result is
// the directory's role for moto's GetCallerIdentity, and the second fetch
// comes from the cache.
func TestWebIdentityAgainstMoto(t *testing.T) {
	testrig.Slow(t)
	setup(t)
	moto := startMoto(t)
	t.Setenv("AWS_ENDPOINT_URL_STS", moto)
	is, err := oidcissuer.Start("repo:org/app:ref:refs/heads/main")
	if err != nil {
		t.Fatal(err)
	}
	defer is.Close()
	tok, err := is.Token(is.Subject, credreq.STSAudience, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	env := credreq.Env{"AWS_ROLE_ARN": s("arn:aws:iam::123456789012:role/ci-entry"), "AWS_WEB_IDENTITY_TOKEN_FILE": s(file),
		"AWS_ENDPOINT_URL_STS": s(moto), "AWS_REGION": s("us-east-1")}
	req := request()
	src, err := credreq.Resolve(req, env, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cache := testCache()
	g := &Getter{Now: time.Now, Cache: cache}
	c, err := g.Get(context.Background(), req, src, env)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)))
	if err != nil {
		t.Fatal(err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if arn := aws.ToString(id.Arn); !strings.HasSuffix(arn, ":assumed-role/deploy/unit") {
		t.Fatalf("moto says the credentials are %s, want the directory's role", arn)
	}
	if time.Until(c.Expiration) > time.Hour+time.Minute {
		t.Errorf("the chained role lasts until %s: more than the 1h chain cap", c.Expiration)
	}
	again, err := g.Get(context.Background(), req, src, env)
	if err != nil || again.AccessKeyID != c.AccessKeyID {
		t.Errorf("the second fetch: %v, key %s, want the cached %s", err, again.AccessKeyID, c.AccessKeyID)
	}
}
