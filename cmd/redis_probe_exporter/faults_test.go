package main

// The fault matrix, end to end against the exporter binary: hostile RESP
// endpoints, real Redis processes that die, pause, hang up or echo the
// password, malformed HTTP input, and a SIGTERM with a probe in flight. What
// each must cost is one failed probe, never the exporter.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// overrun is how far past its deadline a probe may answer in these tests
// and still count as bounded by it: room for the scheduling of the exporter,
// the servers and the race-built test binary on a loaded machine, not slack
// the exporter may take. A probe that ignored its deadline would hang until
// the HTTP client's 30s timeout.
const overrun = 4 * time.Second

// hostileCase is a misbehaving endpoint and what the probe's log must say of
// it.
type hostileCase struct {
	name   string
	behave redistest.Behaviour
	want   string  // the one log line that says why the probe failed contains this
	up     float64 // redis_up: 1 only when PING got its PONG; probe_success is 0
	// timed: the outcome depends on when the bytes arrive against the first
	// attempt's share of the deadline, which a loaded run may vary.
	timed bool
}

// pastHandshake answers go-redis's HELLO with an error (so that it goes on
// in RESP2, with no AUTH as the probe has no auth), waits for the pipeline
// to be written, answers its PING, and then plays b to the collectors'
// commands, which go-redis reads generically (Do): that is where nested and
// flooded aggregates are decoded. The plain behaviours meet the HELLO that
// opens every connection, whose reply go-redis reads as a map.
func pastHandshake(b redistest.Behaviour) redistest.Behaviour {
	return func(c net.Conn) {
		if _, err := io.WriteString(c, "-ERR unknown command 'HELLO'\r\n"); err != nil {
			return
		}
		// Apart from the HELLO reply, so that the guard does not read both
		// in one chunk and refuse it whole.
		time.Sleep(100 * time.Millisecond)
		if _, err := io.WriteString(c, "+PONG\r\n"); err != nil {
			return
		}
		time.Sleep(100 * time.Millisecond) // likewise, apart from the PONG
		b(c)
	}
}

// hostileCases covers every behaviour redistest offers, plus the ones only a
// generically read reply reaches.
var hostileCases = []hostileCase{
	{name: "huge array", behave: redistest.HugeArray, want: "reply broke max_aggregate_length: array of 1000000000000 elements, limit 262144"},
	{name: "huge bulk", behave: redistest.HugeBulk, want: "reply broke max_bulk_bytes: bulk string of 1000000000000 bytes, limit 8388608"},
	{name: "dribble", behave: redistest.Dribble, want: "reply broke max_bulk_bytes: bulk string of 2000000000 bytes, limit 8388608"},
	{name: "endless line", behave: redistest.EndlessLine, want: "reply broke max_line_bytes: simple string line of"},
	{name: "long error", behave: redistest.LongError, want: "reply broke max_line_bytes: error line of"},
	// An array of a million values of 64 KiB, each within the limits: what
	// it declares (at 32 bytes an element) or what it sends breaks the
	// budget of the round trip.
	{name: "flood", behave: redistest.Flood, want: "reply broke max_reply_bytes: "},
	{name: "silent", behave: redistest.Silent, want: "Redis did not answer PING"},
	{name: "not RESP", behave: redistest.Send("HTTP/1.1 400 Bad Request\r\n\r\n"), want: "reply is not RESP at byte 0 since the last command: unknown type byte 'H'"},
	{name: "negative length", behave: redistest.Send("$-5\r\n"), want: "reply is not RESP"},
	{name: "truncated reply", behave: redistest.Send("*2\r\n$3\r\nfoo\r\n"), want: "Redis did not answer PING"},
	{name: "past handshake, flood", timed: true, behave: pastHandshake(redistest.Flood), want: "reply broke max_reply_bytes", up: 1},
	{name: "past handshake, huge bulk", timed: true, behave: pastHandshake(redistest.HugeBulk), want: "reply broke max_bulk_bytes", up: 1},
	{name: "past handshake, endless line", timed: true, behave: pastHandshake(redistest.EndlessLine), want: "reply broke max_line_bytes", up: 1},
	// Arrays well within max_aggregate_length, nested so that the elements
	// they declare add up (40 of 256 Ki: 10 Mi), and never sent. go-redis
	// allocates a 16-byte slot per element at each header, 160 MiB in all,
	// unless the budget of the round trip counts the elements declared.
	{name: "past handshake, nested arrays", timed: true, behave: pastHandshake(redistest.Send(strings.Repeat("*262144\r\n", 40))), want: "reply broke max_reply_bytes", up: 1},
}

// TestHostileFaultMatrix probes each hostile endpoint with a 2s module
// timeout: each answers 200 with probe_success 0 well before a hang would,
// and the debug log says why in one bounded line.
func TestHostileFaultMatrix(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)
	const timeout = 2 * time.Second
	// The limits are written out, so that the reasons the log gives do not
	// move with the defaults (the memory tests below run on the defaults).
	cfg := writeFile(t, t.TempDir(), "redis_probe.yml", `
modules:
  default:
    timeout: 2s
    limits: {max_bulk_bytes: 8MiB, max_aggregate_length: 262144, max_line_bytes: 64KiB, max_reply_bytes: 16MiB}
`)
	e := redistest.StartExporter(t, bin, "--config.file="+cfg)

	for _, tc := range hostileCases {
		t.Run(tc.name, func(t *testing.T) {
			addr := redistest.StartHostile(t, tc.behave)
			q := url.Values{"target": {addr}}

			start := time.Now()
			code, body := httpGet(t, e.URL+"/probe?"+q.Encode())
			took := time.Since(start)
			if code != http.StatusOK {
				t.Fatalf("status %d, want 200: %s", code, body)
			}
			if took > timeout+overrun {
				t.Errorf("probe took %s: the module timeout is %s", took, timeout)
			}
			x := parseExposition(t, body)
			if v := x.one(t, "probe_success"); v != 0 {
				t.Errorf("probe_success %v, want 0", v)
			}
			if v := x.one(t, "redis_up"); v != tc.up {
				t.Errorf("redis_up %v, want %v", v, tc.up)
			}

			q.Set("debug", "true")
			start = time.Now()
			code, body = httpGet(t, e.URL+"/probe?"+q.Encode())
			took = time.Since(start)
			if code != http.StatusOK {
				t.Fatalf("debug probe: status %d, want 200: %s", code, body)
			}
			if took > timeout+overrun {
				t.Errorf("debug probe took %s: the module timeout is %s", took, timeout)
			}
			logs := debugLog(t, body)
			checkLogLines(t, logs, 1024)
			if n := countLines(logs, tc.want); n != 1 {
				t.Errorf("%d log lines contain %q, want 1:\n%s", n, tc.want, logs)
			}
			if countLines(logs, "Probe failed") != 1 {
				t.Errorf("no log line says Probe failed:\n%s", logs)
			}
			if refused := strings.Contains(tc.want, "reply broke") || strings.Contains(tc.want, "not RESP"); refused && countLines(logs, "connection closed") != 1 {
				t.Errorf("no line says the connection was closed for the refused reply:\n%s", logs)
			}
			t.Logf("%s: %s", tc.name, firstLine(logs, tc.want))
		})
	}
	if ok, err := e.Exited(); ok {
		t.Fatalf("exporter exited: %v", err)
	}
}

// TestHostileMemory runs 100 probes against the hostile endpoints, 4 at a
// time: the exporter's resident memory stays under 100 MiB and it still
// probes a real Redis.
func TestHostileMemory(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)
	srv := redistest.StartRedis(t)
	cfg := writeFile(t, t.TempDir(), "redis_probe.yml", "modules:\n  default:\n    timeout: 1s\n")
	e := redistest.StartExporter(t, bin, "--config.file="+cfg)
	pid := exporterPID(t, e)
	before := procStatus(t, pid)

	addrs := make([]string, len(hostileCases))
	for i, tc := range hostileCases {
		addrs[i] = redistest.StartHostile(t, tc.behave)
	}
	const probes, parallel = 100, 4
	start := time.Now()
	results := probeMany(e, addrs, probes, parallel)
	elapsed := time.Since(start)
	minFailures := 0.0
	for _, o := range results {
		tc := hostileCases[o.i%len(hostileCases)]
		name := tc.name
		if !tc.timed {
			minFailures++
		}
		switch {
		case o.err != nil:
			t.Errorf("probe %d (%s): %v", o.i, name, o.err)
		case o.code != http.StatusOK || o.success == "" || !tc.timed && o.success != "0":
			t.Errorf("probe %d (%s): status %d, probe_success %q; want 200 and 0", o.i, name, o.code, o.success)
		case o.took > time.Second+overrun:
			t.Errorf("probe %d (%s) took %s with a 1s module timeout", o.i, name, o.took)
		}
	}

	after := procStatus(t, pid)
	x := scrapeMetrics(t, e)
	reported := x.one(t, "process_resident_memory_bytes")
	t.Logf("%d hostile probes, %d at a time, in %s: VmRSS %.1f MiB before, %.1f MiB after (process_resident_memory_bytes %.1f MiB); VmHWM %.1f MiB",
		probes, parallel, elapsed.Round(time.Millisecond), mib(before["VmRSS"]), mib(after["VmRSS"]), reported/(1<<20), mib(after["VmHWM"]))
	const limit = 100 << 20
	if after["VmRSS"] >= limit {
		t.Errorf("VmRSS %.1f MiB after the hostile probes, want under 100 MiB", mib(after["VmRSS"]))
	}
	if reported >= limit {
		t.Errorf("process_resident_memory_bytes %.1f MiB, want under 100 MiB", reported/(1<<20))
	}
	if after["VmHWM"] >= limit {
		t.Errorf("VmHWM (peak RSS) %.1f MiB during the hostile probes, want under 100 MiB", mib(after["VmHWM"]))
	}
	if v := x.one(t, "redis_probe_exporter_probes_total", "module", "default", "result", "failure"); v < minFailures {
		t.Errorf("probes_total{result=failure} %v, want at least %v", v, minFailures)
	}

	code, px := probe(t, e, url.Values{"target": {srv.Addr()}})
	if code != http.StatusOK {
		t.Fatalf("probe of a real Redis after the hostile ones: status %d", code)
	}
	if v := px.one(t, "probe_success"); v != 1 {
		t.Errorf("probe of a real Redis after the hostile ones: probe_success %v, want 1", v)
	}
}

// TestHostileMemoryByBehaviour gives each hostile behaviour an exporter of
// its own and 8 probes of it, 4 at a time, so that the peak resident memory
// (VmHWM) says what one behaviour costs. A probe may hold what one round
// trip may bring, max_reply_bytes (16 or 32 MiB by default), and little
// more: the peak may grow by at most 40 MiB per probe in flight.
func TestHostileMemoryByBehaviour(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)
	cfg := writeFile(t, t.TempDir(), "redis_probe.yml", "modules:\n  default:\n    timeout: 1s\n")
	for _, tc := range hostileCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := redistest.StartExporter(t, bin, "--config.file="+cfg)
			pid := exporterPID(t, e)
			before := procStatus(t, pid)
			addr := redistest.StartHostile(t, tc.behave)
			for _, o := range probeMany(e, []string{addr}, 8, 4) {
				if o.err != nil || o.code != http.StatusOK || o.success == "" {
					t.Errorf("probe %d: %v, status %d, probe_success %q", o.i, o.err, o.code, o.success)
				}
			}
			after := procStatus(t, pid)
			t.Logf("%s: VmHWM %.1f MiB (VmRSS %.1f MiB before, %.1f MiB after)", tc.name, mib(after["VmHWM"]), mib(before["VmRSS"]), mib(after["VmRSS"]))
			if perProbe := (after["VmHWM"] - before["VmRSS"]) / 4; perProbe > 40<<20 {
				t.Errorf("%s: peak resident memory %.1f MiB, from %.1f MiB, with 4 probes in flight: %.1f MiB a probe; want at most 40 MiB (max_reply_bytes, 32 MiB at most, and some)",
					tc.name, mib(after["VmHWM"]), mib(before["VmRSS"]), mib(perProbe))
			}
		})
	}
}

// TestHostileSlowReply: a target answers PING at once and the rest of the
// round trip after 60% of the deadline, well within it. The probe should
// read those replies (here, an error reply for every command); it must not
// give up on them at the first attempt's share of the deadline (half of it
// with the default 2 attempts), send everything again on a new connection
// with the half left, and call every collector failed on an i/o timeout.
// (go-redis sets the pipeline's read error on the PING too, PONG read or
// not, so roundTrip retries.)
func TestHostileSlowReply(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)
	cfg := writeFile(t, t.TempDir(), "redis_probe.yml", "modules:\n  default:\n    timeout: 2s\n")
	e := redistest.StartExporter(t, bin, "--config.file="+cfg)
	addr := redistest.StartHostile(t, pastHandshake(func(c net.Conn) {
		time.Sleep(time.Second) // with pastHandshake's, 1.2s after the pipeline went out
		// One error reply for every command the pipeline may hold; the
		// ones past its end are never read.
		_, _ = io.WriteString(c, strings.Repeat("-ERR slow but in time\r\n", 64))
	}))
	res := debugProbe(t, e, url.Values{"target": {addr}})
	if res.took > 2*time.Second+overrun {
		t.Errorf("probe took %s with a 2s timeout", res.took)
	}
	if n := countLines(res.logs, "Collector failed"); n == 0 {
		t.Fatalf("no collector failed, so the replies were not the stand-in's:\n%s", res.logs)
	}
	if n := countLines(res.logs, "i/o timeout"); n != 0 {
		t.Errorf("%d log lines say i/o timeout: the replies came 1.2s into a 2s deadline and should have been read:\n%s", n, res.logs)
	}
	if n := countLines(res.logs, "ERR slow but in time"); n == 0 {
		t.Errorf("no collector saw the replies that came within the deadline:\n%s", res.logs)
	}
}

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
	if got := x.find("redis_probe_exporter_probes_total", "result", "failure"); len(got) != 0 {
		t.Errorf("rejected requests counted as failed probes: %v", got)
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

// debugLog is the probe's own log in a debug=true answer.
func debugLog(t testing.TB, body string) string {
	t.Helper()
	const head, tail = "Logs for the probe:\n", "\n\nMetrics that would have been returned:\n"
	i, j := strings.Index(body, head), strings.Index(body, tail)
	if i != 0 || j < 0 {
		t.Fatalf("not a debug answer:\n%s", body)
	}
	return body[len(head):j]
}

type debugResult struct {
	body, logs string
	success    float64
	took       time.Duration
}

// debugProbe runs a debug=true probe and returns its log and probe_success.
func debugProbe(t testing.TB, e *redistest.Exporter, q url.Values) debugResult {
	t.Helper()
	q.Set("debug", "true")
	start := time.Now()
	code, body := httpGet(t, e.URL+"/probe?"+q.Encode())
	res := debugResult{body: body, took: time.Since(start), success: -1}
	if code != http.StatusOK {
		t.Fatalf("debug probe %v: status %d: %s", q, code, body)
	}
	res.logs = debugLog(t, body)
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, "probe_success "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("probe_success %q: %v", v, err)
			}
			res.success = f
		}
	}
	if res.success < 0 {
		t.Fatalf("debug answer has no probe_success:\n%s", body)
	}
	return res
}

type asyncResult struct {
	code int
	body string
	took time.Duration
	err  error
}

// goProbe starts a probe in a goroutine; the channel gets its answer.
func goProbe(e *redistest.Exporter, q url.Values) <-chan asyncResult {
	done := make(chan asyncResult, 1)
	go func() {
		start := time.Now()
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(e.URL + "/probe?" + q.Encode())
		if err != nil {
			done <- asyncResult{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- asyncResult{code: resp.StatusCode, body: string(b), took: time.Since(start), err: err}
	}()
	return done
}

// waitInFlight waits until /metrics shows n probes in flight.
func waitInFlight(t testing.TB, e *redistest.Exporter, n float64) {
	t.Helper()
	redistest.WaitFor(t, 5*time.Second, func() error {
		if v := scrapeMetrics(t, e).one(t, "redis_probe_exporter_probes_in_flight"); v != n {
			return fmt.Errorf("probes_in_flight %v, want %v", v, n)
		}
		return nil
	}, e.Log)
}

// pause holds every client command of the Redis at addr for ms
// milliseconds.
func pause(t testing.TB, addr string, ms int) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	defer c.Close()
	if err := c.Do(context.Background(), "CLIENT", "PAUSE", strconv.Itoa(ms), "ALL").Err(); err != nil {
		t.Fatalf("CLIENT PAUSE: %v", err)
	}
}

// redisNode is a Redis a test kills and starts again.
type redisNode interface {
	Addr() string
	Stop()
}

// redisOnPort is a redis-server started on a given port, as a restarted
// server is: redistest.StartRedis always picks a free port.
type redisOnPort struct {
	port int
	cmd  *exec.Cmd
	once sync.Once
}

func (r *redisOnPort) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// Stop kills the server, as a crash would, and reaps it.
func (r *redisOnPort) Stop() {
	r.once.Do(func() {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	})
}

// startRedisOn starts redis-server on port, with StartRedis's settings, and
// waits until it answers PING, failing t if it does not. It is killed when
// owner (t or a parent of t) ends.
func startRedisOn(t, owner testing.TB, port int) *redisOnPort {
	t.Helper()
	dir := owner.TempDir()
	r := &redisOnPort{port: port}
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--logfile", filepath.Join(dir, "redis.log"), "--daemonize", "no")
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	owner.Cleanup(r.Stop)
	redistest.WaitFor(t, 10*time.Second, func() error {
		c, err := net.DialTimeout("tcp", r.Addr(), time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := io.WriteString(c, "PING\r\n"); err != nil {
			return err
		}
		buf := make([]byte, 16)
		n, err := c.Read(buf)
		if err != nil || !strings.HasPrefix(string(buf[:n]), "+PONG") {
			return fmt.Errorf("PING: %q, %v", buf[:n], err)
		}
		return nil
	}, func() string { b, _ := os.ReadFile(filepath.Join(dir, "redis.log")); return string(b) })
	return r
}

// counter is the value of the one sample of name with the labels kv, or 0
// when there is none (a vector's child appears at its first increment).
func counter(t testing.TB, x exposition, name string, kv ...string) float64 {
	t.Helper()
	switch got := x.find(name, kv...); len(got) {
	case 0:
		return 0
	case 1:
		return got[0].value
	default:
		t.Fatalf("%d samples of %s%v, want at most 1", len(got), name, kv)
		return 0
	}
}

func countLines(text, substr string) int {
	n := 0
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

func firstLine(text, substr string) string {
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, substr) {
			return line
		}
	}
	return ""
}

// checkLogLines fails the test for a log line longer than max bytes.
func checkLogLines(t testing.TB, logs string, max int) {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		if len(line) > max {
			t.Errorf("log line of %d bytes, want at most %d: %.300q…", len(line), max, line)
		}
	}
}

// exporterPID finds the exporter's process by its listen address among the
// command lines in /proc.
func exporterPID(t testing.TB, e *redistest.Exporter) int {
	t.Helper()
	want := "--web.listen-address=" + e.Addr
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for _, arg := range strings.Split(string(cmdline), "\x00") {
			if arg == want {
				return pid
			}
		}
	}
	t.Fatalf("no process in /proc has the argument %s", want)
	return 0
}

// procStatus reads the memory fields (kB) of /proc/pid/status, in bytes.
func procStatus(t testing.TB, pid int) map[string]float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(k, "Vm") {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 2 && f[1] == "kB" {
			n, err := strconv.ParseFloat(f[0], 64)
			if err == nil {
				out[k] = n * 1024
			}
		}
	}
	for _, k := range []string{"VmRSS", "VmHWM"} {
		if _, ok := out[k]; !ok {
			t.Fatalf("/proc/%d/status has no %s:\n%s", pid, k, b)
		}
	}
	return out
}

func mib(b float64) float64 { return b / (1 << 20) }

// probeOutcome is one probe of probeMany.
type probeOutcome struct {
	i       int // the probe's index; it probed addrs[i%len(addrs)]
	code    int
	success string // probe_success as written, "" when absent
	err     error
	took    time.Duration
}

// probeMany runs n probes, parallel at a time, cycling through addrs.
func probeMany(e *redistest.Exporter, addrs []string, n, parallel int) []probeOutcome {
	out := make([]probeOutcome, n)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			began := time.Now()
			o := &out[i]
			o.i = i
			resp, err := client.Get(e.URL + "/probe?target=" + url.QueryEscape(addrs[i%len(addrs)]))
			if err != nil {
				o.err = err
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			o.code, o.err, o.took = resp.StatusCode, err, time.Since(began)
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "probe_success "); ok {
					o.success = v
				}
			}
		}()
	}
	wg.Wait()
	return out
}
