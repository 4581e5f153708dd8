package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/credreq"
	"github.com/awsrole/awsrole/internal/engine"
	"github.com/awsrole/awsrole/internal/human"
	"github.com/awsrole/awsrole/internal/termsafe"
	"github.com/awsrole/awsrole/internal/transition"
)

// statusReport is what `awsrole status` shows; it never holds a secret.
type statusReport struct {
	Dir        string        `json:"dir"`
	File       string        `json:"file,omitempty"`
	FileError  string        `json:"file_error,omitempty"`
	Trust      string        `json:"trust,omitempty"`
	RoleARN    string        `json:"role_arn,omitempty"`
	Via        []string      `json:"via,omitempty"` // roles assumed before RoleARN, in order
	Env        string        `json:"environment,omitempty"`
	Confirm    bool          `json:"confirm,omitempty"`
	Region     string        `json:"region,omitempty"`
	RegionFrom string        `json:"region_from,omitempty"`
	Source     string        `json:"source,omitempty"`
	SSO        string        `json:"sso,omitempty"` // the sign-in's state, for an IAM Identity Center source
	Duration   string        `json:"duration,omitempty"`
	Capped     string        `json:"duration_capped,omitempty"`  // why the duration STS grants is shorter
	Granted    string        `json:"duration_granted,omitempty"` // the duration STS grants, when capped
	Active     *activeReport `json:"active,omitempty"`
	StateErr   string        `json:"state_error,omitempty"`
	Mode       string        `json:"mode,omitempty"` // the user config's credentials: env or endpoint
	Endpoint   *serverReport `json:"endpoint,omitempty"`
	// Failed is this shell's last try at the file, when it failed and
	// nothing it depends on has changed since: what the prompt said.
	Failed *failureReport `json:"last_failure,omitempty"`
}

// failureReport is a failure the shell was told of, as status repeats it.
type failureReport struct {
	At    time.Time `json:"at"`
	Error string    `json:"error"`
}

// serverReport is the credential endpoint as status shows it.
type serverReport struct {
	Running bool           `json:"running"`
	PID     int            `json:"pid,omitempty"`
	Port    int            `json:"port,omitempty"`
	Served  []servedReport `json:"served,omitempty"`
}

type servedReport struct {
	ID         string    `json:"id"`
	RoleARN    string    `json:"role_arn"`
	Dir        string    `json:"dir"`
	Expiration time.Time `json:"expiration,omitzero"`
	Error      string    `json:"error,omitempty"`
}

type activeReport struct {
	RoleARN    string    `json:"role_arn"`
	Dir        string    `json:"dir"`
	File       string    `json:"file"`
	Expiration time.Time `json:"expiration"`
	Snapshot   string    `json:"snapshot,omitempty"`
	Via        string    `json:"via"` // "hook" or "direnv"
	// URI is the credential endpoint this shell's programs renew from
	// (endpoint mode), "" when it holds the keys.
	URI string `json:"endpoint_uri,omitempty"`
}

func statusCmd() *cobra.Command {
	var asJSON, short, color bool
	c := &cobra.Command{
		Use:   "status",
		Short: "Show which file applies here, its role and trust, and what this shell has active",
		Example: `  awsrole status
  awsrole status --json
  awsrole status --short --color   # for a prompt: deploy@222222222222 (prod) 54m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if short {
				// For prompts: the environment only, no file read.
				if line := shortStatus(os.Getenv("AWSROLE_ARN"), os.Getenv("AWS_CREDENTIAL_EXPIRATION"), os.Getenv("AWSROLE_ENV"), time.Now()); line != "" {
					line = oneLine(line)
					if color {
						line = colorize(line, os.Getenv("AWSROLE_ENV"))
					}
					fmt.Fprintln(cmd.OutOrStdout(), line)
				}
				return nil
			}
			r := status()
			if asJSON {
				// Values stay exact; the runes encoding/json leaves raw
				// that a terminal would act on (C1, bidi, DEL) become
				// \u escapes.
				data, err := json.MarshalIndent(r, "", "  ")
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(append(termsafe.JSON(data), '\n'))
				return err
			}
			printStatus(cmd.OutOrStdout(), r, time.Now())
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	c.Flags().BoolVar(&short, "short", false, "one line for a prompt, from the environment only: role (account), environment and time left; nothing when no role is active")
	c.Flags().BoolVar(&color, "color", false, "with --short: colour the line by environment (environment_colors in the user config; prod is red by default)")
	return c
}

func status() statusReport {
	var r statusReport
	r.Dir, _ = os.Getwd()
	env := environ()
	res := newEngine().Resolve(r.Dir, env)
	switch {
	case res.FindErr != nil:
		r.FileError = res.FindErr.Error()
	case res.Path != "":
		fileStatus(&r, res)
	}
	if res.UserErr == nil {
		r.Mode = res.User.CredentialsMode
	}
	r.Endpoint = endpointStatus(r.Mode)
	if res.SnapshotPath != "" {
		if snap := res.Snapshot; res.SnapshotErr != nil {
			r.StateErr = res.SnapshotErr.Error()
		} else {
			r.Active = &activeReport{RoleARN: snap.RoleARN, Dir: snap.Dir, File: snap.File, Expiration: snap.Expiration, Snapshot: res.SnapshotPath, Via: "hook"}
			if _, ok := snap.Applied["AWS_CONTAINER_CREDENTIALS_FULL_URI"]; ok {
				r.Active.URI = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
			}
		}
	} else if arn := env["AWSROLE_ARN"]; arn != "" && env["DIRENV_DIR"] != "" {
		// Loaded by direnv's `use awsrole`: direnv holds the originals.
		exp, _ := time.Parse(time.RFC3339, env["AWS_CREDENTIAL_EXPIRATION"])
		r.Active = &activeReport{RoleARN: arn, Dir: env["AWSROLE_DIR"], Expiration: exp, Via: "direnv"}
	}
	return r
}

// fileStatus reports the file res found: its trust, its project, and this
// shell's last failure at it.
func fileStatus(r *statusReport, res *engine.Resolution) {
	r.File = res.Path
	cfg, err := res.Shown()
	if err != nil {
		r.FileError = err.Error()
		return
	}
	if r.Trust, err = res.TrustOf(cfg); err != nil {
		r.FileError = err.Error()
		return
	}
	shell := os.Getppid() // the shell status runs in, unless its snapshot says
	if res.Snapshot != nil {
		shell = res.Snapshot.PID
	}
	proj, err := res.ProjectOf(cfg)
	if err != nil {
		r.RoleARN = engine.Label(cfg)
		r.FileError = err.Error()
		r.Failed = standingFailure(shell, res.Path, cfg.Hash)
		return
	}
	// The hook records a failed try with the state of every file it
	// read (the SSO token's included): it stands while they are so.
	r.Failed = standingFailure(shell, res.Path, cfg.Hash+proj.Watched())
	r.RoleARN, r.Region, r.RegionFrom = proj.Label(), proj.Region, proj.RegionFrom
	r.Via, r.Env, r.Confirm = cfg.Via, cfg.Environment, cfg.Confirm
	r.Source, r.Duration, r.Capped = proj.Source.Describe(), proj.Duration.String(), proj.CappedBy
	if proj.CappedBy != "" {
		// What the file or user config asks, and what STS grants.
		r.Duration, r.Granted = proj.Request.Duration.String(), proj.Duration.String()
	}
	r.SSO = ssoState(proj, r.Failed, time.Now())
}

func printStatus(w io.Writer, r statusReport, now time.Time) {
	switch {
	case r.File == "" && r.FileError == "":
		fmt.Fprintf(w, "file:    none (no %s in %s or above)\n", engine.FileName, oneLine(r.Dir))
	case r.FileError != "":
		// What is known before the error: the trust, and the role.
		fmt.Fprintf(w, "file:    %s", oneLine(r.File))
		if r.Trust != "" {
			fmt.Fprintf(w, " (%s)", oneLine(r.Trust))
		}
		if r.RoleARN != "" {
			fmt.Fprintf(w, "\nrole:    %s", oneLine(roleLine(r.RoleARN)))
		}
		fmt.Fprintf(w, "\nerror:   %s\n", oneLine(r.FileError))
	default:
		printFile(w, r)
	}
	if r.Failed != nil {
		fmt.Fprintf(w, "failed:  at %s, this shell was told: %s\n", human.Time(r.Failed.At), oneLine(r.Failed.Error))
	}
	switch {
	case r.StateErr != "":
		fmt.Fprintf(w, "active:  unknown: %s\n", oneLine(r.StateErr))
	case r.Active == nil:
		fmt.Fprintf(w, "active:  nothing in this shell\n")
	default:
		fmt.Fprintf(w, "active:  %s (from %s, via %s)\n", oneLine(r.Active.RoleARN), oneLine(r.Active.Dir), oneLine(r.Active.Via))
		if r.Active.URI != "" {
			fmt.Fprintf(w, "renew:   %s\n", oneLine(endpointRenewal(r.Active.URI, r.Endpoint, now)))
			break
		}
		fmt.Fprintf(w, "expires: %s\n", expiry(r.Active.Expiration, now))
		if r.Active.Via == "direnv" {
			fmt.Fprintf(w, "renew:   direnv has no timer: run 'direnv reload' (or cd out and back) to renew; awsrole hands out credentials with at least refresh_before left\n")
		}
	}
	printEndpoint(w, r, now)
}

// roleLine is the role as status shows it: an IAM Identity Center
// permission set's label says what it stands for, and where the role's
// real name is seen.
func roleLine(label string) string {
	rest, ok := strings.CutPrefix(label, credreq.SSOPrefix)
	account, name, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		return label
	}
	return fmt.Sprintf("%s: IAM Identity Center permission set %s in account %s (its IAM role is AWSReservedSSO_%s_<id>, as aws sts get-caller-identity shows)",
		label, name, account, name)
}

// expiry is when credentials expire, and how long from now: "2026-01-02
// 01:27 CET (in 54m0s)", or "2026-01-02 01:27 CET (expired)".
func expiry(t, now time.Time) string {
	if !now.Before(t) {
		// A renewal failed and the project keeps its own credentials:
		// requests fail with ExpiredToken until one succeeds.
		return human.Time(t) + " (expired)"
	}
	return human.Time(t) + " (in " + t.Sub(now).Round(time.Second).String() + ")"
}

// endpointRenewal is the renew line of a shell in endpoint mode: where its
// programs renew, and what the endpoint last did for them.
func endpointRenewal(uri string, e *serverReport, now time.Time) string {
	line := "by the SDKs from " + uri
	if e == nil || !e.Running {
		return line + ", where no server answers now: programs cannot renew until the hook starts one (it does when a shell enters a project)"
	}
	id := uri[strings.LastIndex(uri, "/")+1:]
	for _, s := range e.Served {
		if s.ID != id {
			continue
		}
		if s.Expiration.IsZero() {
			return line + "; nothing served since the server started: " + s.Error
		}
		line += "; the credentials served last expire " + expiry(s.Expiration, now)
		if s.Error != "" {
			line += "; the last renewal failed: " + s.Error
		}
		return line
	}
	return line + "; nothing served since the server started (programs fetch at their first AWS call)"
}

// endpointStatus reports the credential endpoint: always in endpoint mode,
// else only when one runs.
func endpointStatus(mode string) *serverReport {
	store := endpointStore()
	i, ok := store.Running()
	if !ok && mode != engine.CredentialsEndpoint {
		return nil
	}
	r := &serverReport{Running: ok, PID: i.PID, Port: i.Port}
	served := store.ReadServed()
	for _, id := range transition.Names(served) {
		s := served[id]
		r.Served = append(r.Served, servedReport{ID: id, RoleARN: s.Role, Dir: s.Dir, Expiration: s.Expiration, Error: s.Error})
	}
	return r
}

func printEndpoint(w io.Writer, r statusReport, now time.Time) {
	if r.Mode != "" {
		fmt.Fprintf(w, "mode:    %s\n", r.Mode)
	}
	e := r.Endpoint
	if e == nil {
		return
	}
	if !e.Running {
		fmt.Fprintf(w, "server:  not running (the hook starts it when a shell enters a project)\n")
		return
	}
	fmt.Fprintf(w, "server:  pid %d, http://127.0.0.1:%d\n", e.PID, e.Port)
	for _, s := range e.Served {
		line := "credentials served expire " + expiry(s.Expiration, now)
		switch {
		case s.Expiration.IsZero() && s.Error != "":
			line = "nothing served since the server started: " + s.Error
		case s.Expiration.IsZero():
			line = "nothing served since the server started"
		case s.Error != "":
			line += "; the last renewal failed: " + s.Error
		}
		fmt.Fprintf(w, "served:  %s (%s): %s\n", oneLine(s.RoleARN), oneLine(s.Dir), oneLine(line))
	}
}

// shortStatus is `status --short`: "deploy@222222222222 54m",
// "deploy@222222222222 (prod) 54m", "… expired", or "" when no role is
// active.
func shortStatus(arn, expiration, env string, now time.Time) string {
	if arn == "" {
		return ""
	}
	line := shortRole(arn)
	if env != "" {
		line += " (" + env + ")"
	}
	exp, err := time.Parse(time.RFC3339, expiration)
	switch left := exp.Sub(now); {
	case err != nil:
	case left <= 0:
		line += " expired"
	default:
		line += " " + strings.TrimSuffix(left.Truncate(time.Minute).String(), "0s")
	}
	return line
}

// ssoState says whether the sign-in of an IAM Identity Center source is
// valid, and until when; "" for other sources. A token whose file says it
// is valid is not called so when this shell's last try (failed, nil if
// none stands) was told to sign in again: the portal refused it (a
// sign-out or a revocation elsewhere), and the prompt said so.
func ssoState(p *engine.Project, failed *failureReport, now time.Time) string {
	s := p.Source.SSO
	if s == nil {
		return ""
	}
	fix := "run: " + p.Source.LoginCommand()
	if p.Request.SSOLogin && s.Session != "" {
		fix = `the next cd here signs you in on the terminal (sso_login = "auto"), or ` + fix
	}
	tok, err := awsconfig.ReadTokenFile(s.TokenPath)
	switch {
	case err != nil:
		return "not signed in; " + fix
	case tok.ExpiresAt.After(now) && failed != nil && strings.Contains(failed.Error, "run: "+p.Source.LoginCommand()):
		return "refused at the last try here (" + human.Time(failed.At) + ") though the token on file runs until " +
			human.Time(tok.ExpiresAt) + " (signed out or revoked elsewhere); " + fix
	case tok.ExpiresAt.After(now):
		return "valid until " + human.Time(tok.ExpiresAt)
	case tok.RefreshToken != "" && (tok.RegistrationExpiresAt.IsZero() || tok.RegistrationExpiresAt.After(now)):
		return "expired at " + human.Time(tok.ExpiresAt) + "; renewed with its refresh token at the next entry, or " + fix
	}
	return "expired at " + human.Time(tok.ExpiresAt) + "; " + fix
}

// shortRole is "NAME@ACCOUNT" for arn:aws:iam::ACCOUNT:role/path/NAME.
func shortRole(arn string) string { return engine.ShortRole(arn) }

// defaultColors colour the usual environment names when the user config
// says nothing of them.
var defaultColors = map[string]string{"prod": "red", "production": "red", "staging": "yellow", "stage": "yellow", "dev": "green", "test": "green"}

// colorize wraps line in the ANSI colour of env: the user config's
// environment_colors, else defaultColors; a line with no colour is left as is.
func colorize(line, env string) string {
	name := defaultColors[strings.ToLower(env)]
	if user := stores().Resolve("", nil).User; user != nil {
		if c, ok := user.EnvironmentColors[env]; ok {
			name = c
		}
	}
	code, ok := engine.ColorCode(name)
	if !ok {
		return line
	}
	return fmt.Sprintf("\x1b[%dm%s\x1b[0m", code, line)
}

// standingFailure is shell pid's last failure at file if it was recorded
// with hash, i.e. nothing it depends on has changed since.
func standingFailure(pid int, file, hash string) *failureReport {
	f, ok := stores().LastFailure(pid)
	if !ok || f.File != file || f.Hash != hash || f.Error == "" {
		return nil
	}
	return &failureReport{At: f.At, Error: f.Error}
}

// printFile prints what status knows of a file that applies and works.
func printFile(w io.Writer, r statusReport) {
	fmt.Fprintf(w, "file:    %s (%s)\nrole:    %s\n", oneLine(r.File), oneLine(r.Trust), oneLine(roleLine(r.RoleARN)))
	if len(r.Via) > 0 {
		fmt.Fprintf(w, "chain:   %s -> %s\n", oneLine(strings.Join(r.Via, " -> ")), oneLine(r.RoleARN))
	}
	if r.Env != "" {
		confirm := ""
		if r.Confirm {
			confirm = " (asks before entering)"
		}
		fmt.Fprintf(w, "env:     %s%s\n", oneLine(r.Env), confirm)
	}
	fmt.Fprintf(w, "source:  %s\n", oneLine(r.Source))
	if r.SSO != "" {
		fmt.Fprintf(w, "sign-in: %s\n", oneLine(r.SSO))
	}
	if r.Region != "" {
		fmt.Fprintf(w, "region:  %s (from %s)\n", oneLine(r.Region), oneLine(r.RegionFrom))
	}
	if r.Capped != "" {
		fmt.Fprintf(w, "duration: %s asked, %s granted: %s\n", r.Duration, r.Granted, oneLine(r.Capped))
	}
}
