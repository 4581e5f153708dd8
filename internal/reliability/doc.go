// Package reliability proves that awsrole loses nothing and hangs nothing
// when things go wrong: broken .awsrole.toml files, faults at STS, awsrole
// killed mid-call, damaged state and cache files, a read-only or full state
// directory, and many shells moving between projects at once.
//
// Every test drives the real binary (built once in TestMain) from real bash
// processes, evaluates its output there and compares the environment before
// and after, byte for byte, with the STS stand-in (internal/stsstub) counting
// calls.
//
// The default run takes about a minute on two cores:
//
//	go test ./internal/reliability/
//
// The long run (at least 500 crash trials, 32 shells for a minute, and
// pruning checked after the one-minute grace period) takes a few minutes:
//
//	go test ./internal/reliability/ -long -timeout 30m
//	RELIABILITY_LONG=1 go test ./internal/reliability/ -timeout 30m
//
// The crash and many-shell tests log their random seed; RELIABILITY_SEED=N
// repeats a run. Tests that need a private mount namespace (a read-only or
// full state directory) skip, saying why, where `unshare -rm` is not
// allowed; tests that give files away to another uid skip where chown is
// not allowed, and the unreadable-file case skips as root.
//
// Everything lives in the _test.go files; this file only names the package.
package reliability
