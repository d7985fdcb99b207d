// Package history keeps the most recent probes, with their logs, for the
// landing page.
package history

import (
	"sync"
	"time"
)

// Probe is one probe as the landing page shows it.
type Probe struct {
	ID       int64
	Target   string
	Module   string
	Auth     string
	Success  bool
	Duration time.Duration
	Time     time.Time
	Log      string
}

// History is a bounded ring of probes, newest last.
type History struct {
	mu     sync.Mutex
	limit  int
	nextID int64
	probes []Probe
}

// New keeps at most limit probes.
func New(limit int) *History { return &History{limit: limit} }

// Add records p, giving it the next ID, and drops the oldest probe past the
// limit.
func (h *History) Add(p Probe) {
	if h.limit <= 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	p.ID = h.nextID
	h.nextID++
	if len(h.probes) >= h.limit {
		copy(h.probes, h.probes[1:])
		h.probes = h.probes[:len(h.probes)-1]
	}
	h.probes = append(h.probes, p)
}

// List returns the probes, newest first.
func (h *History) List() []Probe {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Probe, len(h.probes))
	for i, p := range h.probes {
		out[len(out)-1-i] = p
	}
	return out
}

// Get returns the probe with id, if it is still kept.
func (h *History) Get(id int64) (Probe, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.probes {
		if p.ID == id {
			return p, true
		}
	}
	return Probe{}, false
}
