package prober

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/redis-probe/redis_probe_exporter/internal/conn"
	"github.com/redis-probe/redis_probe_exporter/internal/history"
	"github.com/redis-probe/redis_probe_exporter/internal/target"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

// Handler serves GET /probe.
type Handler struct {
	config        *modules.Holder
	pool          *conn.Pool
	history       *history.History
	logger        log.Logger
	timeoutOffset time.Duration

	probes   *prometheus.CounterVec
	duration *prometheus.HistogramVec
	rejected *prometheus.CounterVec
}

// NewHandler registers the exporter's own probe metrics with reg.
func NewHandler(config *modules.Holder, pool *conn.Pool, hist *history.History, logger log.Logger, timeoutOffset time.Duration, reg prometheus.Registerer) *Handler {
	h := &Handler{
		config: config, pool: pool, history: hist, logger: logger, timeoutOffset: timeoutOffset,
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redis_probe_exporter_probes_total",
			Help: "Probes run, by module and result (success or failure).",
		}, []string{"module", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "redis_probe_exporter_probe_duration_seconds",
			Help:    "Duration of probes, in seconds, by module.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"module"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redis_probe_exporter_probe_requests_rejected_total",
			Help: "Probe requests refused before probing, by reason.",
		}, []string{"reason"}),
	}
	for _, reason := range []string{"target", "module", "auth", "forbidden"} {
		h.rejected.WithLabelValues(reason)
	}
	reg.MustRegister(h.probes, h.duration, h.rejected)
	return h
}

func (h *Handler) reject(w http.ResponseWriter, status int, reason, msg string) {
	h.rejected.WithLabelValues(reason).Inc()
	http.Error(w, msg, status)
}

// request is a probe or discovery request with its names resolved.
type request struct {
	target     target.Target
	moduleName string
	module     *modules.Module
	authName   string
	auth       *modules.Auth // nil for none
}

// resolve reads target=, module= and auth= and checks allowed_targets. On
// failure it answers 400 or 403 with a one-line reason and returns false.
func (h *Handler) resolve(w http.ResponseWriter, r *http.Request) (request, bool) {
	q := r.URL.Query()
	t, err := target.Parse(q.Get("target"))
	if err != nil {
		h.reject(w, http.StatusBadRequest, "target", err.Error())
		return request{}, false
	}
	cfg := h.config.Config()
	req := request{target: t, moduleName: q.Get("module")}
	if req.moduleName == "" {
		req.moduleName = modules.DefaultModule
	}
	if req.module = cfg.Modules[req.moduleName]; req.module == nil {
		h.reject(w, http.StatusBadRequest, "module", fmt.Sprintf("unknown module %q", req.moduleName))
		return request{}, false
	}
	if req.authName = q.Get("auth"); req.authName == "" {
		req.authName = req.module.Auth
	}
	if req.authName != "" {
		if req.auth = cfg.Auths[req.authName]; req.auth == nil {
			h.reject(w, http.StatusBadRequest, "auth", fmt.Sprintf("unknown auth %q", req.authName))
			return request{}, false
		}
	}
	if !req.module.AllowedTargets.Allows(t.Host, t.Port) {
		h.reject(w, http.StatusForbidden, "forbidden", fmt.Sprintf("target %s is not in module %q's allowed_targets", t.Addr(), req.moduleName))
		return request{}, false
	}
	if req.auth != nil && !req.auth.AllowedTargets.Allows(t.Host, t.Port) {
		h.reject(w, http.StatusForbidden, "forbidden", fmt.Sprintf("target %s is not in auth %q's allowed_targets", t.Addr(), req.authName))
		return request{}, false
	}
	return req, true
}

// ServeHTTP answers /probe?target=T&module=M&auth=A[&debug=true].
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, ok := h.resolve(w, r)
	if !ok {
		return
	}
	t, m, moduleName, auth, authName := req.target, req.module, req.moduleName, req.auth, req.authName

	timeout := h.timeout(r, m)
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()

	var logBuf bytes.Buffer
	probeLog := probeLogger(&logBuf, log.With(h.logger, "target", t.String(), "module", moduleName))
	probeLog.Log("msg", "Beginning probe", "auth", authName, "timeout_seconds", timeout.Seconds())

	start := time.Now()
	client, release := h.pool.Get(t, authName, auth)
	defer release()
	result, ok := Probe(ctx, client, m, probeLog)
	took := time.Since(start)

	outcome := "failure"
	if ok {
		outcome = "success"
	}
	h.probes.WithLabelValues(moduleName, outcome).Inc()
	h.duration.WithLabelValues(moduleName).Observe(took.Seconds())
	h.history.Add(history.Probe{
		Target: q.Get("target"), Module: moduleName, Auth: authName,
		Success: ok, Duration: took, Time: start, Log: logBuf.String(),
	})

	if q.Get("debug") == "true" {
		h.serveDebug(w, result, &logBuf, moduleName, m, authName, auth)
		return
	}
	// The text format, which every Prometheus reads. No gzip: it more than
	// doubled the exporter's CPU per probe (load.sh: 0.28 ms plain, 0.68 ms
	// gzipped) to save a few kB on a local network.
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = result.WriteTo(w)
}

// timeout is the smaller of the module's timeout and Prometheus's scrape
// timeout less the offset, so that the answer reaches Prometheus in time.
func (h *Handler) timeout(r *http.Request, m *modules.Module) time.Duration {
	d := time.Duration(m.Timeout)
	if v, err := strconv.ParseFloat(r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"), 64); err == nil && v > 0 {
		scrape := time.Duration(v * float64(time.Second))
		if scrape > h.timeoutOffset {
			scrape -= h.timeoutOffset
		}
		d = min(d, scrape)
	}
	return d
}

// probeLogger writes the probe's own log to buf, for debug=true and the
// history, and to the server log at debug level: a failing target is noise
// for the server log.
func probeLogger(buf *bytes.Buffer, server log.Logger) log.Logger {
	own := log.With(log.NewLogfmtLogger(buf), "ts", log.DefaultTimestampUTC)
	debug := level.Debug(server)
	return log.LoggerFunc(func(kv ...any) error {
		_ = own.Log(kv...)
		return debug.Log(kv...)
	})
}

func (h *Handler) serveDebug(w http.ResponseWriter, result io.WriterTo, logs *bytes.Buffer, moduleName string, m *modules.Module, authName string, auth *modules.Auth) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "Logs for the probe:\n%s\n\nMetrics that would have been returned:\n", logs)
	_, _ = result.WriteTo(w)
	shown := map[string]any{"modules": map[string]*modules.Module{moduleName: m}}
	if auth != nil {
		shown["auths"] = map[string]*modules.Auth{authName: auth}
	}
	out, _ := yaml.Marshal(shown)
	fmt.Fprintf(w, "\n\nModule configuration:\n%s", out)
}
