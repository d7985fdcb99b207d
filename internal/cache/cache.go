// Package cache keeps what a probe may reuse from an earlier probe of the
// same target, auth and module: the answers to commands whose replies
// rarely change (CONFIG GET, MODULE LIST) and the results of key and
// script rules with a refresh interval. Each value carries the time it was
// fetched and the run_id of the Redis that gave it, so that nothing from
// before a restart is used after it. Entries are bounded in number and
// dropped when unused.
package cache

import (
	"sync"
	"time"
)

// Key names an entry. Module is the module's config object: a reload makes
// new ones, so nothing cached under an old config is found again. Auth is
// the auth's name: no value crosses auths.
type Key struct {
	Target, Auth string
	Module       any
}

// Cache holds the entries. Its zero value is not usable; call New.
type Cache struct {
	max  int
	idle time.Duration

	mu        sync.Mutex
	entries   map[Key]*Entry
	lastSweep time.Time
}

// New keeps at most max entries and drops an entry unused for idle.
func New(max int, idle time.Duration) *Cache {
	return &Cache{max: max, idle: idle, entries: map[Key]*Entry{}}
}

// Entry is k's entry, made if missing. Taking it counts as using it.
func (c *Cache) Entry(k Key, now time.Time) *Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[k]
	if e == nil {
		c.sweepLocked(now)
		e = &Entry{values: map[string]Value{}}
		c.entries[k] = e
	}
	e.used = now
	return e
}

// sweepLocked drops the entries unused for idle, every idle/8 or when the
// cache is full, and makes room for one more entry: if dropping the idle
// ones was not enough, the least recently used one goes too.
func (c *Cache) sweepLocked(now time.Time) {
	full := len(c.entries) >= c.max
	if !full && now.Sub(c.lastSweep) < c.idle/8 {
		return
	}
	c.lastSweep = now
	var oldest Key
	var oldestUsed time.Time
	for k, e := range c.entries {
		switch {
		case now.Sub(e.used) > c.idle:
			delete(c.entries, k)
		case oldestUsed.IsZero() || e.used.Before(oldestUsed):
			oldest, oldestUsed = k, e.used
		}
	}
	if len(c.entries) >= c.max {
		delete(c.entries, oldest)
	}
}

// Reset forgets every entry, for a config reload: nothing kept under the
// old config is found again, and none of it should stay in memory.
func (c *Cache) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}

// Len is the number of entries.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Entry is what one target, auth and module remember. Values are shared
// between probes and must be treated as read-only.
type Entry struct {
	used time.Time // under the Cache's lock

	mu     sync.Mutex
	values map[string]Value
}

// Value is a kept value, when it was fetched, and the run_id of the Redis
// that gave it: a value from another run (Redis restarted, or another one
// answers on the address) is not to be used.
type Value struct {
	V     any
	At    time.Time
	RunID string
}

// Get is the value kept under name.
func (e *Entry) Get(name string) (Value, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.values[name]
	return v, ok
}

// Put keeps v under name.
func (e *Entry) Put(name string, v Value) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.values[name] = v
}

// Fresh reports whether v came from the Redis run runID (known) less than
// maxAge before now.
func (v Value) Fresh(runID string, maxAge time.Duration, now time.Time) bool {
	return runID != "" && v.RunID == runID && now.Sub(v.At) < maxAge
}
