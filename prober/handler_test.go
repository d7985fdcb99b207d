package prober

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/redis-probe/redis_probe_exporter/internal/conn"
	"github.com/redis-probe/redis_probe_exporter/internal/history"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

const testConfig = "modules:\n  default:\n    timeout: 2s\n"

func newTestHandler(t testing.TB, config string) *Handler {
	t.Helper()
	file := filepath.Join(t.TempDir(), "redis_probe.yml")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	holder, err := modules.NewHolder(file, false, Catalogue())
	if err != nil {
		t.Fatal(err)
	}
	pool := conn.NewPool(16, time.Minute, time.Hour)
	t.Cleanup(pool.Close)
	return NewHandler(holder, pool, history.New(10, 1<<20), log.NewNopLogger(), Options{TimeoutOffset: 500 * time.Millisecond, MaxInFlight: 64, MaxPerTarget: 4, CacheEntries: 100}, prometheus.NewRegistry())
}

func serveProbe(h http.Handler, params url.Values) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/probe?"+params.Encode(), nil))
	return w
}

// probeExposition is what /probe answers for addr with the module default
// of config.
func probeExposition(t testing.TB, config, addr string) string {
	t.Helper()
	w := serveProbe(newTestHandler(t, config), url.Values{"target": {addr}})
	body, _ := io.ReadAll(w.Body)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, body)
	}
	return string(body)
}

// The shipped config loads with the collectors this package declares.
func TestShippedConfigLoads(t *testing.T) {
	c, err := Catalogue().Load("../redis_probe.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"default", "cluster", "sentinel"} {
		if c.Modules[name] == nil {
			t.Errorf("no module %q", name)
		}
	}
	if !c.Modules["cluster"].CollectorEnabled("cluster") || c.Modules["sentinel"].CollectorEnabled("config") {
		t.Error("cluster or sentinel module collectors as not shipped")
	}
	if x := c.Modules["primary"].Expect; x == nil || x.Role != "master" || *x.MinReplicas != 1 {
		t.Errorf("primary module's expect: %+v", x)
	}
	if x := c.Modules["replica"].Expect; x == nil || x.Role != "replica" || x.MasterLink != "up" {
		t.Errorf("replica module's expect: %+v", x)
	}
}

// Every module's probe counters exist at 0 from load; a reload that removes
// a module removes its series.
func TestModuleCountersFollowReloads(t *testing.T) {
	file := filepath.Join(t.TempDir(), "redis_probe.yml")
	write := func(cfg string) {
		if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("modules:\n  default: {}\n  old: {}\n")
	holder, err := modules.NewHolder(file, false, Catalogue())
	if err != nil {
		t.Fatal(err)
	}
	pool := conn.NewPool(4, time.Minute, time.Hour)
	t.Cleanup(pool.Close)
	h := NewHandler(holder, pool, history.New(10, 1<<20), log.NewNopLogger(), Options{MaxInFlight: 4, MaxPerTarget: 4, CacheEntries: 100}, prometheus.NewRegistry())
	if n := testutil.CollectAndCount(h.probes); n != 4 {
		t.Errorf("%d probes_total series after load, want success and failure for 2 modules", n)
	}
	write("modules:\n  default: {}\n  new: {}\n")
	if err := holder.Reload(); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(h.probes); n != 4 {
		t.Errorf("%d probes_total series after reload, want 4", n)
	}
	if got := testutil.ToFloat64(h.probes.WithLabelValues("new", "failure")); got != 0 {
		t.Errorf("new module's failures = %v, want 0", got)
	}
}
