package creds

import (
	"github.com/awsrole/awsrole/internal/awsconfig"
	"github.com/awsrole/awsrole/internal/browser"
	"github.com/awsrole/awsrole/internal/credreq"
)

// endpointVars are the endpoint variables of the standard AWS environment
// that awsrole's calls go through: the SDK reads them itself, and errors
// name the endpoint they set.
var endpointVars = []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"}

// Environ is what of the user's environment decides how AWS is reached and
// how a sign-in is shown, beyond the credentials themselves. It comes from
// the environment the caller hands down (awsrole-sts's own, read where the
// request is built): nothing in this package reads or changes the
// process's environment, which the long-lived endpoint server shares
// between requests.
type Environ struct {
	// Endpoints holds each of endpointVars that is set: where the SDK
	// sends its calls, named in errors.
	Endpoints map[string]string
	// IMDS: the SDK may ask the EC2 instance metadata service, only with
	// AWS_EC2_METADATA_DISABLED=false (a laptop has none, and asking costs
	// seconds at every failed entry).
	IMDS bool
	// Browser opens a sign-in's address.
	Browser browser.Env
	// AWS are the user's shared config files and token cache.
	AWS awsconfig.Paths
}

// NewEnviron reads Environ from env.
func NewEnviron(env credreq.Env) Environ {
	e := Environ{Endpoints: map[string]string{}, IMDS: env.Get("AWS_EC2_METADATA_DISABLED") == "false", Browser: browser.FromEnv(env.Get),
		AWS: awsconfig.PathsFromEnv(env.Get)}
	for _, k := range endpointVars {
		if v := env.Get(k); v != "" {
			e.Endpoints[k] = v
		}
	}
	return e
}

// endpoint is the endpoint envVar names, else AWS_ENDPOINT_URL's, else "".
func (e Environ) endpoint(envVar string) string {
	if v := e.Endpoints[envVar]; v != "" {
		return v
	}
	return e.Endpoints["AWS_ENDPOINT_URL"]
}
