package cache

import (
	"testing"
	"time"
)

// The cache holds at most max entries: past it, entries unused for idle
// go first, then the least recently used one.
func TestCacheIsBounded(t *testing.T) {
	c := New(2, time.Minute)
	t0 := time.Now()
	a, b, x := Key{Target: "a"}, Key{Target: "b"}, Key{Target: "x"}
	c.Entry(a, t0).Put("v", Value{V: 1, At: t0, RunID: "r"})
	c.Entry(b, t0.Add(time.Second))
	c.Entry(a, t0.Add(2*time.Second)) // a is now the most recently used
	c.Entry(x, t0.Add(3*time.Second))
	if n := c.Len(); n != 2 {
		t.Fatalf("%d entries, want 2", n)
	}
	if v, ok := c.Entry(a, t0.Add(4*time.Second)).Get("v"); !ok || v.V != 1 {
		t.Errorf("the most recently used entry lost its value: %v %v", v, ok)
	}
	// Both others idle past a minute: both go for the next new entry.
	c.Entry(Key{Target: "y"}, t0.Add(2*time.Minute))
	if n := c.Len(); n != 1 {
		t.Errorf("%d entries after the idle ones went, want 1", n)
	}
	c.Reset()
	if n := c.Len(); n != 0 {
		t.Errorf("%d entries after Reset, want 0", n)
	}
}

// Entries unused for idle are dropped even when the cache is far from
// full: a target that left the fleet, or an old config's, frees its
// memory.
func TestIdleEntriesAreDropped(t *testing.T) {
	c := New(1000, time.Minute)
	t0 := time.Now()
	for i := range 100 {
		c.Entry(Key{Target: string(rune('a' + i))}, t0)
	}
	c.Entry(Key{Target: "new"}, t0.Add(2*time.Minute))
	if n := c.Len(); n != 1 {
		t.Errorf("%d entries, want the new one alone", n)
	}
}

// A value is fresh only from the same known run, and younger than maxAge.
func TestValueFresh(t *testing.T) {
	t0 := time.Now()
	v := Value{V: 1, At: t0, RunID: "r1"}
	for _, tc := range []struct {
		run  string
		age  time.Duration
		want bool
	}{
		{"r1", time.Second, true},
		{"r1", time.Minute, false},
		{"r2", time.Second, false},
		{"", time.Second, false},
	} {
		if got := v.Fresh(tc.run, 30*time.Second, t0.Add(tc.age)); got != tc.want {
			t.Errorf("Fresh(%q) at %s = %v, want %v", tc.run, tc.age, got, tc.want)
		}
	}
	if (Value{At: t0}).Fresh("", time.Minute, t0) {
		t.Error("a value of an unknown run is fresh")
	}
}
