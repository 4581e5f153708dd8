// Command demo shows awsrole's main job with no AWS account: it builds
// awsrole, starts the local STS stand-in, installs the hook into a throwaway
// HOME and drives a real interactive bash through enter → use → leave,
// printing each step. Run it from the repository root: go run ./internal/demo
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/stsstub"
)

const (
	userKey    = "AKIAIOSFODNN7EXAMPLE"
	userSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	userARN    = "arn:aws:iam::111111111111:user/alice"
)

// script is what the demo types into bash, one line at a time; the hook runs
// before every line, as it does before every prompt.
const script = `say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
show() { for v in AWS_ACCESS_KEY_ID AWS_REGION AWS_DEFAULT_REGION AWS_PROFILE AWSROLE_ARN; do if [ -n "${!v+set}" ]; then printf '  %-18s = %q\n' "$v" "${!v}"; else printf '  %-18s   (unset)\n' "$v"; fi; done; }
say "# your own environment, before entering the project"; show
say aws sts get-caller-identity; aws sts get-caller-identity --query Arn --output text
say "cd ~/src/payments"
cd ~/src/payments
say "# the hook ran before this prompt: the project's role is active"; show
say aws sts get-caller-identity; aws sts get-caller-identity --query Arn --output text
say awsrole status; awsrole status
say "cd ~"
cd ~
say "# left the project: your own variables are back, exactly"; show
say aws sts get-caller-identity; aws sts get-caller-identity --query Arn --output text
say "cd ~/src/platform   # an IAM Identity Center (SSO) permission set, signed in with 'awsrole login'"
cd ~/src/platform
say "# the permission set's role, and the region of the project"; show
say aws sts get-caller-identity; aws sts get-caller-identity --query Arn --output text
say awsrole status; awsrole status
say "cd ~"
cd ~
say "# your own variables again"; show
`

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	for _, tool := range []string{"bash", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is needed for the demo", tool)
		}
	}
	hasAWS := true
	if _, err := exec.LookPath("aws"); err != nil {
		hasAWS = false
	}
	tmp, err := os.MkdirTemp("", "awsrole-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bin")
	fmt.Println("building awsrole …")
	build := exec.Command("go", "build", "-o", bin+"/", "./cmd/awsrole", "./cmd/awsrole-sts")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // static, as README installs it
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/awsrole ./cmd/awsrole-sts (run the demo from the repository root): %w", err)
	}

	srv, err := stsstub.Start()
	if err != nil {
		return err
	}
	defer srv.Close()
	srv.AddUser(userKey, userSecret, userARN)
	fmt.Printf("local STS stand-in at %s (it checks every request's SigV4 signature)\n", srv.URL)

	home := filepath.Join(tmp, "home")
	project := filepath.Join(home, "src", "payments")
	if err := os.MkdirAll(project, 0o755); err != nil {
		return err
	}
	toml := "role_arn = \"arn:aws:iam::222222222222:role/deploy\"\nregion = \"eu-west-1\"\n"
	if err := os.WriteFile(filepath.Join(project, ".awsrole.toml"), []byte(toml), 0o644); err != nil {
		return err
	}
	platform, err := ssoProject(srv, home)
	if err != nil {
		return err
	}
	env := []string{
		"HOME=" + home,
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"TERM=dumb",
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"AWS_CONFIG_FILE=" + filepath.Join(home, ".aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, ".aws", "credentials"),
		"AWS_ENDPOINT_URL_STS=" + srv.URL,
		"AWS_ENDPOINT_URL_SSO=" + srv.URL,
		"AWS_ENDPOINT_URL_SSO_OIDC=" + srv.URL,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PROFILE=alice", // alice's keys are in ~/.aws/credentials
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=", // set to the empty string: it comes back empty, not unset
	}
	for _, step := range [][]string{{"awsrole", "install", "bash"}, {"awsrole", "allow", project}, {"awsrole", "allow", platform}} {
		fmt.Printf("\n\033[1m$ %s\033[0m\n", strings.Join(step, " "))
		cmd := exec.Command(filepath.Join(bin, step[0]), step[1:]...)
		cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, home, os.Stdout, os.Stdout
		if err := cmd.Run(); err != nil {
			return err
		}
	}
	credsFile := fmt.Sprintf("[alice]\naws_access_key_id = %s\naws_secret_access_key = %s\n", userKey, userSecret)
	if err := os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte(credsFile), 0o600); err != nil {
		return err
	}
	text := script
	if !hasAWS {
		fmt.Println("\n(the aws CLI is not installed: skipping its calls; the variables still show each step)")
		text = strings.ReplaceAll(text, "aws sts get-caller-identity --query Arn --output text", "true")
	}
	// An interactive bash reading the steps from a pipe runs PROMPT_COMMAND,
	// and so the hook, before every line, as at a terminal.
	sh := exec.Command("bash", "--noediting", "-i")
	sh.Env, sh.Dir = append(env, "PS1="), home
	sh.Stdin = strings.NewReader(text + "exit\n")
	var stderr bytes.Buffer
	sh.Stdout, sh.Stderr = os.Stdout, &stderr
	err = sh.Run()
	for _, line := range strings.SplitAfter(stderr.String(), "\n") {
		if strings.HasPrefix(line, "bash: cannot set terminal process group") || strings.HasPrefix(line, "bash: no job control") || strings.TrimSpace(line) == "exit" {
			continue
		}
		os.Stdout.WriteString(line)
	}
	if err != nil {
		return fmt.Errorf("bash: %w", err)
	}
	fmt.Println()
	for _, c := range srv.Calls() {
		switch c.Action {
		case "AssumeRole":
			fmt.Printf("STS saw AssumeRole %s, signed with key %s (alice's own: %v)\n", c.RoleArn, c.AccessKeyID, c.AccessKeyID == userKey)
		case "GetRoleCredentials":
			fmt.Printf("the IAM Identity Center portal saw GetRoleCredentials for %s in account %s, with alice's sign-in\n", c.RoleName, c.AccountID)
		}
	}
	return nil
}

// ssoProject signs alice in to IAM Identity Center as 'awsrole login' (or
// 'aws sso login') would leave it, and writes a project that uses one of
// her permission sets; it returns the project's directory.
func ssoProject(srv *stsstub.Server, home string) (string, error) {
	const startURL = "https://demo.awsapps.com/start"
	srv.AssignSSO("333333333333", "Platform")
	access, refresh := srv.IssueSSOToken(startURL, 8*time.Hour)
	id, secret, regExp := srv.SSOClient()
	tok, err := json.Marshal(awsconfig.Token{StartURL: startURL, Region: "eu-west-1", AccessToken: access, RefreshToken: refresh,
		ExpiresAt: time.Now().Add(8 * time.Hour), ClientID: id, ClientSecret: secret, RegistrationExpiresAt: regExp})
	if err != nil {
		return "", err
	}
	tokenPath := awsconfig.PathsFromEnv(func(k string) string { return map[string]string{"HOME": home}[k] }).TokenPath("demo")
	config := "[sso-session demo]\nsso_start_url = " + startURL + "\nsso_region = eu-west-1\n"
	project := filepath.Join(home, "src", "platform")
	toml := "sso_session    = \"demo\"\nsso_account_id = \"333333333333\"\nsso_role_name  = \"Platform\"\nregion         = \"eu-north-1\"\n"
	for path, content := range map[string]string{tokenPath: string(tok), filepath.Join(home, ".aws", "config"): config,
		filepath.Join(project, ".awsrole.toml"): toml} {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return "", err
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return "", err
		}
	}
	return project, nil
}
