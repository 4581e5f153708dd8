package creds

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"github.com/aws/smithy-go"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/browser"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/wire"
)

// fakeOIDC answers the device flow's three calls from scripts: each call
// takes the next error of its list (nil: success), and records itself.
type fakeOIDC struct {
	mu                                sync.Mutex
	registerErrs, startErrs, tokenErr []error
	calls                             []string
	onToken                           func() // runs at each CreateToken, before it answers
}

func (f *fakeOIDC) next(name string, errs *[]error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
	if len(*errs) == 0 {
		return nil
	}
	err := (*errs)[0]
	*errs = (*errs)[1:]
	return err
}

func (f *fakeOIDC) RegisterClient(ctx context.Context, in *ssooidc.RegisterClientInput, _ ...func(*ssooidc.Options)) (*ssooidc.RegisterClientOutput, error) {
	if err := f.next("RegisterClient", &f.registerErrs); err != nil {
		return nil, err
	}
	return &ssooidc.RegisterClientOutput{ClientId: aws.String("client-new"), ClientSecret: aws.String("secret-new"),
		ClientSecretExpiresAt: time.Now().Add(90 * 24 * time.Hour).Unix()}, nil
}

func (f *fakeOIDC) StartDeviceAuthorization(ctx context.Context, in *ssooidc.StartDeviceAuthorizationInput, _ ...func(*ssooidc.Options)) (*ssooidc.StartDeviceAuthorizationOutput, error) {
	if err := f.next("StartDeviceAuthorization:"+aws.ToString(in.ClientId), &f.startErrs); err != nil {
		return nil, err
	}
	return &ssooidc.StartDeviceAuthorizationOutput{DeviceCode: aws.String("device"), UserCode: aws.String("ABCD-EFGH"),
		VerificationUriComplete: aws.String("https://device.example/?user_code=ABCD-EFGH"), Interval: 2, ExpiresIn: 600}, nil
}

func (f *fakeOIDC) CreateToken(ctx context.Context, in *ssooidc.CreateTokenInput, _ ...func(*ssooidc.Options)) (*ssooidc.CreateTokenOutput, error) {
	if f.onToken != nil {
		f.onToken()
	}
	if err := f.next("CreateToken", &f.tokenErr); err != nil {
		return nil, err
	}
	return &ssooidc.CreateTokenOutput{AccessToken: aws.String("access-new"), RefreshToken: aws.String("refresh-new"), ExpiresIn: 8 * 3600}, nil
}

// fakeWorld is a Getter whose clock only moves when the device flow
// sleeps, and whose browser records what it was handed.
type fakeWorld struct {
	g      *Getter
	now    time.Time
	slept  []time.Duration
	opened []string
	openFn func(addr string) error
}

func newFakeWorld(oidc OIDCAPI) *fakeWorld {
	w := &fakeWorld{now: time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)}
	w.g = &Getter{
		Now:  func() time.Time { return w.now },
		OIDC: func(aws.Config) OIDCAPI { return oidc },
		Sleep: func(ctx context.Context, d time.Duration) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			w.slept = append(w.slept, d)
			w.now = w.now.Add(d)
			return nil
		},
		Open: func(addr string, _ browser.Env) error {
			w.opened = append(w.opened, addr)
			if w.openFn != nil {
				return w.openFn(addr)
			}
			return nil
		},
	}
	return w
}

// writeTokenFile puts tok where the aws CLI keeps session corp's token.
func writeTokenFile(t *testing.T, tok awsconfig.Token) {
	t.Helper()
	data, _ := json.Marshal(tok)
	p := awsconfig.PathsFromEnv(os.Getenv).TokenPath("corp")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// corpStart is the portal of session corp (ssoWorld).
const corpStart = "https://corp.awsapps.com/start"

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: "no " + code} }

// deviceCase is one run of the device flow against fakes.
type deviceCase struct {
	name      string
	onFile    *awsconfig.Token
	oidc      *fakeOIDC
	noBrowser bool
	openErr   error
	elsewhere bool // another sign-in writes a token during the wait
	want      string
	wantErr   string
	wantCalls string
	wantSlept string
}

// TestDeviceFlowAgainstFakes: every way the device flow ends, against a
// fake OIDC service, clock and browser: no network, no waiting.
func TestDeviceFlowAgainstFakes(t *testing.T) {
	registered := awsconfig.Token{StartURL: corpStart, Region: "eu-west-1", AccessToken: "old", ClientID: "client-old", ClientSecret: "secret-old",
		ExpiresAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), RegistrationExpiresAt: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)}
	tests := []deviceCase{
		{name: "new registration, pending, slow down, then a token", oidc: &fakeOIDC{tokenErr: []error{&oidctypes.AuthorizationPendingException{}, &oidctypes.SlowDownException{}}},
			want: "signed in to IAM Identity Center session corp until", wantCalls: "RegisterClient StartDeviceAuthorization:client-new CreateToken CreateToken CreateToken", wantSlept: "2s 2s 7s"},
		{name: "the registration on file serves", onFile: &registered, oidc: &fakeOIDC{},
			want: "signed in to IAM Identity Center session corp until", wantCalls: "StartDeviceAuthorization:client-old CreateToken", wantSlept: "2s"},
		{name: "a registration the service refuses is made anew, once", onFile: &registered, oidc: &fakeOIDC{startErrs: []error{&oidctypes.InvalidClientException{}}},
			want: "signed in", wantCalls: "StartDeviceAuthorization:client-old RegisterClient StartDeviceAuthorization:client-new CreateToken"},
		{name: "register fails", oidc: &fakeOIDC{registerErrs: []error{apiErr("InternalServerException")}},
			wantErr: "sign-in to IAM Identity Center session corp: register: InternalServerException: no InternalServerException", wantCalls: "RegisterClient"},
		{name: "register again fails", onFile: &registered, oidc: &fakeOIDC{startErrs: []error{&oidctypes.UnauthorizedClientException{}}, registerErrs: []error{apiErr("Throttling")}},
			wantErr: "register: Throttling", wantCalls: "StartDeviceAuthorization:client-old RegisterClient"},
		{name: "start fails", onFile: &registered, oidc: &fakeOIDC{startErrs: []error{apiErr("InvalidRequestException")}},
			wantErr: "session corp: start: InvalidRequestException", wantCalls: "StartDeviceAuthorization:client-old"},
		{name: "refused in the browser", onFile: &registered, oidc: &fakeOIDC{tokenErr: []error{&oidctypes.AccessDeniedException{}}},
			wantErr: "sign-in to IAM Identity Center session corp was refused in the browser"},
		{name: "the code expires at the service", onFile: &registered, oidc: &fakeOIDC{tokenErr: []error{&oidctypes.ExpiredTokenException{}}},
			wantErr: "the code expired before it was confirmed"},
		{name: "the code expires here", onFile: &registered, oidc: &fakeOIDC{tokenErr: manyPending(400)},
			wantErr: "the code expired before it was confirmed"},
		{name: "another error from CreateToken", onFile: &registered, oidc: &fakeOIDC{tokenErr: []error{errors.New("boom\nsecond line")}},
			wantErr: "session corp: token: boom second line"},
		{name: "signed in elsewhere meanwhile", onFile: &registered, oidc: &fakeOIDC{tokenErr: manyPending(5)}, elsewhere: true,
			want: "signed in to IAM Identity Center session corp elsewhere, until"},
		{name: "no browser", onFile: &registered, oidc: &fakeOIDC{}, noBrowser: true, want: "signed in"},
		{name: "the browser cannot start", onFile: &registered, oidc: &fakeOIDC{}, openErr: errors.New("no browser to open here"),
			want: "awsrole: no browser to open here; open the address above yourself"},
		{name: "the browser refuses the address", onFile: &registered, oidc: &fakeOIDC{}, openErr: &browser.RefusedError{Reason: "it starts with '-'"},
			want: "check where it leads before you open it yourself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ssoWorld(t)
			if tt.onFile != nil {
				writeTokenFile(t, *tt.onFile)
			}
			w := newFakeWorld(tt.oidc)
			w.openFn = func(string) error { return tt.openErr }
			if tt.elsewhere {
				n := 0
				tt.oidc.onToken = func() {
					if n++; n == 2 {
						writeTokenFile(t, awsconfig.Token{StartURL: corpStart, Region: "eu-west-1", AccessToken: "theirs", ExpiresAt: w.now.Add(8 * time.Hour)})
					}
				}
			}
			var out strings.Builder
			err := w.g.Login(context.Background(), wire.Login{Session: "corp", NoBrowser: tt.noBrowser}, &out, credreq.EnvOf(os.Environ()))
			tt.check(t, w, out.String(), err)
		})
	}
}

func (tt deviceCase) check(t *testing.T, w *fakeWorld, out string, err error) {
	t.Helper()
	switch {
	case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
		t.Fatalf("err = %v, want %q", err, tt.wantErr)
	case tt.wantErr == "" && err != nil:
		t.Fatalf("err = %v\n%s", err, out)
	}
	if err != nil && strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	if !strings.Contains(out, tt.want) {
		t.Errorf("terminal lacks %q:\n%s", tt.want, out)
	}
	tt.checkEffects(t, w, out)
}

// checkEffects checks what the flow did besides its outcome: calls,
// waits, the browser, the token file.
func (tt deviceCase) checkEffects(t *testing.T, w *fakeWorld, out string) {
	t.Helper()
	if tt.wantCalls != "" && strings.Join(tt.oidc.calls, " ") != tt.wantCalls {
		t.Errorf("calls = %v, want %s", tt.oidc.calls, tt.wantCalls)
	}
	if tt.wantSlept != "" && fmtDurations(w.slept) != tt.wantSlept {
		t.Errorf("slept %s, want %s", fmtDurations(w.slept), tt.wantSlept)
	}
	// The browser gets the address once it is shown, unless told not to.
	if shown := strings.Contains(out, "open https://device.example/?user_code=ABCD-EFGH and check that it shows the code ABCD-EFGH"); (shown && !tt.noBrowser) != (len(w.opened) == 1) {
		t.Errorf("browser opened %v with NoBrowser %v", w.opened, tt.noBrowser)
	}
	if tt.want == "signed in to IAM Identity Center session corp until" {
		tok, err := awsconfig.ReadTokenFile(awsconfig.PathsFromEnv(os.Getenv).TokenPath("corp"))
		if err != nil || tok.AccessToken != "access-new" || tok.RefreshToken != "refresh-new" || !tok.ExpiresAt.Equal(w.now.Add(8*time.Hour).Truncate(time.Second)) ||
			tok.ClientID == "" || tok.StartURL != corpStart {
			t.Errorf("token file = %+v, %v", tok, err)
		}
	}
}

func manyPending(n int) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = &oidctypes.AuthorizationPendingException{}
	}
	return errs
}

func fmtDurations(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.String()
	}
	return strings.Join(s, " ")
}

// TestDeviceFlowCancelled: Ctrl-C (the context ending) while waiting for
// the browser ends the sign-in with one line, past the echoed ^C.
func TestDeviceFlowCancelled(t *testing.T) {
	ssoWorld(t)
	w := newFakeWorld(&fakeOIDC{tokenErr: manyPending(3)})
	ctx, cancel := context.WithCancel(context.Background())
	sleep := w.g.Sleep
	w.g.Sleep = func(c context.Context, d time.Duration) error {
		if len(w.slept) == 2 {
			cancel()
		}
		return sleep(c, d)
	}
	var out strings.Builder
	err := w.g.Login(ctx, wire.Login{Session: "corp"}, &out, credreq.EnvOf(os.Environ()))
	if err == nil || err.Error() != "sign-in to IAM Identity Center session corp cancelled" || !strings.HasSuffix(out.String(), "\n\n") {
		t.Fatalf("err = %v, terminal %q", err, out.String())
	}
}

// TestDeviceFlowSessionErrors: a session that is not in the config, or
// lacks what a sign-in needs, says where to add it.
func TestDeviceFlowSessionErrors(t *testing.T) {
	ssoWorld(t)
	os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), []byte("[sso-session half]\nsso_region = eu-west-1\n[sso-session corp]\nsso_start_url = https://x\nsso_region = eu-west-1\n"), 0o600)
	w := newFakeWorld(&fakeOIDC{})
	for session, want := range map[string]string{"nope": "no [sso-session nope] in ", "half": "[sso-session half] in "} {
		err := w.g.Login(context.Background(), wire.Login{Session: session}, &strings.Builder{}, credreq.EnvOf(os.Environ()))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", session, err, want)
		}
	}
	if _, err := w.g.Assignments(context.Background(), "nope", credreq.EnvOf(os.Environ())); err == nil || !strings.Contains(err.Error(), "no [sso-session nope]") {
		t.Errorf("Assignments: %v", err)
	}
}

// TestDeviceFlowAgainstTheStandIn: the real OIDC client against the
// stand-in, the browser approving the code it is handed; then the portal
// lists what the new token reaches, and a fetch uses it.
func TestDeviceFlowAgainstTheStandIn(t *testing.T) {
	srv := ssoWorld(t)
	srv.NameSSOAccount("222222222222", "prod")
	// The user's whole environment, as awsrole-sts has it.
	env := credreq.EnvOf(os.Environ())
	env["AWS_ENDPOINT_URL_SSO_OIDC"], env["AWS_ENDPOINT_URL_SSO"] = s(srv.URL), s(srv.URL)
	g := &Getter{Now: time.Now, Sleep: func(context.Context, time.Duration) error { return nil },
		Open: func(addr string, _ browser.Env) error {
			u, err := url.Parse(addr)
			if err != nil {
				return err
			}
			return srv.ApproveDevice(u.Query().Get("user_code"))
		}}
	var out strings.Builder
	if err := g.Login(context.Background(), wire.Login{Session: "corp"}, &out, env); err != nil {
		t.Fatalf("login: %v\n%s", err, out.String())
	}
	list, err := g.Assignments(context.Background(), "corp", env)
	if err != nil || len(list) != 1 || list[0].AccountName != "prod" || list[0].RoleName != "Deploy" {
		t.Fatalf("assignments = %+v, %v", list, err)
	}
	req := Request{SSO: credreq.SSORole{Session: "corp", AccountID: "222222222222", RoleName: "Deploy"}, Duration: time.Hour, Window: 5 * time.Minute}
	if _, err := get(g, req, nil); err != nil {
		t.Fatal(err)
	}
	// The portal refuses the token now: the listing says to sign in again.
	srv.ExpireSSOTokens()
	if _, err := g.Assignments(context.Background(), "corp", env); err == nil || !strings.Contains(err.Error(), "run: awsrole login --sso-session corp") {
		t.Fatalf("assignments with a refused token: %v", err)
	}
}
