package shellgen

// Test-only entry points: shipped code reaches the registry through Get
// and lookupAny.

// Lookup returns the shell `awsrole export` accepts under name.
func Lookup(name string) (Shell, error) { return Get(name, UseExport) }

// RCLine returns the block `awsrole install` writes for shell: for bash and
// zsh `eval "$(BIN hook SHELL)"`, for fish `BIN hook fish | source`.
func RCLine(shell, binPath string) (string, error) {
	in, err := InstallFor(shell, binPath, func(string) string { return "/nonexistent" })
	return in.Block, err
}

// Steady renders f for the named shell's hook: "" for a hook that has no
// fast path.
func Steady(shell string, f Facts) (string, error) {
	s, err := lookupAny(shell)
	if err != nil {
		return "", err
	}
	return s.Steady(f)
}
