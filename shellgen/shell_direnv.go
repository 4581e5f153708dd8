package shellgen

import "errors"

// direnv is awsrole's direnv library (hooks/awsrole.direnv), which defines
// `use awsrole` for an .envrc. It is bash code, so it quotes as bash; its
// variables come from `awsrole direnv`, not `awsrole export`.
type direnv struct{ noSteady }

// Name implements Shell.
func (direnv) Name() string { return "direnv" }

// Uses implements Shell.
func (direnv) Uses() Use { return UseHook | UseInstall }

// Quote implements Shell.
func (direnv) Quote(s string) (string, error) { return posixQuote(s) }

// Export implements Shell: direnv computes the diff itself from bash code.
func (direnv) Export([]Change) (string, error) {
	return "", errors.New("direnv reads `awsrole direnv`, not `awsrole export`")
}

// Install implements Shell: $XDG_CONFIG_HOME/direnv/lib/awsrole.sh, a file
// of awsrole's own that direnv sources before every .envrc.
func (d direnv) Install(bin string, env func(string) string) (Install, error) {
	line, err := evalLine(d, bin)
	if err != nil {
		return Install{}, err
	}
	file, err := configFile(env, "direnv", "lib", "awsrole.sh")
	return Install{File: file, Block: line, Owned: true}, err
}
