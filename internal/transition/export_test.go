package transition

// String names a kind in test failures.
func (k Kind) String() string {
	return [...]string{"stay", "enter", "leave", "switch", "refresh"}[k]
}
