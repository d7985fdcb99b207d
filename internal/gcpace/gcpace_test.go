package gcpace

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live, headroom uint64
		want           int
	}{
		{8 * mib, 64 * mib, 800},    // a busy exporter's small live heap
		{4 * mib, 64 * mib, 1600},   // the runtime's 4 MiB minimum heap, times 16
		{3 * mib, 64 * mib, 1600},   // no more: the minimum would pass the headroom
		{0, 64 * mib, 1600},         // nothing live yet
		{64 * mib, 64 * mib, 100},   // as GOGC=100 from here on
		{512 * mib, 64 * mib, 100},  // never sooner than GOGC=100
		{6 * mib, 64 * mib, 1066},   // rounded down
		{4 * mib, 1, 100},           // a headroom too small to matter
		{1, 1 << 62, 26214425},      // the headroom capped at MaxHeadroom: 1 TiB over the 4 MiB minimum
		{1 << 40, MaxHeadroom, 100}, // a huge heap: no overflow
		{1 << 30, 1 << 62, 102400},  // capped too
	} {
		if got := Percent(c.live, c.headroom); got != c.want {
			t.Errorf("Percent(%d, %d) = %d, want %d", c.live, c.headroom, got, c.want)
		}
	}
}

func TestHeadroomLeavesAnOperatorsGOGC(t *testing.T) {
	t.Setenv("GOGC", "100")
	if Headroom(64 << 20) {
		t.Fatal("Headroom took effect with GOGC set")
	}
	if Headroom(0) {
		t.Fatal("Headroom took effect with no headroom")
	}
}

// TestHeadroomFollowsTheLiveHeap runs collections until the finalizer has
// set GOGC from this test binary's live heap (well under 64 MiB), then
// keeps 128 MiB live and sees GOGC come back to 100.
func TestHeadroomFollowsTheLiveHeap(t *testing.T) {
	t.Setenv("GOGC", "") // as when the test runs with one set
	if !Headroom(64 << 20) {
		t.Fatal("Headroom did not take effect")
	}
	gogc := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}
	waitFor := func(what string, ok func(percent, base uint64) bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; {
			runtime.GC()
			runtime.Gosched()
			metrics.Read(gogc)
			percent, base := gogc[0].Value.Uint64(), gogc[1].Value.Uint64()+gogc[2].Value.Uint64()+gogc[3].Value.Uint64()
			if ok(percent, base) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: GOGC is %d with %d bytes live, stacks and globals", what, percent, base)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// The finalizer read the figures of a cycle before: allow for them to
	// have doubled since.
	waitFor("small live heap", func(percent, base uint64) bool {
		return base < 32<<20 && percent >= uint64(Percent(2*base, 64<<20)) && percent > 200
	})
	big := make([]byte, 128<<20)
	for i := range big {
		big[i] = 1
	}
	waitFor("large live heap", func(percent, _ uint64) bool { return percent == 100 })
	runtime.KeepAlive(big)
}
