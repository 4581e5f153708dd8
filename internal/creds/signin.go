package creds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/awsrole/awsrole/internal/credcache"
)

// SigninToken asks the console federation endpoint for a sign-in token
// (getSigninToken). tokenURL holds the credentials: no error repeats it,
// only the host it went to.
func SigninToken(ctx context.Context, tokenURL string) (string, error) {
	u, err := url.Parse(tokenURL)
	if err != nil {
		return "", errors.New("console sign-in: the federation URL does not parse")
	}
	host := u.Scheme + "://" + u.Host + u.Path
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, tokenURL, nil)
	if err != nil {
		return "", errors.New("console sign-in: the federation URL does not parse")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, credentials and all
		}
		return "", fmt.Errorf("console sign-in: cannot reach %s: %s", host, credcache.OneLine(err.Error()))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("console sign-in: %s answered %s: %s", host, resp.Status, credcache.OneLine(string(body)))
	}
	var out struct{ SigninToken string }
	if err := json.Unmarshal(body, &out); err != nil || out.SigninToken == "" {
		return "", fmt.Errorf("console sign-in: %s answered without a SigninToken", host)
	}
	return out.SigninToken, nil
}
