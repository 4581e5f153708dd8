package shellgen

// zsh renders the same code as bash: zsh 5.9 reads $'\xNN' as the raw byte
// whatever the locale, including bytes ≥ 0x80 that are not valid UTF-8.
type zsh struct{}

// Name implements Dialect.
func (zsh) Name() string { return "zsh" }

// Export implements Dialect.
func (zsh) Export(changes []Change) (string, error) { return posixExport(changes) }

func (zsh) quote(s string) (string, error) { return posixQuote(s) }
