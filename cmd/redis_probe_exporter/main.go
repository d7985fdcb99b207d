// Command redis_probe_exporter probes any Redis of a fleet on demand:
// GET /probe?target=host:port&module=NAME&auth=NAME.
package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
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
	poolTargets := app.Flag("pool.max-targets", "Targets (per auth) whose idle Redis connections are kept for the next probe; past it the least recently probed is closed.").Default("1024").Int()
	poolIdle := app.Flag("pool.idle-timeout", "Close a target's connections after it has not been probed for this long.").Default("1m").Duration()
	logLevel := app.Flag("log.level", "Only log messages with the given severity or above: debug, info, warn, error.").Default("info").Enum("debug", "info", "warn", "error")
	logFormat := app.Flag("log.format", "Output format of log messages: logfmt or json.").Default("logfmt").Enum("logfmt", "json")
	webFlags := kingpinflag.AddFlags(app, ":9736")
	app.Version(version.Print(name))
	app.HelpFlag.Short('h')
	if _, err := app.Parse(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if *poolTargets < 1 || *poolIdle <= 0 {
		fmt.Fprintln(os.Stderr, "--pool.max-targets and --pool.idle-timeout must be positive")
		return 2
	}

	logger, untimed := newLogger(*logFormat, *logLevel)
	holder, err := modules.NewHolder(*configFile, !configGiven)
	if *configCheck {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("%s: config is valid (%d modules, %d auths)\n", *configFile, len(holder.Config().Modules), len(holder.Config().Auths))
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

	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector(name), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	holder.Register(reg)
	pool := conn.NewPool(*poolTargets, *poolIdle)
	defer pool.Close()
	holder.OnReload(pool.Reset)
	holder.OnReload(prober.ForgetPlans)
	hist := history.New(*historyLimit)
	offset := time.Duration(*timeoutOffset * float64(time.Second))

	mux := http.NewServeMux()
	probes := prober.NewHandler(holder, pool, hist, logger, offset, reg)
	mux.Handle("/probe", probes)
	mux.HandleFunc("/discover/cluster", probes.ServeDiscoverCluster)
	mux.HandleFunc("/discover/sentinel", probes.ServeDiscoverSentinel)
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("/", hist.LandingPage(version.Info()))
	mux.HandleFunc("/logs", hist.ServeLogs)
	mux.HandleFunc("/config", holder.ServeConfig)
	mux.HandleFunc("/-/reload", holder.ServeReload)
	mux.HandleFunc("/-/healthy", ok)
	mux.HandleFunc("/-/ready", ok)

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
		level.Info(logger).Log("msg", "Shutting down", "signal", s)
		return 0
	}
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
