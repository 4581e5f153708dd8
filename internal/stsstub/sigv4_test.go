package stsstub

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The example from the AWS General Reference "Signature Version 4 signing
// process" (IAM ListUsers, 2015-08-30), which fixes the canonical request,
// string to sign and signature independently of any SDK.
func TestSignatureKnownVector(t *testing.T) {
	r := httptest.NewRequest("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil)
	r.Host = "iam.amazonaws.com"
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	a := authHeader{
		accessKeyID: "AKIDEXAMPLE", date: "20150830", region: "us-east-1", service: "iam", terminator: "aws4_request",
		signedHeaders: []string{"content-type", "host", "x-amz-date"},
	}
	emptyHash := sha256Hex(nil)
	cr, err := canonicalRequest(r, a.signedHeaders, emptyHash)
	if err != nil {
		t.Fatal(err)
	}
	wantCR := "GET\n/\nAction=ListUsers&Version=2010-05-08\n" +
		"content-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n" +
		"content-type;host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if cr != wantCR {
		t.Fatalf("canonical request:\n%s\nwant:\n%s", cr, wantCR)
	}
	if got, want := sha256Hex([]byte(cr)), "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"; got != want {
		t.Errorf("canonical request hash %s, want %s", got, want)
	}
	sig, err := computeSignature(r, a, "20150830T123600Z", emptyHash, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	if err != nil {
		t.Fatal(err)
	}
	if want := "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"; sig != want {
		t.Errorf("signature %s, want %s", sig, want)
	}
}

func TestParseAuthorization(t *testing.T) {
	a, err := parseAuthorization("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd")
	if err != nil {
		t.Fatal(err)
	}
	if a.accessKeyID != "AKIDEXAMPLE" || a.region != "us-east-1" || a.service != "sts" || len(a.signedHeaders) != 2 || a.signature != "abcd" {
		t.Errorf("parsed %+v", a)
	}
	for _, bad := range []string{
		"AWS AKID:sig",
		"AWS4-HMAC-SHA256 SignedHeaders=host, Signature=ab",
		"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts, SignedHeaders=host, Signature=ab",
		"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/aws4_request, Signature=ab",
		"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/aws4_request, SignedHeaders=host",
	} {
		if _, err := parseAuthorization(bad); err == nil {
			t.Errorf("parseAuthorization(%q) succeeded", bad)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	got := canonicalQuery("b=2&a=x%20y&a=1&c=a+b&d&e=%2F~")
	want := "a=1&a=x%20y&b=2&c=a%20b&d=&e=%2F~"
	if got != want {
		t.Errorf("canonicalQuery = %q, want %q", got, want)
	}
}

// signRequest signs r in place with the stub's own algorithm (used to
// construct raw requests; the SDK and CLI tests check interoperability).
func signRequest(t *testing.T, r *http.Request, body []byte, akid, secret, token string, when time.Time) {
	t.Helper()
	amzDate := when.UTC().Format(amzDateFormat)
	r.Header.Set("X-Amz-Date", amzDate)
	if token != "" {
		r.Header.Set("X-Amz-Security-Token", token)
	}
	signed := []string{"content-type", "host", "x-amz-date"}
	if token != "" {
		signed = append(signed, "x-amz-security-token")
	}
	a := authHeader{accessKeyID: akid, date: amzDate[:8], region: "us-east-1", service: "sts", terminator: "aws4_request", signedHeaders: signed}
	sig, err := computeSignature(r, a, amzDate, sha256Hex(body), secret)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+akid+"/"+a.scope()+", SignedHeaders="+strings.Join(signed, ";")+", Signature="+sig)
}

func rawPost(t *testing.T, s *Server, body string, mutate func(r *http.Request, body *[]byte)) (*http.Response, string) {
	t.Helper()
	b := []byte(body)
	r, err := http.NewRequest("POST", s.URL+"/", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	r.Host = strings.TrimPrefix(s.URL, "http://")
	signRequest(t, r, b, testKey, testSecret, "", time.Now())
	if mutate != nil {
		mutate(r, &b)
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

func TestRawSignatureChecks(t *testing.T) {
	s := newServer(t)
	const gci = "Action=GetCallerIdentity&Version=2011-06-15"
	tests := []struct {
		name   string
		mutate func(r *http.Request, body *[]byte)
		status int
		code   string
	}{
		{"valid", nil, 200, ""},
		{"tampered body", func(r *http.Request, b *[]byte) {
			*b = []byte("Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::222222222222:role/deploy&RoleSessionName=x1")
		}, 403, "SignatureDoesNotMatch"},
		{"tampered body same length", func(r *http.Request, b *[]byte) {
			*b = []byte(strings.Replace(string(*b), "2011", "2012", 1))
		}, 403, "SignatureDoesNotMatch"},
		{"tampered signed header", func(r *http.Request, _ *[]byte) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}, 403, "SignatureDoesNotMatch"},
		{"tampered date", func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Date", time.Now().UTC().Add(time.Second).Format(amzDateFormat))
		}, 403, "SignatureDoesNotMatch"},
		{"query added", func(r *http.Request, _ *[]byte) {
			r.URL.RawQuery = "Action=GetSessionToken"
		}, 403, "SignatureDoesNotMatch"},
		{"wrong content sha256", func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Content-Sha256", sha256Hex([]byte("other")))
		}, 403, "SignatureDoesNotMatch"},
		{"unsigned header may change", func(r *http.Request, _ *[]byte) {
			r.Header.Set("User-Agent", "something-else")
		}, 200, ""},
		{"unsigned", func(r *http.Request, _ *[]byte) {
			r.Header.Del("Authorization")
		}, 403, "MissingAuthenticationToken"},
		{"unknown key", func(r *http.Request, _ *[]byte) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), testKey, "AKIAUNKNOWNUNKNOWN00", 1))
		}, 403, "InvalidClientTokenId"},
		{"long-term key with token", func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Security-Token", "bogus")
		}, 403, "InvalidClientTokenId"},
		{"wrong service scope", func(r *http.Request, _ *[]byte) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/sts/", "/iam/", 1))
		}, 403, "SignatureDoesNotMatch"},
		{"host not signed", func(r *http.Request, _ *[]byte) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "content-type;host;x-amz-date", "content-type;x-amz-date", 1))
		}, 403, "SignatureDoesNotMatch"},
		{"garbled authorization", func(r *http.Request, _ *[]byte) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=")
		}, 403, "IncompleteSignature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := rawPost(t, s, gci, tc.mutate)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.status, body)
			}
			if tc.code != "" && !strings.Contains(body, "<Code>"+tc.code+"</Code>") {
				t.Fatalf("body %s lacks code %s", body, tc.code)
			}
		})
	}
}

func TestRawClockSkew(t *testing.T) {
	s := newServer(t)
	for _, off := range []time.Duration{-16 * time.Minute, 16 * time.Minute} {
		b := []byte("Action=GetCallerIdentity&Version=2011-06-15")
		r, _ := http.NewRequest("POST", s.URL+"/", bytes.NewReader(b))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		signRequest(t, r, b, testKey, testSecret, "", time.Now().Add(off))
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || !strings.Contains(string(out), "Signature") {
			t.Errorf("offset %v: status %d body %s", off, resp.StatusCode, out)
		}
	}
	// Within 15 minutes is fine.
	b := []byte("Action=GetCallerIdentity&Version=2011-06-15")
	r, _ := http.NewRequest("POST", s.URL+"/", bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	signRequest(t, r, b, testKey, testSecret, "", time.Now().Add(-10*time.Minute))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("10 minutes skew: status %d", resp.StatusCode)
	}
}

// GET with the parameters in the query string is accepted too.
func TestRawGETQuery(t *testing.T) {
	s := newServer(t)
	r, _ := http.NewRequest("GET", s.URL+"/?Version=2011-06-15&Action=GetCallerIdentity", nil)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	signRequest(t, r, nil, testKey, testSecret, "", time.Now())
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(out), "<Arn>"+testUserArn+"</Arn>") {
		t.Fatalf("status %d body %s", resp.StatusCode, out)
	}
	if !strings.HasPrefix(string(out), `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`) {
		t.Errorf("unexpected shape %s", out)
	}
}
