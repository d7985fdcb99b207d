package main

// The exporter against small servers that abuse the protocol as no real
// Redis does (internal/redistest/hostile.go): every probe fails by its
// deadline, and the exporter's memory stays bounded.

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

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
