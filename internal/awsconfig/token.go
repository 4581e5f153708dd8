package awsconfig

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/awsrole/awsrole/internal/privfile"
	"github.com/awsrole/awsrole/internal/termsafe"
)

// Token is an IAM Identity Center sign-in as the aws CLI v2 caches it in
// ~/.aws/sso/cache: the same fields, so `aws sso login`, the SDKs and
// awsrole share one sign-in, and the SDKs can refresh what awsrole wrote.
type Token struct {
	StartURL              string    `json:"startUrl,omitempty"`
	Region                string    `json:"region,omitempty"`
	AccessToken           string    `json:"accessToken"`
	ExpiresAt             time.Time `json:"expiresAt"`
	ClientID              string    `json:"clientId,omitempty"`
	ClientSecret          string    `json:"clientSecret,omitempty"`
	RegistrationExpiresAt time.Time `json:"registrationExpiresAt,omitzero"`
	RefreshToken          string    `json:"refreshToken,omitempty"`
}

// tokenTime is the time format of the token file: RFC 3339 in UTC,
// without fractions, as the aws CLI writes it.
const tokenTime = "2006-01-02T15:04:05Z"

// MarshalJSON writes times as the aws CLI does.
func (t Token) MarshalJSON() ([]byte, error) {
	type plain Token
	out := struct {
		plain
		ExpiresAt             string `json:"expiresAt"`
		RegistrationExpiresAt string `json:"registrationExpiresAt,omitempty"`
	}{plain: plain(t), ExpiresAt: t.ExpiresAt.UTC().Format(tokenTime)}
	if !t.RegistrationExpiresAt.IsZero() {
		out.RegistrationExpiresAt = t.RegistrationExpiresAt.UTC().Format(tokenTime)
	}
	return json.Marshal(out)
}

// ReadToken parses a token file's content.
func ReadToken(data []byte) (Token, error) {
	var t Token
	if err := json.Unmarshal(data, &t); err != nil {
		return Token{}, fmt.Errorf("not an IAM Identity Center token file: %s", oneLine(err.Error()))
	}
	return t, nil
}

// ReadTokenFile reads the token at path (see TokenPath) with the checks
// of every file awsrole reads (privfile.Read): a regular file of the
// user's that nobody else can write, in a directory of theirs that nobody
// else can write either (or the file could be swapped after the check),
// at most privfile.MaxSize, never waiting (a FIFO in its place fails at
// once). Whoever can write the token decides whose portal session, and so
// whose roles, awsrole gets. A missing file is an fs.ErrNotExist.
func ReadTokenFile(path string) (Token, error) {
	data, err := privfile.Read(path)
	if err != nil {
		return Token{}, err
	}
	t, err := ReadToken(data)
	if err != nil {
		return Token{}, fmt.Errorf("%s: %w", termsafe.String(path), err)
	}
	return t, nil
}
