package exposition

import (
	"bytes"
	"strconv"
	"testing"
)

var (
	arenaA = testSet.Gauge("t_arena_a", "A family the arena test fills.", "k")
	arenaB = testSet.Counter("t_arena_b", "Another.")
	arenaC = testSet.Gauge("t_arena_c", "A third.", "k")
)

// The answer built in the arena (the families fit the room the last probe
// left them) is byte for byte the answer built by copying, and a family
// that outgrows its room falls back to copying.
func TestTextInArenaMatchesCopy(t *testing.T) {
	keepAll := func() *Selection {
		sel := testSet.Select()
		for _, f := range []*Family{arenaA, arenaB, arenaC, collectorSuccess} {
			sel.Keep(f, true)
		}
		return sel
	}
	emit := func(e *Emitter, n int) {
		for i := range n {
			e.Emit(arenaA, float64(i), strconv.Itoa(i))
		}
		e.Emit(arenaB, float64(n))
		for i := range n / 2 {
			e.Emit(arenaC, float64(i)/3, strconv.Itoa(i))
		}
	}
	sel := keepAll()
	for step, tc := range []struct {
		n       int
		inArena bool
	}{
		{10, false}, // nothing known yet
		{10, true},  // the same sizes
		{3, true},   // smaller: gaps closed
		{0, true},   // one family only
		{12, false}, // larger than the room left: copied
		{10, true},
	} {
		e := NewEmitter(sel)
		emit(e, tc.n)
		if got := e.inArena(); got != tc.inArena {
			t.Errorf("step %d (%d series): in arena %v, want %v", step, tc.n, got, tc.inArena)
		}
		got := e.Text()
		ref := NewEmitter(keepAll()) // a selection that knows no sizes: copied
		emit(ref, tc.n)
		if want := ref.Text(); !bytes.Equal(got, want) {
			t.Errorf("step %d (%d series):\n%s\nwant\n%s", step, tc.n, got, want)
		}
	}
}

// Text may be called again, as WriteTo is by tests and the debug page: the
// answer built in place is not built a second time from lines it moved.
func TestTextTwice(t *testing.T) {
	sel := testSet.Select()
	sel.Keep(arenaA, true)
	sel.Keep(arenaB, true)
	for range 2 { // the second emitter builds in its arena
		e := NewEmitter(sel)
		for i := range 20 {
			e.Emit(arenaA, float64(i), strconv.Itoa(i))
		}
		e.Emit(arenaB, 1)
		first := string(e.Text())
		if second := string(e.Text()); second != first {
			t.Fatalf("second Text:\n%s\nfirst:\n%s", second, first)
		}
	}
}

// An Emitter made from a released one's memory writes only its own series:
// none of the released one's families, lines, series or key rule families
// come back, whether its families fit the reused arena or not.
func TestReleasedEmitterStartsAfresh(t *testing.T) {
	sel := testSet.Select()
	for _, f := range []*Family{arenaA, arenaB, arenaC} {
		sel.Keep(f, true)
	}
	rule := New("t_rule_family", "A key rule's.", 1, "key") // a gauge
	big := NewEmitter(sel)
	for i := range 300 {
		big.Emit(arenaA, float64(i), strconv.Itoa(i))
		big.Emit(arenaC, float64(i), strconv.Itoa(i))
	}
	big.Emit(arenaB, 7)
	big.Emit(rule, 1, "k")
	big.Emit(arenaA, 1, "0") // a repeat, dropped
	big.Text()
	big.Release()
	for round := range 3 { // the sizes the big one stored, then the small one's
		small := NewEmitter(sel)
		small.Emit(arenaA, 42, "0") // the big one wrote this series: not a repeat here
		if n, _ := small.Duplicates(); n != 0 {
			t.Fatalf("round %d: %d duplicates, want 0", round, n)
		}
		want := arenaA.header() + "t_arena_a{k=\"0\"} 42\n"
		if got := string(small.Text()); got != want {
			t.Fatalf("round %d: wrote\n%s\nwant\n%s", round, got, want)
		}
		small.Release()
	}
}

// A released Emitter taken by another selection of the same set, one that
// has no sizes stored yet and so lays out no arena, writes none of the
// released one's lines either.
func TestReleasedEmitterAcrossSelections(t *testing.T) {
	big := testSet.Select()
	big.Keep(arenaA, true)
	big.Keep(arenaB, true)
	e := NewEmitter(big)
	e.Emit(arenaB, 99)
	for i := range 50 {
		e.Emit(arenaA, float64(i), strconv.Itoa(i))
	}
	e.Text()
	e.Release()
	small := testSet.Select() // keeps all three, knows no sizes
	for _, f := range []*Family{arenaA, arenaB, arenaC} {
		small.Keep(f, true)
	}
	for range 3 { // the pool may hand out another Emitter: try a few
		s := NewEmitter(small)
		s.Emit(arenaC, 1, "x")
		want := arenaC.header() + "t_arena_c{k=\"x\"} 1\n"
		if got := string(s.Text()); got != want {
			t.Fatalf("wrote\n%s\nwant\n%s", got, want)
		}
		s.Release()
	}
}
