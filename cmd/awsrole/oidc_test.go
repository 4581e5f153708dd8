package main

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/awsrole/awsrole/internal/oidcissuer"
	"github.com/awsrole/awsrole/internal/stsstub"
)

// oidcWorld is a script's identity provider, started by oidc-start.
type oidcWorld struct{ is *oidcissuer.Issuer }

func (o *oidcWorld) close() {
	if o.is != nil {
		o.is.Close()
	}
}

func issuer(ts *testscript.TestScript) *oidcissuer.Issuer {
	is := ts.Value("oidc").(*oidcWorld).is
	if is == nil {
		ts.Fatalf("no issuer: run oidc-start first")
	}
	return is
}

type scriptCmd = func(ts *testscript.TestScript, neg bool, args []string)

func mergeCmds(a, b map[string]scriptCmd) map[string]scriptCmd {
	out := map[string]scriptCmd{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// oidcCmds are the scripts' commands for CI: a local OIDC issuer that
// signs real JWTs, registered with the stand-in, and the checks of what
// must never reach a log.
var oidcCmds = map[string]scriptCmd{
	// oidc-start SUB: start an issuer whose GitHub-style request endpoint
	// gives tokens for SUB, registered with the stand-in (audience
	// sts.amazonaws.com). Sets OIDC_ISSUER, OIDC_REQUEST_URL and
	// OIDC_REQUEST_TOKEN.
	"oidc-start": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: oidc-start SUB")
		}
		is, err := oidcissuer.Start(args[0])
		ts.Check(err)
		ts.Value("oidc").(*oidcWorld).is = is
		ts.Value("sts").(*stsstub.Server).AddOIDCProvider(is.URL, "sts.amazonaws.com")
		ts.Setenv("OIDC_ISSUER", is.URL)
		ts.Setenv("OIDC_REQUEST_URL", is.RequestURL())
		ts.Setenv("OIDC_REQUEST_TOKEN", is.RequestToken)
	},
	// oidc-token FILE SUB AUD TTL: write a token the issuer signed.
	"oidc-token": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 4 {
			ts.Fatalf("usage: oidc-token FILE SUB AUD TTL")
		}
		ttl, err := time.ParseDuration(args[3])
		ts.Check(err)
		tok, err := issuer(ts).Token(args[1], args[2], ttl)
		ts.Check(err)
		ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(tok+"\n"), 0o600))
	},
	// oidc-trust ROLE PATTERN: ROLE trusts only the issuer's tokens whose
	// sub matches PATTERN.
	"oidc-trust": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: oidc-trust ROLE PATTERN")
		}
		ts.Value("sts").(*stsstub.Server).TrustWebIdentity(args[0], issuer(ts).URL, args[1])
	},
	// oidc-down / oidc-up: the issuer's endpoints answer 503, or work.
	"oidc-down": func(ts *testscript.TestScript, neg bool, args []string) { issuer(ts).SetDown(true) },
	"oidc-up":   func(ts *testscript.TestScript, neg bool, args []string) { issuer(ts).SetDown(false) },
	// oidc-requests N: the request endpoint gave N tokens.
	"oidc-requests": func(ts *testscript.TestScript, neg bool, args []string) {
		want, err := strconv.Atoi(args[0])
		ts.Check(err)
		if got := issuer(ts).Requests(); (got == want) == neg {
			ts.Fatalf("OIDC requests: %d, want %d", got, want)
		}
	},
	// sts-session ACTION NAME: the last ACTION call had session name NAME.
	"sts-session": func(ts *testscript.TestScript, neg bool, args []string) {
		got := ""
		for _, c := range ts.Value("sts").(*stsstub.Server).Calls() {
			if c.Action == args[0] {
				got = c.RoleSessionName
			}
		}
		if (got == args[1]) == neg {
			ts.Fatalf("last %s session name %q, want %q", args[0], got, args[1])
		}
	},
	// envfile FILE: set the NAME=value lines of FILE (values testscript's
	// env cannot take from a command).
	"envfile": func(ts *testscript.TestScript, neg bool, args []string) {
		for _, line := range strings.Split(ts.ReadFile(args[0]), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				ts.Setenv(k, v)
			}
		}
	},
	// sts-hop ROLE SOURCE_IDENTITY TAGS: the last AssumeRole of ROLE
	// carried the source identity and the session tags (k=v,k=v sorted;
	// "-" for none).
	"sts-hop": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 3 {
			ts.Fatalf("usage: sts-hop ROLE SOURCE_IDENTITY TAGS")
		}
		var got *stsstub.Call
		for _, c := range ts.Value("sts").(*stsstub.Server).Calls() {
			if c.Action == "AssumeRole" && c.RoleArn == args[0] {
				c := c
				got = &c
			}
		}
		if got == nil {
			ts.Fatalf("no AssumeRole of %s", args[0])
		}
		var tags []string
		for k, v := range got.Tags {
			tags = append(tags, k+"="+v)
		}
		sort.Strings(tags)
		tagStr := strings.Join(tags, ",")
		if tagStr == "" {
			tagStr = "-"
		}
		if (got.SourceIdentity == args[1] && tagStr == args[2]) == neg {
			ts.Fatalf("AssumeRole of %s: source identity %q, tags %s; want %q, %s", args[0], got.SourceIdentity, tagStr, args[1], args[2])
		}
	},
	// collect: append the last command's stdout and stderr to
	// $WORK/captured.log, the log no-secrets reads.
	"collect": func(ts *testscript.TestScript, neg bool, args []string) {
		f, err := os.OpenFile(ts.MkAbs("captured.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		ts.Check(err)
		defer f.Close()
		_, err = f.WriteString(ts.ReadFile("stdout") + ts.ReadFile("stderr"))
		ts.Check(err)
	},
	// no-secrets FILE...: no FILE (and no file under a directory named)
	// holds any secret the stand-in or the issuer issued: secret keys,
	// session tokens, JWTs, GitHub's request token.
	"no-secrets": func(ts *testscript.TestScript, neg bool, args []string) {
		secrets := ts.Value("sts").(*stsstub.Server).Secrets()
		if o := ts.Value("oidc").(*oidcWorld); o.is != nil {
			secrets = append(secrets, o.is.Secrets()...)
		}
		if len(secrets) == 0 {
			ts.Fatalf("no secrets issued: the check would prove nothing")
		}
		checked := 0
		for _, a := range args {
			ts.Check(filepath.Walk(ts.MkAbs(a), func(p string, fi os.FileInfo, err error) error {
				if err != nil || fi.IsDir() {
					return err
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				checked++
				for _, s := range secrets {
					if strings.Contains(string(data), s) {
						ts.Fatalf("%s holds a secret the stand-in or the issuer issued (%d bytes, starting %.6s)", p, len(s), s)
					}
				}
				return nil
			}))
		}
		ts.Logf("no-secrets: %d secrets, %d files", len(secrets), checked)
	},
}
