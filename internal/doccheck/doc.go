// Package doccheck holds the checks of the documentation, as tests: every
// relative link in every Markdown file resolves (file and heading), every
// package of the module is on docs/architecture.md, and the shell blocks
// the docs mark "# runs-in-ci" run in a throwaway HOME against the local
// STS stand-in. It has no code of its own.
package doccheck
