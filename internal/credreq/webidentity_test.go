package credreq_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awsrole/awsrole/internal/credcache"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/testrig"
)

const entryRole = "arn:aws:iam::111111111111:role/ci-entry"

// jwt is a token's shape with claims (no signature: Resolve reads only
// the claims, STS checks the signature).
func jwt(t *testing.T, claims map[string]any) string {
	t.Helper()
	data, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc(data) + "." + enc([]byte("signature"))
}

func writeToken(t *testing.T, tok string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolveWebIdentity(t *testing.T) {
	files := configFiles(t, testrig.AWSConfig, "[keys]\naws_access_key_id = AKIAKEYS\naws_secret_access_key = s\n")
	tok := jwt(t, map[string]any{"iss": "https://gitlab.example", "sub": "project_path:g/p:ref_type:branch:ref:main", "aud": "sts.amazonaws.com", "exp": 4102444800})
	file := writeToken(t, tok)
	role := credreq.Request{RoleARN: roleB, SessionName: "alice"}
	tests := []struct {
		name      string
		req       credreq.Request
		env       credreq.Env
		kind      credreq.SourceKind
		where     string // WebIdentity.Where
		session   string
		wantErr   string
		notInErrs []string
	}{
		{name: "token file", req: role, env: credreq.Env{"AWS_ROLE_ARN": sp(entryRole), "AWS_WEB_IDENTITY_TOKEN_FILE": sp(file)},
			kind: credreq.SourceWebIdentity, where: "token file", session: "alice"},
		{name: "AWS_ROLE_SESSION_NAME is honoured", req: role, env: credreq.Env{"AWS_ROLE_ARN": sp(entryRole), "AWS_WEB_IDENTITY_TOKEN_FILE": sp(file), "AWS_ROLE_SESSION_NAME": sp("ci-42")},
			kind: credreq.SourceWebIdentity, where: "token file", session: "ci-42"},
		{name: "web identity wins over keys in the environment", req: role,
			env:  credreq.Env{"AWS_ROLE_ARN": sp(entryRole), "AWS_WEB_IDENTITY_TOKEN_FILE": sp(file), "AWS_ACCESS_KEY_ID": sp("AKIAUSER"), "AWS_SECRET_ACCESS_KEY": sp("s")},
			kind: credreq.SourceWebIdentity, where: "token file", session: "alice"},
		{name: "source_profile wins over web identity", req: credreq.Request{RoleARN: roleB, SourceProfile: "jump"},
			env: credreq.Env{"AWS_ROLE_ARN": sp(entryRole), "AWS_WEB_IDENTITY_TOKEN_FILE": sp(file)}, kind: credreq.SourceProfile},
		{name: "GitLab's variable", req: role, env: credreq.Env{"AWS_ROLE_ARN": sp(entryRole), "GITLAB_OIDC_TOKEN": sp(tok)},
			kind: credreq.SourceWebIdentity, where: "GITLAB_OIDC_TOKEN", session: "alice"},
		{name: "the file wins over GitLab's variable", req: role, env: credreq.Env{"AWS_ROLE_ARN": sp(entryRole), "GITLAB_OIDC_TOKEN": sp("x"), "AWS_WEB_IDENTITY_TOKEN_FILE": sp(file)},
			kind: credreq.SourceWebIdentity, where: "token file", session: "alice"},
		{name: "GitHub's OIDC request", req: role,
			env:  credreq.Env{"AWS_ROLE_ARN": sp(entryRole), "ACTIONS_ID_TOKEN_REQUEST_URL": sp("https://gh.example/idtoken?api-version=2.0"), "ACTIONS_ID_TOKEN_REQUEST_TOKEN": sp("bearer-secret")},
			kind: credreq.SourceWebIdentity, where: "GitHub Actions", session: "alice"},
		{name: "GitHub's URL without its token is no source", req: role,
			env:  credreq.Env{"AWS_ROLE_ARN": sp(entryRole), "ACTIONS_ID_TOKEN_REQUEST_URL": sp("https://gh.example/idtoken"), "AWS_ACCESS_KEY_ID": sp("AKIAUSER"), "AWS_SECRET_ACCESS_KEY": sp("s")},
			kind: credreq.SourceEnv},
		{name: "AWS_ROLE_ARN alone is no source", req: role, env: credreq.Env{"AWS_ROLE_ARN": sp(entryRole), "AWS_ACCESS_KEY_ID": sp("AKIAUSER"), "AWS_SECRET_ACCESS_KEY": sp("s")},
			kind: credreq.SourceEnv},
		{name: "AWS_ROLE_ARN alone and nothing else", req: role, env: credreq.Env{"AWS_ROLE_ARN": sp(entryRole)},
			wantErr: "no source credentials: AWS_ROLE_ARN is set but no token is: set AWS_WEB_IDENTITY_TOKEN_FILE or GITLAB_OIDC_TOKEN, or in GitHub Actions give the job permissions: id-token: write"},
		{name: "missing token file", req: role, env: credreq.Env{"AWS_ROLE_ARN": sp(entryRole), "AWS_WEB_IDENTITY_TOKEN_FILE": sp("/nonexistent/token")},
			wantErr: "web identity token file /nonexistent/token (AWS_WEB_IDENTITY_TOKEN_FILE) does not exist; write a fresh OIDC token there"},
		{name: "token file that is a directory", req: role, env: credreq.Env{"AWS_ROLE_ARN": sp(entryRole), "AWS_WEB_IDENTITY_TOKEN_FILE": sp(t.TempDir())},
			wantErr: "is not a regular file"},
		{name: "token file without a JWT", req: role, env: credreq.Env{"AWS_ROLE_ARN": sp(entryRole), "AWS_WEB_IDENTITY_TOKEN_FILE": sp(writeToken(t, "not-a-token-SECRETISH"))},
			wantErr: "does not hold a JWT", notInErrs: []string{"SECRETISH"}},
		{name: "GitLab variable without a JWT", req: role, env: credreq.Env{"AWS_ROLE_ARN": sp(entryRole), "GITLAB_OIDC_TOKEN": sp("garbage.SECRETISH.x")},
			wantErr: "GITLAB_OIDC_TOKEN does not hold a JWT", notInErrs: []string{"SECRETISH"}},
	}
	if os.Geteuid() != 0 {
		unreadable := writeToken(t, tok)
		os.Chmod(unreadable, 0)
		tests = append(tests, struct {
			name      string
			req       credreq.Request
			env       credreq.Env
			kind      credreq.SourceKind
			where     string
			session   string
			wantErr   string
			notInErrs []string
		}{name: "unreadable token file", req: role, env: credreq.Env{"AWS_ROLE_ARN": sp(entryRole), "AWS_WEB_IDENTITY_TOKEN_FILE": sp(unreadable)},
			wantErr: "is not readable by you"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := credreq.Resolve(tt.req, tt.env, files, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("err = %v, want one line with %q", err, tt.wantErr)
				}
				for _, s := range tt.notInErrs {
					if strings.Contains(err.Error(), s) {
						t.Fatalf("the error quotes the token: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if src.Kind != tt.kind {
				t.Fatalf("kind %s, want %s", src.Kind, tt.kind)
			}
			if tt.kind != credreq.SourceWebIdentity {
				return
			}
			w := src.WebIdentity
			if w.RoleARN != entryRole || w.SessionName != tt.session || !strings.Contains(w.Where(), tt.where) || !src.Chained {
				t.Fatalf("got %+v (where %q, chained %v), want entry role, session %s, from %s, chained", w, w.Where(), src.Chained, tt.session, tt.where)
			}
			for _, secret := range []string{tok, "bearer-secret"} {
				if strings.Contains(src.Identity, secret) || strings.Contains(src.Describe(), secret) {
					t.Fatalf("the source's identity or description holds a secret: %q", src.Identity)
				}
			}
		})
	}
}

// The entry role's cache entry is named by what names the token's holder
// (issuer, subject, audience) and the role: a fresh token for the same
// job (EKS rotates its file) finds the same entry; another role, issuer
// or subject does not; the token is never part of it.
func TestWebIdentityKey(t *testing.T) {
	cache := credcache.Cache{Dir: t.TempDir()}
	req := credreq.Request{RoleARN: roleB, SessionName: "ci"}
	base := map[string]any{"iss": "https://token.actions.githubusercontent.com", "sub": "repo:o/r:ref:refs/heads/main", "aud": "sts.amazonaws.com", "exp": 4102444800, "jti": "1"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range base {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	key := func(role string, claims map[string]any) (string, string) {
		tok := jwt(t, claims)
		src, err := credreq.Resolve(req, credreq.Env{"AWS_ROLE_ARN": sp(role), "GITLAB_OIDC_TOKEN": sp(tok)}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		steps := cache.Plan(req, src)
		if len(steps) != 2 || steps[0].Kind != "source" || steps[0].Label != role || steps[1].Label != roleB {
			t.Fatalf("plan %+v, want the entry role then the directory's", steps)
		}
		return steps[0].Path, tok
	}
	first, tok := key(entryRole, base)
	if strings.Contains(first, tok) {
		t.Fatal("the key holds the token")
	}
	if again, _ := key(entryRole, with("jti", "2")); again != first {
		t.Error("a fresh token of the same holder changed the key")
	}
	if again, _ := key(entryRole, with("exp", 4102444900)); again != first {
		t.Error("a token with a later expiry changed the key")
	}
	for name, other := range map[string]func() (string, string){
		"entry role": func() (string, string) { return key("arn:aws:iam::111111111111:role/other", base) },
		"issuer":     func() (string, string) { return key(entryRole, with("iss", "https://gitlab.com")) },
		"subject":    func() (string, string) { return key(entryRole, with("sub", "repo:o/r:ref:refs/heads/dev")) },
		"audience":   func() (string, string) { return key(entryRole, with("aud", "other")) },
	} {
		if p, _ := other(); p == first {
			t.Errorf("another %s gave the same key", name)
		}
	}
}
