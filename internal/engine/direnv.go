package engine

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/awsrole/awsrole/dirconfig"
)

// InlineConfig validates `use awsrole ROLE_ARN key=value...` as if it were a
// .awsrole.toml, so it gets the same keys and checks.
func InlineConfig(envrc string, args []string) (*dirconfig.Config, error) {
	m := map[string]string{"role_arn": args[0]}
	for _, kv := range args[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s: use awsrole: %q is not key=value; e.g. region=eu-west-1", envrc, kv)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("%s: use awsrole: %s given twice", envrc, k)
		}
		m[k] = v
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(m); err != nil {
		return nil, err
	}
	cfg, err := dirconfig.Parse(envrc, buf.Bytes())
	if err != nil {
		return nil, err
	}
	// policy_file is relative to the .envrc's directory, with a project
	// file's rules; read here, or the role would be assumed un-narrowed.
	if err := cfg.LoadPolicyFile(); err != nil {
		return nil, err
	}
	return cfg, nil
}
