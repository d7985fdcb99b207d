package modules

import (
	"errors"
	"io/fs"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"
)

// Holder serves the current config to concurrent probes and swaps in a new
// one only once it has loaded and validated in full.
type Holder struct {
	file     string
	optional bool // a missing file means the embedded default
	cur      atomic.Pointer[Config]
	embedded atomic.Bool

	mu       sync.Mutex // serialises reloads
	onReload []func()

	lastSuccess prometheus.Gauge
	lastTime    prometheus.Gauge
}

// NewHolder loads file. When optional is true and the file does not exist,
// the holder serves the embedded default until a reload finds the file.
func NewHolder(file string, optional bool) (*Holder, error) {
	h := &Holder{
		file: file, optional: optional,
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
	c, err := Load(h.file)
	embedded := false
	if err != nil && h.optional && errors.Is(err, fs.ErrNotExist) {
		c, err, embedded = Default(), nil, true
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

// ServeReload answers POST /-/reload: 200 once the new config is in force,
// 500 with the reason when it failed to load and the old one stays.
func (h *Holder) ServeReload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "reload takes POST", http.StatusMethodNotAllowed)
		return
	}
	if err := h.Reload(); err != nil {
		http.Error(w, "failed to reload config: "+err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write([]byte("config reloaded\n"))
}

// ServeConfig answers GET /config with the config in force as YAML, every
// secret shown as <secret>.
func (h *Holder) ServeConfig(w http.ResponseWriter, _ *http.Request) {
	out, err := yaml.Marshal(h.Config())
	if err != nil {
		http.Error(w, "marshalling config: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(out)
}
