package main

// The fault matrix, end to end against the exporter binary: real Redis
// processes that die, pause, hang up or echo the password, malformed HTTP
// input, and a SIGTERM with a probe in flight. What each must cost is one
// failed probe, never the exporter.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// TestFaultRedisRestart kills a real Redis between probes and in the middle
// of one, and starts it again on the same port.
func TestFaultRedisRestart(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)
	first := redistest.StartRedis(t)
	port := first.Port
	var srv redisNode = first
	cfg := writeFile(t, t.TempDir(), "redis_probe.yml", `
modules:
  default:
    timeout: 3s
  patient:
    timeout: 6s
    retries: {attempts: 2, base_delay: 2s}
`)
	e := redistest.StartExporter(t, bin, "--config.file="+cfg, "--log.level=debug")
	top := t // the restarted servers live as long as the test

	// A probe fills the pool with a connection.
	if code, x := probe(t, e, url.Values{"target": {srv.Addr()}}); code != http.StatusOK || x.one(t, "probe_success") != 1 {
		t.Fatalf("first probe: status %d, %v", code, x.find("probe_success"))
	}

	t.Run("between probes", func(t *testing.T) {
		srv.Stop()
		srv = startRedisOn(t, top, port)
		retriesBefore := counter(t, scrapeMetrics(t, e), "redis_probe_exporter_probe_retries_total", "module", "default")
		res := debugProbe(t, e, url.Values{"target": {srv.Addr()}})
		if res.success != 1 {
			t.Errorf("probe after the restart: probe_success %v, want 1:\n%s", res.success, res.logs)
		}
		// The pool peeks at an idle connection (sysGuard exposes the fd) and
		// replaces one the target closed without a failed round trip; a
		// retry, if one happens, must be counted.
		retried := countLines(res.logs, "Round trip failed on the connection: retrying")
		got := counter(t, scrapeMetrics(t, e), "redis_probe_exporter_probe_retries_total", "module", "default") - retriesBefore
		if got != float64(retried) {
			t.Errorf("retries_total{module=default} grew by %v, the probe log retried %d times:\n%s", got, retried, res.logs)
		}
		if retried != 0 {
			t.Errorf("the closed pooled connection was retried (%d) rather than replaced before the round trip:\n%s", retried, res.logs)
		}
	})

	t.Run("mid-probe, back before the retry", func(t *testing.T) {
		// Paused, Redis holds the probe's round trip; killed, the
		// connection ends with EOF; back on the same port before the
		// backoff (1-2s) ends, it answers the retry.
		time.Sleep(1100 * time.Millisecond) // the pooled connection idles: a failure on it is retried
		pause(t, srv.Addr(), 10000)
		done := goProbe(e, url.Values{"target": {srv.Addr()}, "module": {"patient"}, "debug": {"true"}})
		waitInFlight(t, e, 1)
		time.Sleep(200 * time.Millisecond) // the pipeline is written and waits
		srv.Stop()
		srv = startRedisOn(t, top, port)
		res := <-done
		if res.err != nil || res.code != http.StatusOK {
			t.Fatalf("probe: %v, status %d: %s", res.err, res.code, res.body)
		}
		logs := debugLog(t, res.body)
		if !strings.Contains(res.body, "\nprobe_success 1\n") {
			t.Errorf("probe across the restart: want probe_success 1:\n%s", res.body)
		}
		if n := countLines(logs, "Round trip failed on the connection: retrying"); n != 1 {
			t.Errorf("%d retry lines, want 1:\n%s", n, logs)
		}
		if v := counter(t, scrapeMetrics(t, e), "redis_probe_exporter_probe_retries_total", "module", "patient"); v != 1 {
			t.Errorf("retries_total{module=patient} %v, want 1", v)
		}
	})

	t.Run("mid-probe, not back", func(t *testing.T) {
		time.Sleep(1100 * time.Millisecond) // the pooled connection idles: a failure on it is retried
		pause(t, srv.Addr(), 10000)
		done := goProbe(e, url.Values{"target": {srv.Addr()}, "debug": {"true"}})
		waitInFlight(t, e, 1)
		time.Sleep(200 * time.Millisecond)
		srv.Stop()
		res := <-done
		if res.err != nil || res.code != http.StatusOK {
			t.Fatalf("probe: %v, status %d: %s", res.err, res.code, res.body)
		}
		if res.took > 3*time.Second+overrun {
			t.Errorf("probe took %s with a 3s module timeout", res.took)
		}
		logs := debugLog(t, res.body)
		if !strings.Contains(res.body, "\nprobe_success 0\n") {
			t.Errorf("probe of a killed Redis: want probe_success 0:\n%s", res.body)
		}
		// EOF is retried once; the retry's dial is refused, which is final.
		if n := countLines(logs, "Round trip failed on the connection: retrying"); n != 1 {
			t.Errorf("%d retry lines, want 1:\n%s", n, logs)
		}
		if n := countLines(logs, "connection refused"); n != 1 {
			t.Errorf("%d lines say connection refused, want 1:\n%s", n, logs)
		}
		srv = startRedisOn(t, top, port)
		if code, x := probe(t, e, url.Values{"target": {srv.Addr()}}); code != http.StatusOK || x.one(t, "probe_success") != 1 {
			t.Errorf("probe after the restart: status %d, %v", code, x.find("probe_success"))
		}
	})
}

// TestFaultClientPause: a Redis that holds every command fails the probe by
// its deadline, after one retry on a new connection, and succeeds once the
// pause ends.
func TestFaultClientPause(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)
	srv := redistest.StartRedis(t)
	cfg := writeFile(t, t.TempDir(), "redis_probe.yml", "modules:\n  default:\n    timeout: 1s\n")
	e := redistest.StartExporter(t, bin, "--config.file="+cfg)
	if code, x := probe(t, e, url.Values{"target": {srv.Addr()}}); code != http.StatusOK || x.one(t, "probe_success") != 1 {
		t.Fatalf("probe before the pause: status %d, %v", code, x.find("probe_success"))
	}

	// The pooled connection idles past a second: its next round trip has
	// half the time left to start answering, then one retry the rest.
	// The pause outlasts the deadline and its overrun, so a probe that
	// waited for Redis rather than its deadline would show.
	time.Sleep(1100 * time.Millisecond)
	const paused = time.Second + overrun + time.Second
	pausedAt := time.Now()
	pause(t, srv.Addr(), int(paused.Milliseconds()))
	res := debugProbe(t, e, url.Values{"target": {srv.Addr()}})
	if res.success != 0 {
		t.Errorf("probe of a paused Redis: probe_success %v, want 0:\n%s", res.success, res.logs)
	}
	if res.took > time.Second+overrun {
		t.Errorf("probe of a paused Redis took %s with a 1s module timeout", res.took)
	}
	if n := countLines(res.logs, "Round trip failed on the connection: retrying"); n != 1 {
		t.Errorf("%d retry lines, want 1 (the idle connection has half the deadline to answer):\n%s", n, res.logs)
	}
	if n := countLines(res.logs, "Redis did not answer PING"); n != 1 {
		t.Errorf("%d lines say Redis did not answer PING, want 1:\n%s", n, res.logs)
	}
	if v := counter(t, scrapeMetrics(t, e), "redis_probe_exporter_probe_retries_total", "module", "default"); v != 1 {
		t.Errorf("retries_total{module=default} %v, want 1", v)
	}

	time.Sleep(time.Until(pausedAt.Add(paused + 200*time.Millisecond)))
	if code, x := probe(t, e, url.Values{"target": {srv.Addr()}}); code != http.StatusOK || x.one(t, "probe_success") != 1 {
		t.Errorf("probe after the pause: status %d, %v", code, x.find("probe_success"))
	}
}

// TestFaultAuthEchoed: a Redis without AUTH answers it with an error that
// repeats the password; the password shows nowhere the exporter writes.
func TestFaultAuthEchoed(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)
	const secret = "s3cr3t-pw"
	// go-redis authenticates with HELLO 2 AUTH default <password>, which a
	// Redis without requirepass accepts whatever the password: renaming AUTH
	// alone never makes AUTH go out. Without HELLO, go-redis falls back to
	// AUTH <password>; both answers repeat the password.
	srv := redistest.StartRedis(t, "--rename-command", "HELLO", "", "--rename-command", "AUTH", "")
	// Redis does echo it: the test proves something only if so.
	raw, err := net.DialTimeout("tcp", srv.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = raw.SetDeadline(time.Now().Add(2 * time.Second))
	_, _ = io.WriteString(raw, "AUTH "+secret+"\r\n")
	buf := make([]byte, 256)
	n, _ := raw.Read(buf)
	raw.Close()
	if !strings.Contains(string(buf[:n]), secret) {
		t.Fatalf("Redis does not echo the password, so this test proves nothing: %q", buf[:n])
	}

	cfg := writeFile(t, t.TempDir(), "redis_probe.yml", `
auths:
  echo:
    password: `+secret+`
    allowed_targets: ["127.0.0.1"]
modules:
  default:
    timeout: 2s
  echo:
    timeout: 2s
    auth: echo
`)
	e := redistest.StartExporter(t, bin, "--config.file="+cfg, "--log.level=debug")

	var bodies []string
	show := func(what, body string) { bodies = append(bodies, what+":\n"+body) }
	for _, q := range []url.Values{
		{"target": {srv.Addr()}, "module": {"echo"}},
		{"target": {srv.Addr()}, "auth": {"echo"}},
	} {
		code, body := httpGet(t, e.URL+"/probe?"+q.Encode())
		show("/probe?"+q.Encode(), body)
		if code != http.StatusOK {
			t.Fatalf("/probe?%s: status %d: %s", q.Encode(), code, body)
		}
		if x := parseExposition(t, body); x.one(t, "probe_success") != 0 || x.one(t, "redis_up") != 0 {
			t.Errorf("/probe?%s: probe_success %v, redis_up %v; want 0 and 0", q.Encode(), x.one(t, "probe_success"), x.one(t, "redis_up"))
		}
		q.Set("debug", "true")
		res := debugProbe(t, e, q)
		show("/probe?"+q.Encode(), res.body)
		// The error reached the log, masked: else the test proves nothing.
		if countLines(res.logs, "unknown command") != 1 || countLines(res.logs, "<secret>") != 1 {
			t.Errorf("debug log lacks the masked AUTH error:\n%s", res.logs)
		}
	}
	code, body := httpGet(t, e.URL+"/discover/cluster?"+url.Values{"target": {srv.Addr()}, "module": {"echo"}}.Encode())
	show("/discover/cluster", body)
	if code != http.StatusBadGateway || !strings.Contains(body, "unknown command") || !strings.Contains(body, "<secret>") {
		t.Errorf("/discover/cluster: status %d, want 502 with the masked AUTH error: %s", code, body)
	}
	code, body = httpGet(t, e.URL+"/discover/sentinel?"+url.Values{"target": {srv.Addr()}, "auth": {"echo"}}.Encode())
	show("/discover/sentinel", body)
	if code != http.StatusBadGateway {
		t.Errorf("/discover/sentinel: status %d, want 502: %s", code, body)
	}

	_, landing := httpGet(t, e.URL+"/")
	show("/", landing)
	ids := logIDs(landing)
	if len(ids) != 4 {
		t.Errorf("landing page links %d probe logs, want 4", len(ids))
	}
	for _, id := range ids {
		_, body := httpGet(t, e.URL+"/logs?id="+id)
		show("/logs?id="+id, body)
		if !strings.Contains(body, "unknown command") {
			t.Errorf("/logs?id=%s lacks the AUTH error:\n%s", id, body)
		}
	}
	_, cfgPage := httpGet(t, e.URL+"/config")
	show("/config", cfgPage)
	_, metrics := httpGet(t, e.URL+"/metrics")
	show("/metrics", metrics)
	log := e.Log()
	show("stderr", log)
	if !strings.Contains(log, "unknown command") {
		t.Errorf("the exporter's debug log has no AUTH error, so it proves nothing:\n%s", log)
	}
	for _, b := range bodies {
		if strings.Contains(b, secret) {
			t.Errorf("the password shows in %s", b)
		}
	}
}

// TestFaultIdleTimeout: Redis closes the pooled connection while it is idle
// (timeout 1); the next probe succeeds. The pool peeks at an idle
// connection before use (sysGuard exposes the fd to go-redis's check) and
// dials anew, so no round trip fails and nothing is retried.
func TestFaultIdleTimeout(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)
	srv := redistest.StartRedis(t, "--timeout", "1")
	cfg := writeFile(t, t.TempDir(), "redis_probe.yml", "modules:\n  default:\n    timeout: 2s\n")
	e := redistest.StartExporter(t, bin, "--config.file="+cfg)
	if code, x := probe(t, e, url.Values{"target": {srv.Addr()}}); code != http.StatusOK || x.one(t, "probe_success") != 1 {
		t.Fatalf("first probe: status %d, %v", code, x.find("probe_success"))
	}

	// Wait until Redis has closed the exporter's idle connection: then only
	// this test's own (busy) connection is left.
	c := srv.Client(t)
	time.Sleep(2 * time.Second)
	redistest.WaitFor(t, 5*time.Second, func() error {
		list, err := c.ClientList(context.Background()).Result()
		if err != nil {
			return err
		}
		if n := strings.Count(strings.TrimSpace(list), "\n") + 1; n != 1 {
			return fmt.Errorf("%d clients connected, want this test's only:\n%s", n, list)
		}
		return nil
	}, nil)

	res := debugProbe(t, e, url.Values{"target": {srv.Addr()}})
	if res.success != 1 {
		t.Errorf("probe after Redis closed the idle connection: probe_success %v, want 1:\n%s", res.success, res.logs)
	}
	if n := countLines(res.logs, "Round trip failed on the connection: retrying"); n != 0 {
		t.Errorf("%d retries, want 0: the closed idle connection should be replaced before use:\n%s", n, res.logs)
	}
	if v := counter(t, scrapeMetrics(t, e), "redis_probe_exporter_probe_retries_total", "module", "default"); v != 0 {
		t.Errorf("retries_total{module=default} %v, want 0", v)
	}
}

// TestInputHTTP sends what a scanner or a broken client might: other
// methods, control characters, malformed and oversized queries, odd scrape
// timeouts.
func TestInputHTTP(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)
	srv := redistest.StartRedis(t)
	cfg := writeFile(t, t.TempDir(), "redis_probe.yml", "modules:\n  default:\n    timeout: 2s\n")
	e := redistest.StartExporter(t, bin, "--config.file="+cfg)
	target := url.QueryEscape(srv.Addr())
	client := &http.Client{Timeout: 10 * time.Second}

	rejected := map[string]float64{"method": 0, "query": 0, "target": 0}
	t.Run("methods", func(t *testing.T) {
		for _, tc := range []struct{ method, path string }{
			{http.MethodPost, "/probe?target=" + target},
			{http.MethodHead, "/probe?target=" + target},
			{http.MethodPut, "/probe?target=" + target},
			{http.MethodDelete, "/probe?target=" + target},
			{http.MethodPost, "/discover/cluster?target=" + target},
			{http.MethodHead, "/discover/sentinel?target=" + target},
		} {
			req, err := http.NewRequest(tc.method, e.URL+tc.path, strings.NewReader(""))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			rejected["method"]++
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodGet {
				t.Errorf("%s %s: %s, Allow %q; want 405 and Allow: GET", tc.method, tc.path, resp.Status, resp.Header.Get("Allow"))
			}
		}
	})

	t.Run("malformed", func(t *testing.T) {
		many := strings.Repeat("a=1&", 10000) + "target=" + target // 10001 parameters
		for _, tc := range []struct {
			name, query, reason, body string
		}{
			{"NUL in target", "target=cache%00", "target", "control character"},
			{"newline in target", "target=cache%0A:6379", "target", "control character"},
			{"escape in target", "target=cache%1B[31m", "target", "control character"},
			{"invalid UTF-8 in target", "target=cache%FF", "target", "UTF-8"},
			{"10001 parameters", many, "query", "invalid query"},
			{"bad escape", "target=" + target + "&x=%zz", "query", "invalid query"},
			{"semicolon", "target=" + target + ";x=1", "query", "invalid query"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				rejected[tc.reason]++
				code, body := httpGet(t, e.URL+"/probe?"+tc.query)
				if code != http.StatusBadRequest || !strings.Contains(body, tc.body) {
					t.Errorf("status %d, body %q; want 400 with %q", code, body, tc.body)
				}
				if line := strings.TrimSuffix(body, "\n"); line == "" || strings.Contains(line, "\n") || len(line) > 1024 {
					t.Errorf("body is not one bounded line: %q", body)
				}
			})
		}
	})

	t.Run("scrape timeout header", func(t *testing.T) {
		for _, h := range []string{"Inf", "+Inf", "-Inf", "NaN", "0", "-1", "abc", "1e400", ""} {
			for _, debug := range []bool{false, true} {
				q := url.Values{"target": {srv.Addr()}}
				if debug {
					q.Set("debug", "true")
				}
				req, err := http.NewRequest(http.MethodGet, e.URL+"/probe?"+q.Encode(), nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", h)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				body := string(b)
				if resp.StatusCode != http.StatusOK {
					t.Errorf("header %q, debug %v: %s: %s", h, debug, resp.Status, body)
					continue
				}
				if debug {
					// The module's timeout is used, as if no header came.
					logs := debugLog(t, body)
					if !strings.HasSuffix(firstLine(logs, "Beginning probe"), " timeout_seconds=2") || !strings.Contains(body, "\nprobe_success 1\n") {
						t.Errorf("header %q: want timeout_seconds=2 and probe_success 1:\n%s", h, logs)
					}
					continue
				}
				if x := parseExposition(t, body); x.one(t, "probe_success") != 1 {
					t.Errorf("header %q: probe_success %v, want 1", h, x.one(t, "probe_success"))
				}
			}
		}
	})

	x := scrapeMetrics(t, e)
	for reason, n := range rejected {
		if v := x.one(t, "redis_probe_exporter_probe_requests_rejected_total", "reason", reason); v != n {
			t.Errorf("rejected_total{reason=%q} = %v, want %v", reason, v, n)
		}
	}
	if v := x.one(t, "redis_probe_exporter_probes_total", "module", "default", "result", "success"); v != 18 {
		t.Errorf("probes_total{result=success} = %v, want 18 (the scrape timeout probes)", v)
	}
	if v := x.one(t, "redis_probe_exporter_probes_total", "module", "default", "result", "failure"); v != 0 {
		t.Errorf("rejected requests counted as %v failed probes", v)
	}
}

// TestShutdownDrain sends SIGTERM with a probe in flight: the exporter
// stops taking probes and says it is not ready, lets the probe finish with
// its answer, and exits 0.
func TestShutdownDrain(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)
	silent := redistest.StartHostile(t, redistest.Silent)
	srv := redistest.StartRedis(t)
	cfg := writeFile(t, t.TempDir(), "redis_probe.yml", "modules:\n  default:\n    timeout: 3s\n")
	e := redistest.StartExporter(t, bin, "--config.file="+cfg)

	start := time.Now()
	done := goProbe(e, url.Values{"target": {silent}})
	waitInFlight(t, e, 1)
	if err := e.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	redistest.WaitFor(t, 2*time.Second, func() error {
		if code, body := httpGet(t, e.URL+"/-/ready"); code != http.StatusServiceUnavailable {
			return fmt.Errorf("/-/ready: %d %q, want 503", code, body)
		}
		return nil
	}, e.Log)
	if code, body := httpGet(t, e.URL+"/probe?target="+url.QueryEscape(srv.Addr())); code != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
		t.Errorf("/probe while draining: status %d %q, want 503 shutting down", code, body)
	}
	if code, body := httpGet(t, e.URL+"/discover/cluster?target="+url.QueryEscape(srv.Addr())); code != http.StatusServiceUnavailable {
		t.Errorf("/discover/cluster while draining: status %d %q, want 503", code, body)
	}
	if code, _ := httpGet(t, e.URL+"/-/healthy"); code != http.StatusOK {
		t.Errorf("/-/healthy while draining: status %d, want 200", code)
	}
	if ok, err := e.Exited(); ok {
		t.Fatalf("exited with a probe in flight: %v", err)
	}

	res := <-done
	if res.err != nil || res.code != http.StatusOK {
		t.Fatalf("in-flight probe: %v, status %d: %s", res.err, res.code, res.body)
	}
	if x := parseExposition(t, res.body); x.one(t, "probe_success") != 0 {
		t.Errorf("in-flight probe of a silent target: probe_success %v, want 0", x.one(t, "probe_success"))
	}
	if res.took < 2500*time.Millisecond || res.took > 3*time.Second+overrun {
		t.Errorf("in-flight probe took %s, want about its 3s timeout", res.took)
	}

	var exitErr error
	redistest.WaitFor(t, 10*time.Second, func() error {
		ok, err := e.Exited()
		if !ok {
			return fmt.Errorf("still running %s after SIGTERM", time.Since(start).Round(time.Millisecond))
		}
		exitErr = err
		return nil
	}, e.Log)
	e.Stop() // marks the exit as expected for the cleanup
	if exitErr != nil {
		t.Errorf("exit after draining: %v, want code 0", exitErr)
	}
	t.Logf("exited %s after the probe began", time.Since(start).Round(time.Millisecond))
	for _, w := range []string{"Draining", "Shut down"} {
		if !strings.Contains(e.Log(), w) {
			t.Errorf("log lacks %q:\n%s", w, e.Log())
		}
	}
}

// --- helpers of the fault tests ---
