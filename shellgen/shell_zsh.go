package shellgen

import "path/filepath"

// zsh renders the same code as bash: zsh 5.9 reads $'\xNN' as the raw byte
// whatever the locale, including bytes ≥ 0x80 that are not valid UTF-8. Its
// hook (hooks/awsrole.zsh) runs from precmd and chpwd.
type zsh struct{}

// Name implements Shell.
func (zsh) Name() string { return "zsh" }

// Uses implements Shell.
func (zsh) Uses() Use { return UseHook | UseExport | UseInstall | UsePrompt }

// Export implements Shell.
func (zsh) Export(changes []Change) (string, error) { return posixExport(changes) }

// Quote implements Shell.
func (zsh) Quote(s string) (string, error) { return posixQuote(s) }

// Steady implements Shell.
func (zsh) Steady(f Facts) (string, error) { return posixSteady(f, watchList) }

// Install implements Shell: one eval line in ${ZDOTDIR:-~}/.zshrc.
func (z zsh) Install(bin string, env func(string) string) (Install, error) {
	line, err := evalLine(z, bin)
	if err != nil {
		return Install{}, err
	}
	if dir := env("ZDOTDIR"); dir != "" {
		return Install{File: filepath.Join(dir, ".zshrc"), Block: line}, nil
	}
	file, err := homeFile(env, ".zshrc")
	return Install{File: file, Block: line}, err
}
