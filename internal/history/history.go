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

// History is a bounded ring of probes, newest last, bounded in number and
// in the bytes of their logs.
type History struct {
	mu       sync.Mutex
	limit    int
	maxBytes int
	bytes    int // of the kept probes' logs
	nextID   int64
	probes   []Probe
}

// New keeps at most limit probes whose logs hold at most maxBytes in all. A
// probe whose log alone is larger keeps the log's start.
func New(limit, maxBytes int) *History { return &History{limit: limit, maxBytes: maxBytes} }

// Add records p, giving it the next ID, and drops the oldest probes past
// the limits.
func (h *History) Add(p Probe) {
	if h.limit <= 0 || h.maxBytes <= 0 {
		return
	}
	if len(p.Log) > h.maxBytes {
		p.Log = p.Log[:h.maxBytes]
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	p.ID = h.nextID
	h.nextID++
	for len(h.probes) > 0 && (len(h.probes) >= h.limit || h.bytes+len(p.Log) > h.maxBytes) {
		h.bytes -= len(h.probes[0].Log)
		h.probes[0] = Probe{}
		h.probes = h.probes[1:]
	}
	h.probes = append(h.probes, p)
	h.bytes += len(p.Log)
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
