package redistest

import (
	"bytes"
	"context"
	"encoding/json"
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
)

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// BuildExporter builds ./cmd/redis_probe_exporter once per test binary and
// returns the path of the binary. RemoveBuilds deletes it.
func BuildExporter(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			build.err = fmt.Errorf("finding the go command: %w", err)
			return
		}
		out, err := exec.Command(goBin, "env", "GOMOD").Output()
		gomod := strings.TrimSpace(string(out))
		if err != nil || gomod == "" || gomod == os.DevNull {
			build.err = fmt.Errorf("finding the module root with go env GOMOD: %q, %v", gomod, err)
			return
		}
		build.dir, err = os.MkdirTemp("", "redis_probe_exporter-e2e-")
		if err != nil {
			build.err = err
			return
		}
		bin := filepath.Join(build.dir, "redis_probe_exporter")
		cmd := exec.Command(goBin, "build", "-o", bin, "./cmd/redis_probe_exporter")
		cmd.Dir = filepath.Dir(gomod)
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build ./cmd/redis_probe_exporter: %v\n%s", err, out)
			return
		}
		build.bin = bin
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

// RemoveBuilds deletes what BuildExporter built; call it from TestMain after
// m.Run.
func RemoveBuilds() {
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
}

// syncBuffer is a bytes.Buffer that a process writes while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is a started command whose output goes to a buffer and whose exit
// is watched, so that a test can tell a crash from a slow start.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed once the process has exited
	err  error         // Wait's result, set before done closes
}

func startProcess(name, dir, bin string, args ...string) (*process, error) {
	p := &process{name: name, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, then kills the process after grace.
func (p *process) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// waitHTTP polls url until it answers 200. It gives up early, with the
// process's output, when the process exits.
func (p *process) waitHTTP(url string, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	var last error
	for {
		if p.exited() {
			return fmt.Errorf("%s exited before %s answered: %v", p.name, url, p.err)
		}
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %v", p.name, timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startListening starts a server process on a free port, retrying with
// another port when the one picked was taken in the meantime.
func startListening(t testing.TB, name, dir, bin string, args func(port int) []string, readyPath string, timeout time.Duration) (*process, string) {
	t.Helper()
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		port := FreePort(t)
		var p *process
		p, err = startProcess(name, dir, bin, args(port)...)
		if err != nil {
			t.Fatal(err)
		}
		base := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err = p.waitHTTP(base+readyPath, timeout); err == nil {
			return p, base
		}
		p.stop(5 * time.Second)
		if !strings.Contains(p.out.String(), "address already in use") {
			t.Fatalf("%v\n%s output:\n%s", err, name, p.out.String())
		}
	}
	t.Fatalf("%v (port taken three times)", err)
	return nil, ""
}

// Exporter is a running redis_probe_exporter process.
type Exporter struct {
	URL  string // "http://127.0.0.1:port"
	Addr string // "127.0.0.1:port", as a Prometheus target
	Dir  string // its working directory, a fresh temp dir
	p    *process

	stopped bool // by Stop, before the test's cleanup
}

// StartExporter runs bin with --web.listen-address on a free loopback port
// plus args, in a fresh temp working directory, and waits until /-/healthy
// answers. The process is stopped (SIGTERM, then SIGKILL) when the test
// ends, and its log is shown if the test failed.
func StartExporter(t testing.TB, bin string, args ...string) *Exporter {
	t.Helper()
	dir := t.TempDir()
	p, base := startListening(t, "redis_probe_exporter", dir, bin, func(port int) []string {
		return append([]string{"--web.listen-address=" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}, args...)
	}, "/-/healthy", 15*time.Second)
	e := &Exporter{URL: base, Addr: strings.TrimPrefix(base, "http://"), Dir: dir, p: p}
	t.Cleanup(func() {
		crashed, err := e.Exited()
		crashed = crashed && !e.stopped
		e.Stop()
		switch {
		case crashed:
			t.Errorf("redis_probe_exporter exited before the test ended: %v", err)
		case e.p.err != nil:
			t.Errorf("redis_probe_exporter did not exit cleanly on SIGTERM: %v", e.p.err)
		}
		if t.Failed() {
			t.Logf("redis_probe_exporter log:\n%s", e.Log())
		}
	})
	return e
}

// Signal sends sig to the exporter, such as syscall.SIGHUP for a reload.
func (e *Exporter) Signal(sig os.Signal) error { return e.p.cmd.Process.Signal(sig) }

// Log is what the exporter wrote to stderr (and stdout) so far.
func (e *Exporter) Log() string { return e.p.out.String() }

// Stop stops the exporter now: SIGTERM, then SIGKILL after 5s. Call it
// from the test's goroutine.
func (e *Exporter) Stop() {
	e.stopped = true
	e.p.stop(5 * time.Second)
}

// Exited reports whether the process has exited, and how.
func (e *Exporter) Exited() (bool, error) {
	if !e.p.exited() {
		return false, nil
	}
	return true, e.p.err
}

// StartPrometheus writes configYAML as prometheus.yml in a temp dir, runs
// prometheus on it with its TSDB in the same dir, a free loopback port and
// the lifecycle API enabled, and waits until /-/ready answers. It returns
// the server's URL. Prometheus is stopped when the test ends, and its log is
// shown if the test failed.
func StartPrometheus(t testing.TB, configYAML string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(configYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	p, base := startListening(t, "prometheus", dir, "prometheus", func(port int) []string {
		return []string{
			"--config.file=" + cfg,
			"--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			"--web.enable-lifecycle",
		}
	}, "/-/ready", 30*time.Second)
	t.Cleanup(func() {
		p.stop(10 * time.Second)
		if t.Failed() {
			t.Logf("prometheus log:\n%s", p.out.String())
		}
	})
	return base
}

// Sample is one series of an instant vector.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Query runs an instant query on the Prometheus at promURL and returns its
// vector, failing the test on any error.
func Query(t testing.TB, promURL, expr string) []Sample {
	t.Helper()
	s, err := TryQuery(promURL, expr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TryQuery is Query returning its error, for polling.
func TryQuery(promURL, expr string) ([]Sample, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, promURL+"/api/v1/query?query="+url.QueryEscape(expr), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("query %q: %s: decoding: %w", expr, resp.Status, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %q: %s: %s: %s", expr, resp.Status, body.ErrorType, body.Error)
	}
	if body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: result type %q, want vector", expr, body.Data.ResultType)
	}
	out := make([]Sample, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		s, ok := r.Value[1].(string)
		if !ok {
			return nil, fmt.Errorf("query %q: value %v is not a string", expr, r.Value[1])
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %q: %w", expr, err)
		}
		out = append(out, Sample{Labels: r.Metric, Value: v})
	}
	return out, nil
}
