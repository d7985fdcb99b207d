package prober

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// Four identical probes in flight at once (an HA pair of Prometheus
// servers, twice) cost Redis one round trip, and each gets the answer.
func TestIdenticalProbesShareOneRoundTrip(t *testing.T) {
	s := redistest.StartRedis(t)
	h := newTestHandler(t, "modules:\n  default:\n    timeout: 5s\n")
	admin := s.Client(t)
	ctx := context.Background()
	if err := admin.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	// Paused, Redis holds the first probe's round trip while the others
	// arrive.
	if err := admin.Do(ctx, "CLIENT", "PAUSE", 1000, "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	bodies := make([]string, 4)
	for i := range bodies {
		wg.Go(func() {
			w := serveProbe(h, url.Values{"target": {s.Addr()}})
			body, _ := io.ReadAll(w.Body)
			bodies[i] = string(body)
			if w.Code != http.StatusOK {
				t.Errorf("probe %d: status %d: %s", i, w.Code, body)
			}
		})
	}
	wg.Wait()
	for i, b := range bodies {
		if !strings.Contains(b, "\nprobe_success 1\n") {
			t.Errorf("probe %d lacks probe_success 1:\n%s", i, b)
		}
		if b != bodies[0] {
			t.Errorf("probe %d answered differently from probe 0", i)
		}
	}
	if got := redistest.Calls(t, s.Client(t), "info"); got != 1 {
		t.Errorf("Redis ran INFO calls=%d, want calls=1", got)
	}
	if got := testutil.ToFloat64(h.coalesced); got != 3 {
		t.Errorf("coalesced = %v, want 3", got)
	}
}

// Probes of a hung target wait on that target's slots: past them a probe is
// shed with 503 at its deadline, and a healthy target is probed meanwhile.
func TestProbesOfAHungTargetAreShed(t *testing.T) {
	hung := redistest.StartHostile(t, redistest.Silent)
	healthy := redistest.StartRedis(t)
	h := newTestHandler(t, "modules:\n  default:\n    timeout: 5s\n  quick:\n    timeout: 300ms\n")

	hangs := make(chan *httptest.ResponseRecorder)
	for range 4 { // MaxPerTarget of the test handler
		go func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/probe?debug=true&target="+hung, nil))
			hangs <- w
		}()
	}
	for testutil.ToFloat64(h.inFlight) < 4 {
		time.Sleep(10 * time.Millisecond)
	}
	w := serveProbe(h, url.Values{"target": {hung}, "module": {"quick"}})
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "too many probes of this target") {
		t.Errorf("probe past the target's slots: %d %q, want 503 naming the target limit", w.Code, w.Body.String())
	}
	if got := testutil.ToFloat64(h.shed.WithLabelValues("target")); got != 1 {
		t.Errorf("shed{limit=target} = %v, want 1", got)
	}
	w = serveProbe(h, url.Values{"target": {healthy.Addr()}, "module": {"quick"}})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "\nprobe_success 1\n") {
		t.Errorf("healthy target while another hangs: %d\n%s", w.Code, w.Body.String())
	}
	for range 4 {
		if w := <-hangs; !strings.Contains(w.Body.String(), "probe_success 0") {
			t.Errorf("hung probe answered:\n%s", w.Body.String())
		}
	}
}

// A shared probe, its wait for a slot included, outlives the request that
// started it: when that client leaves, the request sharing the probe
// still gets the answer, and nothing counts as shed.
func TestSharedProbeOutlivesItsFirstClient(t *testing.T) {
	s := redistest.StartRedis(t)
	h := newTestHandler(t, "modules:\n  default:\n    timeout: 5s\n")
	// Four probes of their own (debug=true) hold the target's four slots
	// while Redis is paused.
	if err := s.Client(t).Do(context.Background(), "CLIENT", "PAUSE", 1000, "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	var holders sync.WaitGroup
	for range 4 {
		holders.Go(func() { serveProbe(h, url.Values{"target": {s.Addr()}, "debug": {"true"}}) })
	}
	for testutil.ToFloat64(h.inFlight) < 4 {
		time.Sleep(10 * time.Millisecond)
	}

	first, leave := context.WithCancel(context.Background())
	led := make(chan struct{})
	go func() {
		defer close(led)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/probe?target="+s.Addr(), nil).WithContext(first))
	}()
	for waiting(h, s.Addr()) < 5 { // the first request waits for a slot
		time.Sleep(10 * time.Millisecond)
	}
	shared := make(chan *httptest.ResponseRecorder)
	go func() { shared <- serveProbe(h, url.Values{"target": {s.Addr()}}) }()
	time.Sleep(100 * time.Millisecond) // the second shares its probe
	leave()

	w := <-shared
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "\nprobe_success 1\n") {
		t.Errorf("probe shared with a client that left: %d\n%s", w.Code, w.Body.String())
	}
	if got := testutil.ToFloat64(h.coalesced); got != 1 {
		t.Errorf("coalesced = %v, want 1", got)
	}
	for _, limit := range []string{"target", "global"} {
		if got := testutil.ToFloat64(h.shed.WithLabelValues(limit)); got != 0 {
			t.Errorf("shed{limit=%s} = %v, want 0", limit, got)
		}
	}
	<-led
	holders.Wait()
}

// waiting is how many requests hold or wait for a slot of addr.
func waiting(h *Handler, addr string) int {
	h.admit.mu.Lock()
	defer h.admit.mu.Unlock()
	if ts := h.admit.targets[addr]; ts != nil {
		return ts.refs
	}
	return 0
}

func TestProbeRequestErrors(t *testing.T) {
	h := newTestHandler(t, testConfig)
	many := strings.Repeat("x=1&", 10001) + "target=localhost:6379"
	for _, tc := range []struct {
		name, method, query string
		code                int
		want                string
	}{
		{"POST", http.MethodPost, "target=localhost:6379", 405, "/probe takes GET"},
		{"HEAD", http.MethodHead, "target=localhost:6379", 405, ""},
		{"bad escape", http.MethodGet, "target=localhost:6379&x=%zz", 400, "invalid query: invalid URL escape"},
		{"too many parameters", http.MethodGet, many, 400, "invalid query:"},
		{"NUL in target", http.MethodGet, "target=cache%00:6379", 400, "control character at byte 5"},
		{"newline in target", http.MethodGet, "target=cache%0d%0a:6379", 400, "control character at byte 5"},
		{"invalid UTF-8 in target", http.MethodGet, "target=cache%ff:6379", 400, "not valid UTF-8"},
		{"huge module name", http.MethodGet, "target=cache&module=" + strings.Repeat("m", 100000), 400, "unknown module \"mmm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tc.method, "/probe?"+tc.query, nil))
			body := w.Body.String()
			if w.Code != tc.code || !strings.Contains(body, tc.want) {
				t.Errorf("%d %q, want %d containing %q", w.Code, body, tc.code, tc.want)
			}
			if strings.Count(body, "\n") > 1 || len(body) > 1024 {
				t.Errorf("answer is not one capped line: %d bytes", len(body))
			}
			if tc.code == 405 && w.Header().Get("Allow") != "GET" {
				t.Errorf("Allow = %q, want GET", w.Header().Get("Allow"))
			}
		})
	}
}

func TestScrapeTimeoutHeader(t *testing.T) {
	h := newTestHandler(t, testConfig) // timeout 2s, offset 0.5s
	m := h.config.Config().Modules["default"]
	for header, want := range map[string]time.Duration{
		"":      2 * time.Second,
		"1":     500 * time.Millisecond,
		"2.4":   1900 * time.Millisecond,
		"10":    2 * time.Second,
		"Inf":   2 * time.Second,
		"+Inf":  2 * time.Second,
		"NaN":   2 * time.Second,
		"-1":    2 * time.Second,
		"0":     2 * time.Second,
		"1e300": 2 * time.Second,
		"1e-12": 2 * time.Second,
		"abc":   2 * time.Second,
	} {
		r := httptest.NewRequest(http.MethodGet, "/probe", nil)
		if header != "" {
			r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", header)
		}
		if got := h.timeout(r, m); got != want {
			t.Errorf("scrape timeout %q: probe timeout %s, want %s", header, got, want)
		}
	}
}
