package engine

import (
	"fmt"
	"runtime"
	"strings"
)

// Catch, deferred, turns a panic into *err: an ordinary failure, one line,
// naming where it happened and nothing of the values at hand (a panic's
// value or stack may hold a secret). A command that fails this way changes
// nothing, and the hook treats it as any failure.
//
//	defer engine.Catch(&err)
func Catch(err *error) {
	r := recover()
	if r == nil {
		return
	}
	what := "a panic"
	if re, ok := r.(runtime.Error); ok {
		// The runtime's own text names the fault, never a value.
		what = re.Error()
	}
	*err = fmt.Errorf("internal error (%s) in %s; please report it", what, panicSite())
}

// panicSite is the function that panicked, as package.Function.
func panicSite() string {
	pc := make([]uintptr, 32)
	frames := runtime.CallersFrames(pc[:runtime.Callers(3, pc)])
	panicking := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			panicking = true
		case panicking && !strings.HasPrefix(f.Function, "runtime."):
			name := f.Function
			if i := strings.LastIndexByte(name, '/'); i >= 0 {
				name = name[i+1:]
			}
			return name
		}
		if !more {
			return "awsrole"
		}
	}
}
