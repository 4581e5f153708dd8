package testrig

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestBusyBounds: with one slot, two parallel tests never work at once.
func TestBusyBounds(t *testing.T) {
	b := newBusy(1)
	var now, most atomic.Int32
	t.Run("group", func(t *testing.T) {
		for _, name := range []string{"a", "b", "c"} {
			t.Run(name, func(t *testing.T) {
				b.Parallel(t)
				n := now.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(50 * time.Millisecond)
				now.Add(-1)
			})
		}
	})
	if most.Load() != 1 {
		t.Errorf("%d tests held the one slot at once", most.Load())
	}
}

// TestBusyWaitFreesTheSlot: after Wait the one slot is free for another
// test while the waiting one still runs, and its end frees nothing twice.
func TestBusyWaitFreesTheSlot(t *testing.T) {
	b := newBusy(1)
	t.Run("group", func(t *testing.T) { // returns when the waiter has ended
		t.Run("waiter", func(t *testing.T) { testWaiter(t, b) })
	})
	// The other test still holds it: the waiter's end released nothing.
	select {
	case b.slots <- struct{}{}:
		t.Error("the waiter's end released the slot a second time")
	default:
	}
}

// testWaiter holds the one slot, then gives it back with Wait.
func testWaiter(t *testing.T, b *Busy) {
	b.Parallel(t)
	select {
	case b.slots <- struct{}{}:
		t.Fatal("a second test got the one slot while the first held it")
	default:
	}
	b.Wait(t)
	select {
	case b.slots <- struct{}{}: // another test takes the slot
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not give the slot back")
	}
}
