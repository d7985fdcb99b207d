package modules

import (
	"errors"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Holder serves the current config to concurrent probes and swaps in a new
// one only once it has loaded and validated in full.
type Holder struct {
	file     string
	optional bool      // a missing file means the embedded default
	cat      Catalogue // what the config may name and how its modules compile
	cur      atomic.Pointer[Config]
	embedded atomic.Bool

	mu       sync.Mutex // serialises reloads
	onReload []func()

	lastSuccess prometheus.Gauge
	lastTime    prometheus.Gauge
}

// NewHolder loads file. When optional is true and the file does not exist,
// the holder serves the embedded default until a reload finds the file.
func NewHolder(file string, optional bool, cat Catalogue) (*Holder, error) {
	h := &Holder{
		file: file, optional: optional, cat: cat,
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "redis_probe_exporter_config_last_reload_successful",
			Help: "Whether the last configuration load succeeded (1) or failed (0).",
		}),
		lastTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "redis_probe_exporter_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load.",
		}),
	}
	return h, h.Reload()
}

// Register adds the reload status gauges to reg.
func (h *Holder) Register(reg prometheus.Registerer) { reg.MustRegister(h.lastSuccess, h.lastTime) }

// OnReload runs fn after each successful reload, for state that depends on
// the config, such as pooled connections.
func (h *Holder) OnReload(fn func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onReload = append(h.onReload, fn)
}

// Reload reads the file again; on error the current config stays in place.
func (h *Holder) Reload() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, err := h.cat.Load(h.file)
	embedded := false
	if err != nil && h.optional && errors.Is(err, fs.ErrNotExist) {
		c, err, embedded = h.cat.Default(), nil, true
	}
	if err != nil {
		h.lastSuccess.Set(0)
		return err
	}
	h.cur.Store(c)
	h.embedded.Store(embedded)
	h.lastSuccess.Set(1)
	h.lastTime.Set(float64(time.Now().Unix()))
	for _, fn := range h.onReload {
		fn()
	}
	return nil
}

// Config is the config in force.
func (h *Holder) Config() *Config { return h.cur.Load() }

// Embedded reports whether the config in force is the embedded default.
func (h *Holder) Embedded() bool { return h.embedded.Load() }
