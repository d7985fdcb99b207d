package main

// Helpers of the end-to-end tests: HTTP, expositions, processes.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

var logLinkRE = regexp.MustCompile(`href="/?logs\?id=(\d+)"`)

// logIDs are the ids of the probe logs the landing page links, in page
// order (newest first).
func logIDs(landing string) []string {
	var ids []string
	for _, m := range logLinkRE.FindAllStringSubmatch(landing, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	// Write then rename, so that a reload never reads half a file.
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	return p
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

func httpGet(t testing.TB, u string) (int, string) {
	t.Helper()
	resp, err := httpClient.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func httpPost(t testing.TB, u string) (int, string) {
	t.Helper()
	resp, err := httpClient.Post(u, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// probe GETs /probe with q and parses the answer when it is 200.
func probe(t testing.TB, e *redistest.Exporter, q url.Values) (int, exposition) {
	t.Helper()
	code, body := httpGet(t, e.URL+"/probe?"+q.Encode())
	if code != http.StatusOK {
		return code, nil
	}
	return code, parseExposition(t, body)
}

func scrapeMetrics(t testing.TB, e *redistest.Exporter) exposition {
	t.Helper()
	code, body := httpGet(t, e.URL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: status %d", code)
	}
	return parseExposition(t, body)
}

// runExporter runs the binary to its exit, bounded by 15s, and returns its
// exit code and output.
func runExporter(t testing.TB, bin, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %v still running after 15s\nstderr: %s", bin, args, errOut.String())
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// series is one sample of a scraped exposition.
type series struct {
	name   string
	labels map[string]string
	value  float64
}

type exposition []series

func parseExposition(t testing.TB, text string) exposition {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parsing exposition: %v\n%s", err, text)
	}
	var x exposition
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			s := series{name: name, labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			switch {
			case m.Gauge != nil:
				s.value = m.GetGauge().GetValue()
			case m.Counter != nil:
				s.value = m.GetCounter().GetValue()
			case m.Untyped != nil:
				s.value = m.GetUntyped().GetValue()
			case m.Histogram != nil:
				s.value = float64(m.GetHistogram().GetSampleCount())
			case m.Summary != nil:
				s.value = float64(m.GetSummary().GetSampleCount())
			}
			x = append(x, s)
		}
	}
	return x
}

// find returns the samples of name whose labels include the kv pairs.
func (x exposition) find(name string, kv ...string) []series {
	var out []series
next:
	for _, s := range x {
		if s.name != name {
			continue
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if s.labels[kv[i]] != kv[i+1] {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

// one is the value of the single sample find returns; it fails the test
// when there is none or more than one.
func (x exposition) one(t testing.TB, name string, kv ...string) float64 {
	t.Helper()
	got := x.find(name, kv...)
	if len(got) != 1 {
		t.Fatalf("%d samples of %s%v, want 1 (families: %v)", len(got), name, kv, x.names())
	}
	return got[0].value
}

func (x exposition) names() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range x {
		if !seen[s.name] {
			seen[s.name] = true
			out = append(out, s.name)
		}
	}
	sort.Strings(out)
	return out
}

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
