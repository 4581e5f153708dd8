package hooks

// String returns the Action, for test failures.
func (o Outcome) String() string { return o.Action }
