package prober

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.yaml.in/yaml/v3"
	"golang.org/x/sync/singleflight"

	"github.com/redis-probe/redis_probe_exporter/internal/cache"
	"github.com/redis-probe/redis_probe_exporter/internal/conn"
	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/internal/history"
	"github.com/redis-probe/redis_probe_exporter/internal/target"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

// Handler serves GET /probe.
type Handler struct {
	config  *modules.Holder
	pool    *conn.Pool
	history *history.History
	logger  log.Logger
	opts    Options
	admit   *admission
	flight  singleflight.Group
	memo    *cache.Cache // what probes reuse from earlier ones: see reuse.go

	probes    *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	rejected  *prometheus.CounterVec
	shed      *prometheus.CounterVec
	coalesced prometheus.Counter
	retries   *prometheus.CounterVec
	inFlight  prometheus.Gauge
	known     map[string]bool // modules whose series exist
}

// Options are the handler's settings from the command line.
type Options struct {
	TimeoutOffset time.Duration // taken off Prometheus's scrape timeout
	MaxInFlight   int           // probes running at once, in all
	MaxPerTarget  int           // probes running at once against one target
	CacheEntries  int           // targets (per auth and module) whose slow answers and rule results are kept
	LogProbes     bool          // whether each probe's log also goes to the server log, at debug level
}

// cacheIdle is how long a target's kept answers outlive its last probe.
const cacheIdle = time.Hour

// NewHandler registers the exporter's own probe metrics with reg.
func NewHandler(config *modules.Holder, pool *conn.Pool, hist *history.History, logger log.Logger, opts Options, reg prometheus.Registerer) *Handler {
	h := &Handler{
		config: config, pool: pool, history: hist, logger: logger, opts: opts,
		admit: newAdmission(opts.MaxInFlight, opts.MaxPerTarget), known: map[string]bool{},
		memo: cache.New(opts.CacheEntries, cacheIdle),
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
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redis_probe_exporter_probes_shed_total",
			Help: "Probes answered 503 because no slot freed before their deadline, by the limit that was full (global or target).",
		}, []string{"limit"}),
		coalesced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "redis_probe_exporter_probes_coalesced_total",
			Help: "Probe requests answered with the result of an identical probe already in flight, instead of a round trip of their own.",
		}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redis_probe_exporter_probe_retries_total",
			Help: "Round trips retried on a fresh connection after the connection failed, by module.",
		}, []string{"module"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "redis_probe_exporter_probes_in_flight",
			Help: "Probes running now.",
		}),
	}
	for _, reason := range []string{"method", "query", "target", "module", "auth", "forbidden"} {
		h.rejected.WithLabelValues(reason)
	}
	for _, limit := range []string{"global", "target"} {
		h.shed.WithLabelValues(limit)
	}
	reg.MustRegister(h.probes, h.duration, h.rejected, h.shed, h.coalesced, h.retries, h.inFlight)
	h.initModules()
	config.OnReload(h.initModules)
	config.OnReload(h.memo.Reset) // nothing kept under the old config is found again: free it
	return h
}

// initModules makes each module's probe counters exist at 0, so that a
// failure ratio has a series before the first failure, and drops the
// series of modules a reload removed. Loads run one at a time.
func (h *Handler) initModules() {
	modules := h.config.Config().Modules
	for name := range h.known {
		if modules[name] == nil {
			gone := prometheus.Labels{"module": name}
			h.probes.DeletePartialMatch(gone)
			h.duration.DeletePartialMatch(gone)
			h.retries.DeletePartialMatch(gone)
			delete(h.known, name)
		}
	}
	for name := range modules {
		for _, result := range []string{"success", "failure"} {
			h.probes.WithLabelValues(name, result)
		}
		h.retries.WithLabelValues(name)
		h.known[name] = true
	}
}

func (h *Handler) reject(w http.ResponseWriter, status int, reason, msg string) {
	h.rejected.WithLabelValues(reason).Inc()
	http.Error(w, msg, status)
}

// request is a probe or discovery request with its names resolved.
type request struct {
	query      url.Values
	target     target.Target
	moduleName string
	module     *modules.Module
	authName   string
	auth       *modules.Auth // nil for none
}

// secrets are what no output of the request may show.
func (req request) secrets() []string {
	if req.auth == nil {
		return nil
	}
	return req.auth.Secrets()
}

// resolve takes GET only, reads target=, module= and auth=, and checks
// allowed_targets (forTarget). On failure it answers 405, 400 or 403 with a one-line
// reason and returns false.
func (h *Handler) resolve(w http.ResponseWriter, r *http.Request) (request, bool) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		h.reject(w, http.StatusMethodNotAllowed, "method", r.URL.Path+" takes GET")
		return request{}, false
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		h.reject(w, http.StatusBadRequest, "query", "invalid query: "+safeText(err.Error(), nil))
		return request{}, false
	}
	t, err := target.Parse(q.Get("target"))
	if err != nil {
		h.reject(w, http.StatusBadRequest, "target", err.Error())
		return request{}, false
	}
	return h.forTarget(w, q, t)
}

// forTarget reads module= and auth= of query q for target t, and checks
// both allowed_targets. On failure it answers 400 or 403 with a one-line
// reason and returns false.
func (h *Handler) forTarget(w http.ResponseWriter, q url.Values, t target.Target) (request, bool) {
	cfg := h.config.Config()
	req := request{query: q, target: t, moduleName: q.Get("module")}
	if req.moduleName == "" {
		req.moduleName = modules.DefaultModule
	}
	if req.module = cfg.Modules[req.moduleName]; req.module == nil {
		h.reject(w, http.StatusBadRequest, "module", "unknown module "+quoted(req.moduleName))
		return request{}, false
	}
	if req.authName = q.Get("auth"); req.authName == "" {
		req.authName = req.module.Auth
	}
	if req.authName != "" {
		if req.auth = cfg.Auths[req.authName]; req.auth == nil {
			h.reject(w, http.StatusBadRequest, "auth", "unknown auth "+quoted(req.authName))
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

// client is the pooled client for the request's target and auth, its
// connections guarded by the module's limits.
func (h *Handler) client(req request) (*redis.Client, func()) {
	l := req.module.Limits
	return h.pool.Get(req.target, req.authName, connAuth(req.auth, req.target), conn.Limits{
		MaxBulkBytes:       int64(l.MaxBulkBytes),
		MaxAggregateLength: l.MaxAggregateLength,
		MaxLineBytes:       int64(l.MaxLineBytes),
		MaxReplyBytes:      int64(l.MaxReplyBytes),
	}, req.module.Retries.Attempts)
}

// connAuth is what the pool needs of auth a (nil for none) to reach t: its
// credentials, asked at each new connection, its TLS configuration when
// the connection is TLS (a rediss:// target, or tls.enabled), and the
// *modules.Auth itself as the key a reload replaces.
func connAuth(a *modules.Auth, t target.Target) conn.Auth {
	if a == nil {
		return conn.Auth{}
	}
	ca := conn.Auth{Key: a, Credentials: a.Credentials}
	if t.TLS || a.TLS != nil && a.TLS.Enabled {
		host := ""
		if t.Network == "tcp" {
			host = t.Host
		}
		ca.TLS = a.TLSConfigFor(host)
		if ca.TLS == nil {
			ca.TLS = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
		}
	}
	return ca
}

// answer is a finished probe, as every request that shared it gets it.
type answer struct {
	body    []byte
	metrics *exposition.Emitter // body's memory, released by the only request that got it
	ok      bool
}

// errShed is a probe that found no slot before its deadline.
type errShed struct{ limit string }

func (e errShed) Error() string {
	if e.limit == "target" {
		return "too many probes of this target in flight: no slot freed before the deadline"
	}
	return "too many probes in flight: no slot freed before the deadline"
}

// ServeHTTP answers /probe?target=T&module=M&auth=A[&debug=true].
// Identical probes in flight at once (the two Prometheus servers of an HA
// pair) share one round trip, and each gets its answer; debug=true always
// probes on its own.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, ok := h.resolve(w, r)
	if !ok {
		return
	}
	timeout := h.timeout(r, req.module)
	if req.query.Get("debug") == "true" {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		res, logs, err := h.probe(ctx, req, timeout)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		h.serveDebug(w, res.Metrics, logs, req)
		return
	}

	// The shared probe, its wait for a slot included, outlives any one
	// request's cancellation but never its deadline: the requests sharing
	// it may have other clients. It runs in the goroutine of the request
	// that started it (Do, not DoChan): handing each probe to a goroutine
	// of its own and back cost 3-10% more CPU per probe, both at 16
	// clients and open loop at 1,500 probes/s.
	key := strings.Join([]string{req.target.String(), req.moduleName, req.authName, timeout.String()}, "\x00")
	led := false
	v, err, shared := h.flight.Do(key, func() (_ any, err error) {
		led = true
		defer func() {
			// singleflight would re-panic in every request sharing the
			// probe: a bug that one target's replies trigger must cost
			// one failed probe, answered as such.
			if p := recover(); p != nil {
				level.Error(h.logger).Log("msg", "Probe panicked", "target", req.target.String(), "module", req.moduleName, "panic", safeText(fmt.Sprint(p), req.secrets()))
				err = errors.New("the probe failed on a bug: see the exporter's log")
			}
		}()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), timeout)
		defer cancel()
		res, _, err := h.probe(ctx, req, timeout)
		if err != nil {
			return nil, err
		}
		return answer{res.Metrics.Text(), res.Metrics, res.Success}, nil
	})
	if !led {
		h.coalesced.Inc()
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	// The text format, which every Prometheus reads. No gzip: it more than
	// doubled the exporter's CPU per probe (load.sh: 0.28 ms plain, 0.68 ms
	// gzipped) to save a few kB on a local network.
	a := v.(answer)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(a.body))) // not chunked
	_, _ = w.Write(a.body)
	if !shared {
		a.metrics.Release() // written, and no other request has it
	}
}

// probe waits for a slot and probes, both within ctx, counts and records
// the probe, and returns its result and log. It fails only when no slot
// freed in time.
func (h *Handler) probe(ctx context.Context, req request, timeout time.Duration) (Result, *bytes.Buffer, error) {
	release, full := h.admit.acquire(ctx, req.target.Addr())
	if release == nil {
		h.shed.WithLabelValues(full).Inc()
		return Result{}, nil, errShed{full}
	}
	defer release()
	h.inFlight.Inc()
	defer h.inFlight.Dec()

	var logBuf bytes.Buffer
	own := log.With(logfmtTo(&logBuf), "ts", log.DefaultTimestampUTC)
	if h.opts.LogProbes {
		own = tee(own, level.Debug(log.With(h.logger, "target", req.target.String(), "module", req.moduleName)))
	}
	probeLog := safeLogger(own, req.secrets())
	probeLog.Log("msg", "Beginning probe", "auth", req.authName, "timeout_seconds", timeout.Seconds())

	start := time.Now()
	client, releaseClient := h.client(req)
	defer releaseClient()
	var memo *cache.Entry
	if planFor(req.module).reuses {
		memo = h.memo.Entry(cache.Key{Target: req.target.String(), Auth: req.authName, Module: req.module}, start)
	}
	res := Probe(ctx, client, req.module, memo, probeLog)
	took := time.Since(start)

	outcome := "failure"
	if res.Success {
		outcome = "success"
	}
	h.probes.WithLabelValues(req.moduleName, outcome).Inc()
	h.duration.WithLabelValues(req.moduleName).Observe(took.Seconds())
	if res.Retries > 0 {
		h.retries.WithLabelValues(req.moduleName).Add(float64(res.Retries))
	}
	h.history.Add(history.Probe{
		Target: req.query.Get("target"), Module: req.moduleName, Auth: req.authName,
		Success: res.Success, Duration: took, Time: start, Log: logBuf.String(),
	})
	return res, &logBuf, nil
}

// timeout is the smaller of the module's timeout and Prometheus's scrape
// timeout less the offset, so that the answer reaches Prometheus in time. A
// scrape timeout that is not a finite positive number is ignored.
func (h *Handler) timeout(r *http.Request, m *modules.Module) time.Duration {
	d := time.Duration(m.Timeout)
	v, err := strconv.ParseFloat(r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"), 64)
	if err != nil || !(v > 0) || v >= d.Seconds()+h.opts.TimeoutOffset.Seconds() {
		return d // not a positive number, or no shorter than the module's: Inf and NaN included
	}
	scrape := time.Duration(v * float64(time.Second))
	if scrape < time.Millisecond {
		return d // too short to probe anything: taken as not set
	}
	if scrape > h.opts.TimeoutOffset {
		scrape -= h.opts.TimeoutOffset
	}
	return min(d, scrape)
}

// logfmtTo is a logfmt logger writing to buf that formats ints and floats
// itself, as logfmt would but without its fmt.Sprint: a fifth of the cost
// of a probe's log.
func logfmtTo(buf *bytes.Buffer) log.Logger {
	logfmt := log.NewLogfmtLogger(buf)
	return log.LoggerFunc(func(kv ...any) error {
		for i := 1; i < len(kv); i += 2 {
			switch v := kv[i].(type) {
			case int:
				kv[i] = strconv.Itoa(v)
			case float64:
				kv[i] = strconv.FormatFloat(v, 'g', -1, 64)
			}
		}
		return logfmt.Log(kv...)
	})
}

// tee logs to both loggers. A probe's own log, for debug=true and the
// history, is teed to the server log only with --log.level=debug (a
// failing target is noise for the server log): formatting each line for a
// logger that then drops it cost 5% of a probe's CPU.
func tee(a, b log.Logger) log.Logger {
	return log.LoggerFunc(func(kv ...any) error {
		_ = a.Log(kv...)
		return b.Log(kv...)
	})
}

func (h *Handler) serveDebug(w http.ResponseWriter, result io.WriterTo, logs *bytes.Buffer, req request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "Logs for the probe:\n%s\n\nMetrics that would have been returned:\n", logs)
	_, _ = result.WriteTo(w)
	shown := map[string]any{"modules": map[string]*modules.Module{req.moduleName: req.module}}
	if req.auth != nil {
		shown["auths"] = map[string]*modules.Auth{req.authName: req.auth}
	}
	out, _ := yaml.Marshal(shown)
	fmt.Fprintf(w, "\n\nModule configuration:\n%s", out)
}
