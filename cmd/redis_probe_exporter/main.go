// Command redis_probe_exporter probes any Redis of a fleet on demand:
// GET /probe?target=host:port&module=NAME&auth=NAME.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
	sloggokit "github.com/tjhop/slog-gokit"

	"github.com/redis-probe/redis_probe_exporter/internal/conn"
	"github.com/redis-probe/redis_probe_exporter/internal/gcpace"
	"github.com/redis-probe/redis_probe_exporter/internal/history"
	"github.com/redis-probe/redis_probe_exporter/modules"
	"github.com/redis-probe/redis_probe_exporter/prober"
)

const name = "redis_probe_exporter"

func main() {
	os.Exit(run())
}

func run() int {
	app := kingpin.New(name, "Probes any Redis of a fleet on demand: GET /probe?target=host:port&module=NAME&auth=NAME.")
	var configGiven bool
	configFile := app.Flag("config.file", "Configuration file. When not given and redis_probe.yml is missing, the embedded default config is used.").
		Default("redis_probe.yml").IsSetByUser(&configGiven).String()
	configCheck := app.Flag("config.check", "Load and validate the configuration file, print the result and exit.").Bool()
	timeoutOffset := app.Flag("timeout-offset", "Seconds taken off Prometheus's scrape timeout to leave time for the answer.").Default("0.5").Float64()
	historyLimit := app.Flag("history.limit", "Recent probes kept for the landing page.").Default("100").Int()
	historyBytes := app.Flag("history.max-bytes", "Bytes of probe logs kept for the landing page, in all.").Default("4MiB").Bytes()
	maxInFlight := app.Flag("probe.max-in-flight", "Probes running at once; a probe that finds no slot before its deadline is answered 503.").Default("256").Int()
	maxPerTarget := app.Flag("probe.max-per-target", "Probes of one target running at once, so that probes of a hung target never take every slot.").Default("4").Int()
	poolTargets := app.Flag("pool.max-targets", "Targets (per auth) whose idle Redis connections are kept for the next probe; past it the least recently probed is closed.").Default("1024").Int()
	poolIdle := app.Flag("pool.idle-timeout", "Close a target's connections after it has not been probed for this long.").Default("1m").Duration()
	poolLifetime := app.Flag("pool.max-lifetime", "Replace a connection older than this, so that a changed DNS name (a managed primary's failover) is followed.").Default("5m").Duration()
	cacheEntries := app.Flag("cache.max-entries", "Targets (per auth and module) whose slow-changing answers (refresh_interval) and rule results are kept between probes; past it the least recently probed is forgotten.").Default("20000").Int()
	gcHeadroom := app.Flag("runtime.gc-headroom", "Let the heap grow at least this far past its live part before the garbage collector runs again, rather than only doubling it (GOGC=100): far fewer collections while the live heap is small. 0 keeps Go's default; GOGC in the environment overrides it, GOMEMLIMIT still caps it.").Default("32MiB").Bytes()
	drainTimeout := app.Flag("web.drain-timeout", "On SIGTERM, how long in-flight probes may take to finish before the exporter exits.").Default("30s").Duration()
	logLevel := app.Flag("log.level", "Only log messages with the given severity or above: debug, info, warn, error.").Default("info").Enum("debug", "info", "warn", "error")
	logFormat := app.Flag("log.format", "Output format of log messages: logfmt or json.").Default("logfmt").Enum("logfmt", "json")
	webFlags := kingpinflag.AddFlags(app, ":9736")
	app.Version(version.Print(name))
	app.HelpFlag.Short('h')
	if _, err := app.Parse(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if *poolTargets < 1 || *poolIdle <= 0 || *poolLifetime <= 0 || *maxInFlight < 1 || *maxPerTarget < 1 || *cacheEntries < 1 {
		fmt.Fprintln(os.Stderr, "--pool.max-targets, --pool.idle-timeout, --pool.max-lifetime, --probe.max-in-flight, --probe.max-per-target and --cache.max-entries must be positive")
		return 2
	}
	if *gcHeadroom < 0 || *gcHeadroom > gcpace.MaxHeadroom {
		fmt.Fprintf(os.Stderr, "--runtime.gc-headroom must be from 0 to 1TiB, not %s\n", *gcHeadroom)
		return 2
	}

	logger, untimed := newLogger(*logFormat, *logLevel)
	gcpace.Headroom(uint64(*gcHeadroom))
	holder, err := modules.NewHolder(*configFile, !configGiven, prober.Catalogue())
	if *configCheck {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		for _, w := range holder.Config().Warnings() {
			fmt.Fprintln(os.Stderr, "warning:", w)
		}
		checked := *configFile
		if holder.Embedded() {
			checked = "embedded default config (" + *configFile + " not found)"
		}
		fmt.Printf("%s: config is valid (%d modules, %d auths)\n", checked, len(holder.Config().Modules), len(holder.Config().Auths))
		return 0
	}
	if err != nil {
		level.Error(logger).Log("msg", "Error loading config", "err", err)
		return 1
	}
	if holder.Embedded() {
		level.Info(logger).Log("msg", "Config file not found: using the embedded default config", "file", *configFile)
	} else {
		level.Info(logger).Log("msg", "Loaded config file", "file", *configFile)
	}
	warn := func() {
		for _, w := range holder.Config().Warnings() {
			level.Warn(logger).Log("msg", "Risky config", "file", *configFile, "warning", w)
		}
	}
	warn()
	holder.OnReload(warn)

	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector(name), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	holder.Register(reg)
	pool := conn.NewPool(*poolTargets, *poolIdle, *poolLifetime)
	defer pool.Close()
	holder.OnReload(pool.Reset)
	hist := history.New(*historyLimit, int(*historyBytes))
	offset := time.Duration(*timeoutOffset * float64(time.Second))

	mux := http.NewServeMux()
	probes := prober.NewHandler(holder, pool, hist, logger, prober.Options{
		TimeoutOffset: offset, MaxInFlight: *maxInFlight, MaxPerTarget: *maxPerTarget, CacheEntries: *cacheEntries,
		LogProbes: *logLevel == "debug",
	}, reg)
	var drain gate
	mux.Handle("/probe", drain.wrap(probes))
	mux.Handle("/discover/cluster", drain.wrap(http.HandlerFunc(probes.ServeDiscoverCluster)))
	mux.Handle("/discover/sentinel", drain.wrap(http.HandlerFunc(probes.ServeDiscoverSentinel)))
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("/", hist.LandingPage(version.Info()))
	mux.HandleFunc("/logs", hist.ServeLogs)
	mux.Handle("/config", prober.ConfigHandler(holder))
	mux.Handle("/-/reload", prober.ReloadHandler(holder))
	mux.HandleFunc("/-/healthy", ok)
	mux.HandleFunc("/-/ready", drain.ready)

	go func() {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		for range hup {
			if err := holder.Reload(); err != nil {
				level.Error(logger).Log("msg", "Error reloading config", "err", err)
			} else {
				level.Info(logger).Log("msg", "Reloaded config file", "file", *configFile)
			}
		}
	}()

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- web.ListenAndServe(srv, webFlags, slog.New(sloggokit.NewGoKitHandler(untimed, nil))) }()
	term := make(chan os.Signal, 1)
	signal.Notify(term, os.Interrupt, syscall.SIGTERM)
	select {
	case err := <-errc:
		level.Error(logger).Log("msg", "Error running HTTP server", "err", err)
		return 1
	case s := <-term:
		level.Info(logger).Log("msg", "Draining: new probes get 503, in-flight probes finish", "signal", s)
	}
	// In-flight probes end by their deadlines; the server keeps answering
	// meanwhile, /-/ready with 503, so that Kubernetes stops sending probes.
	drained := make(chan struct{})
	go func() { drain.drain(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(*drainTimeout):
		level.Warn(logger).Log("msg", "Probes still in flight at --web.drain-timeout: exiting anyway")
	case s := <-term:
		level.Warn(logger).Log("msg", "Second signal: exiting without waiting for probes in flight", "signal", s)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	level.Info(logger).Log("msg", "Shut down")
	return 0
}

// gate lets requests through until draining starts, and then waits for the
// ones in flight.
type gate struct {
	mu       sync.Mutex
	draining bool
	inFlight sync.WaitGroup
}

func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.draining {
		return false
	}
	g.inFlight.Add(1)
	return true
}

func (g *gate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.enter() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		defer g.inFlight.Done()
		next.ServeHTTP(w, r)
	})
}

// drain refuses new requests and waits for those in flight.
func (g *gate) drain() {
	g.mu.Lock()
	g.draining = true
	g.mu.Unlock()
	g.inFlight.Wait()
}

// ready answers /-/ready: 200, or 503 once draining started.
func (g *gate) ready(w http.ResponseWriter, _ *http.Request) {
	g.mu.Lock()
	draining := g.draining
	g.mu.Unlock()
	if draining {
		http.Error(w, "draining", http.StatusServiceUnavailable)
		return
	}
	ok(w, nil)
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("OK\n")) }

// newLogger returns the exporter's logger, and the same without its "ts"
// for exporter-toolkit's slog records, which bring their own time.
func newLogger(format, lvl string) (logger, untimed log.Logger) {
	if format == "json" {
		untimed = log.NewJSONLogger(log.NewSyncWriter(os.Stderr))
	} else {
		untimed = log.NewLogfmtLogger(log.NewSyncWriter(os.Stderr))
	}
	untimed = level.NewFilter(untimed, level.Allow(level.ParseDefault(lvl, level.InfoValue())))
	return log.With(untimed, "ts", log.DefaultTimestampUTC), untimed
}
