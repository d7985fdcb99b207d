// Package gcpace keeps Go's garbage collector from running far more often
// than it needs to while the live heap is small.
//
// A probe allocates about a hundred kilobytes and keeps almost none of it,
// so a busy exporter's live heap is a few MiB and, with GOGC=100, the
// collector runs every few dozen probes: a fifth of the exporter's CPU at
// 3,000 probes/s (scripts/load.sh). Raising GOGC for good would let a large
// live heap (ten thousand pooled targets) grow five-fold instead.
// Headroom does what neither does: after each cycle it sets GOGC so that
// the next cycle starts no sooner than a fixed number of bytes past the
// live heap, nor sooner than GOGC=100 would start it. The heap's peak is
// then the live heap plus the larger of the live heap and the headroom,
// and GOMEMLIMIT still caps it.
package gcpace

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// heapMinimum is the heap goal the runtime keeps at GOGC=100 however
// small the live heap, and scales with GOGC: at GOGC=1600 no cycle starts
// before a 64 MiB heap. GOGC is capped so that this minimum stays within
// the headroom.
const heapMinimum = 4 << 20

// MaxHeadroom is the largest headroom: GOGC stays an int32, and the
// runtime's heap goal a uint64.
const MaxHeadroom = 1 << 40

// Headroom keeps the heap goal at least headroom bytes past the live heap
// from the next collection on, headroom being at most MaxHeadroom. It does
// nothing when headroom is 0 or when the GOGC environment variable is set:
// the operator chose. It reports whether it took effect. Call it once.
func Headroom(headroom uint64) bool {
	if headroom == 0 || os.Getenv("GOGC") != "" {
		return false
	}
	// GOGC is a percentage of the live heap plus the stacks and globals
	// the last cycle scanned.
	scanned := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}
	percent := 100
	var adjust func(*cycle)
	adjust = func(c *cycle) {
		metrics.Read(scanned)
		base := uint64(0)
		for _, s := range scanned {
			base += s.Value.Uint64()
		}
		if p := Percent(base, headroom); p != percent {
			percent = p
			debug.SetGCPercent(p)
		}
		runtime.SetFinalizer(c, adjust) // again after the next cycle
	}
	runtime.SetFinalizer(&cycle{}, adjust)
	return true
}

// cycle is an object whose only reference is its finalizer's, so that the
// finalizer runs after every collection. It is too big for the tiny
// allocator, whose objects may never be finalized.
type cycle struct{ _ [32]byte }

// Percent is the GOGC that starts the next cycle headroom bytes past the
// live heap, base being what GOGC is a percentage of (the live heap, the
// stacks and the globals), or at twice it if that is later: 100 at least,
// and no more than keeps the runtime's minimum heap within the headroom.
func Percent(base, headroom uint64) int {
	headroom = min(headroom, MaxHeadroom)
	most := max(100, headroom/(heapMinimum/100))
	if base == 0 {
		return int(most)
	}
	return int(min(max(100, float64(headroom)*100/float64(base)), float64(most)))
}
