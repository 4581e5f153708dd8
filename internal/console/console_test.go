package console

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPartitionHosts(t *testing.T) {
	for _, tt := range []struct{ arn, fed, dest string }{
		{"arn:aws:iam::222222222222:role/deploy", "https://signin.aws.amazon.com/federation", "https://console.aws.amazon.com/s3/home?region=eu-west-1"},
		{"arn:aws-us-gov:iam::222222222222:role/deploy", "https://signin.amazonaws-us-gov.com/federation", "https://console.amazonaws-us-gov.com/s3/home?region=eu-west-1"},
		{"arn:aws-cn:iam::222222222222:role/deploy", "https://signin.amazonaws.cn/federation", "https://console.amazonaws.cn/s3/home?region=eu-west-1"},
	} {
		p := Partition(tt.arn)
		fed, err := FederationURL(p)
		if err != nil || fed != tt.fed {
			t.Errorf("%s: federation %q %v, want %q", tt.arn, fed, err, tt.fed)
		}
		if d, _ := Destination(p, "s3", "eu-west-1", ""); d != tt.dest {
			t.Errorf("%s: destination %q, want %q", tt.arn, d, tt.dest)
		}
	}
	if _, err := Destination("aws", "s3/../x", "", ""); err == nil {
		t.Error("a bad service name passed")
	}
	// 1 to 63 characters: the length is checked apart from the pattern.
	for _, tt := range []struct {
		service string
		ok      bool
	}{{"s", true}, {strings.Repeat("s", 63), true}, {strings.Repeat("s", 64), false}, {"-s", false}} {
		if _, err := Destination("aws", tt.service, "", ""); (err == nil) != tt.ok {
			t.Errorf("service %q: err %v, want ok %v", tt.service, err, tt.ok)
		}
	}
	if _, err := Destination("aws", "", "", "javascript:alert(1)"); err == nil {
		t.Error("a non-https destination passed")
	}
}

func TestTokenURL(t *testing.T) {
	sess := Session{SessionID: "ASIA1", SessionKey: "k+/=", SessionToken: "t"}
	for _, tt := range []struct {
		chained bool
		want    string
	}{{false, "3600"}, {true, ""}} {
		raw, err := TokenURL("https://signin.aws.amazon.com/federation", sess, SessionDuration(tt.chained, time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(raw)
		q := u.Query()
		if q.Get("SessionDuration") != tt.want || !strings.Contains(q.Get("Session"), `"sessionKey":"k+/="`) || q.Get("Action") != "getSigninToken" {
			t.Errorf("chained %v: %s", tt.chained, raw)
		}
	}
	login, _ := LoginURL("https://signin.aws.amazon.com/federation", "tok+/", "https://console.aws.amazon.com/console/home")
	u, _ := url.Parse(login)
	if u.Query().Get("SigninToken") != "tok+/" || u.Query().Get("Action") != "login" {
		t.Errorf("login %s", login)
	}
}
