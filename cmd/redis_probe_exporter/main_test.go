package main

// End-to-end tests of the exporter binary: each test builds it (once per test
// binary), starts it and the real redis-server and prometheus processes it
// talks to, and checks what they answer.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	redistest.RemoveBuilds()
	if err := goleak.Find(); code == 0 && err != nil {
		fmt.Fprintln(os.Stderr, "goroutines outlived the tests:", err)
		code = 1
	}
	os.Exit(code)
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name, yaml string // yaml "" means no file
		wantCode   int
		wantStdout []string
		wantStderr []string // %s is replaced by the file's path
	}{
		{
			name:       "valid",
			yaml:       "auths:\n  prod:\n    password: pw\nmodules:\n  default:\n    timeout: 5s\n  lean:\n    auth: prod\n",
			wantCode:   0,
			wantStdout: []string{"%s: config is valid", "2 modules", "1 auths"},
			wantStderr: []string{"warning: auths.prod: credentials without allowed_targets"},
		},
		{
			name:       "unknown field",
			yaml:       "modules:\n  default:\n    timeuot: 5s\n",
			wantCode:   1,
			wantStderr: []string{"%s:3:", "modules.default.timeuot", "timeuot not found"},
		},
		{
			name:       "bad duration",
			yaml:       "modules:\n  default:\n    timeout: 5 seconds\n",
			wantCode:   1,
			wantStderr: []string{"%s:3:", "modules.default.timeout", `invalid duration "5 seconds"`},
		},
		{
			name:       "unknown auth",
			yaml:       "modules:\n  default:\n    timeout: 5s\n    auth: nope\n",
			wantCode:   1,
			wantStderr: []string{"%s:4:", "modules.default.auth", `unknown auth "nope"`},
		},
		{
			name:       "missing file",
			wantCode:   1,
			wantStderr: []string{"%s"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yml")
			if tc.yaml != "" {
				writeFile(t, dir, filepath.Base(file), tc.yaml)
			}
			code, stdout, stderr := runExporter(t, bin, dir, "--config.check", "--config.file="+file)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, stdout, stderr)
			}
			for _, w := range tc.wantStdout {
				if w = strings.ReplaceAll(w, "%s", file); !strings.Contains(stdout, w) {
					t.Errorf("stdout %q lacks %q", stdout, w)
				}
			}
			for _, w := range tc.wantStderr {
				if w = strings.ReplaceAll(w, "%s", file); !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
			if tc.wantCode != 0 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("error spans lines: %q", stderr)
			}
		})
	}
	// Without --config.file and without redis_probe.yml, what was checked is
	// the embedded default, and the answer says so.
	code, stdout, _ := runExporter(t, bin, dir, "--config.check")
	if want := "embedded default config (redis_probe.yml not found): config is valid"; code != 0 || !strings.Contains(stdout, want) {
		t.Errorf("--config.check with no file: exit %d, %q, want 0 and %q", code, stdout, want)
	}
}

func TestStartupErrors(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)
	dir := t.TempDir()
	invalid := writeFile(t, dir, "invalid.yml", "modules:\n  default:\n    timeuot: 5s\n")
	missing := filepath.Join(dir, "missing.yml")
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"missing file", missing, []string{"Error loading config", missing}},
		{"invalid config", invalid, []string{"Error loading config", invalid + ":3:", "modules.default.timeuot"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			listen := "--web.listen-address=" + net.JoinHostPort("127.0.0.1", strconv.Itoa(redistest.FreePort(t)))
			code, stdout, stderr := runExporter(t, bin, dir, "--config.file="+tc.file, listen)
			if code == 0 {
				t.Errorf("exit code 0, want an error\nstdout: %s\nstderr: %s", stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
		})
	}

	t.Run("embedded default", func(t *testing.T) {
		srv := redistest.StartRedis(t)
		// No --config.file, and the exporter's working dir is an empty temp dir.
		e := redistest.StartExporter(t, bin)
		if _, err := os.Stat(filepath.Join(e.Dir, "redis_probe.yml")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("working dir has redis_probe.yml: %v", err)
		}
		if log := e.Log(); !strings.Contains(log, "embedded default") {
			t.Errorf("log does not say it uses the embedded default:\n%s", log)
		}
		for _, module := range []string{"default", ""} {
			q := url.Values{"target": {srv.Addr()}}
			if module != "" {
				q.Set("module", module)
			}
			code, x := probe(t, e, q)
			if code != http.StatusOK {
				t.Fatalf("probe %v: status %d", q, code)
			}
			if v := x.one(t, "probe_success"); v != 1 {
				t.Errorf("probe %v: probe_success %v, want 1", q, v)
			}
			if v := x.one(t, "redis_db_keys", "db", "db0"); v != 0 {
				t.Errorf("probe %v: redis_db_keys{db=db0} %v, want 0", q, v)
			}
		}
		_, cfg := httpGet(t, e.URL+"/config")
		if !strings.Contains(cfg, "default:") || !strings.Contains(cfg, "timeout: 5s") {
			t.Errorf("/config:\n%s", cfg)
		}

		// A reload finds the file once it is there.
		writeFile(t, e.Dir, "redis_probe.yml", "modules:\n  custom:\n    timeout: 2s\n")
		if err := e.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		redistest.WaitFor(t, 10*time.Second, func() error {
			code, body := httpGet(t, e.URL+"/probe?module=custom&target="+url.QueryEscape(srv.Addr()))
			if code != http.StatusOK {
				return fmt.Errorf("module custom: %d %s", code, body)
			}
			return nil
		}, e.Log)
		if code, body := httpGet(t, e.URL+"/probe?module=default&target="+url.QueryEscape(srv.Addr())); code != http.StatusBadRequest {
			t.Errorf("module default after loading a file without it: %d %s", code, body)
		}
	})
}

func TestReload(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)
	srv := redistest.StartRedis(t)
	dir := t.TempDir()
	start := time.Now()
	const valid = "modules:\n  a:\n    timeout: 3s\n  b:\n    timeout: 3s\n    metrics:\n      include: ['redis_up']\n"
	cfg := writeFile(t, dir, "redis_probe.yml", valid)
	e := redistest.StartExporter(t, bin, "--config.file="+cfg)

	probeModule := func(module string) (int, exposition) {
		t.Helper()
		return probe(t, e, url.Values{"target": {srv.Addr()}, "module": {module}})
	}
	reloadGauges := func() (float64, float64) {
		t.Helper()
		x := scrapeMetrics(t, e)
		return x.one(t, "redis_probe_exporter_config_last_reload_successful"),
			x.one(t, "redis_probe_exporter_config_last_reload_success_timestamp_seconds")
	}
	if ok, ts := reloadGauges(); ok != 1 || ts < float64(start.Unix()-1) || ts > float64(time.Now().Unix()+1) {
		t.Errorf("after start: last_reload_successful %v, success timestamp %v (test started %d)", ok, ts, start.Unix())
	}
	if code, _ := probeModule("c"); code != http.StatusBadRequest {
		t.Errorf("module c before it exists: status %d, want 400", code)
	}

	// A broken file: the reload fails with the reason, the old config stays.
	writeFile(t, dir, "redis_probe.yml", "modules:\n  a:\n    timeout: 3s\n  b:\n    timeuot: 3s\n")
	code, body := httpPost(t, e.URL+"/-/reload")
	if code != http.StatusInternalServerError {
		t.Errorf("POST /-/reload with a broken file: status %d, want 500", code)
	}
	for _, w := range []string{"failed to reload config", cfg + ":5:", "modules.b.timeuot"} {
		if !strings.Contains(body, w) {
			t.Errorf("reload body %q lacks %q", body, w)
		}
	}
	if code, x := probeModule("a"); code != http.StatusOK || x.one(t, "probe_success") != 1 {
		t.Errorf("module a after a failed reload: status %d, probe_success %v", code, x.find("probe_success"))
	}
	// b keeps its old filter.
	if code, x := probeModule("b"); code != http.StatusOK || x.one(t, "redis_up") != 1 || len(x.find("redis_memory_used_bytes")) != 0 {
		t.Errorf("module b after a failed reload: status %d, families %v", code, x.names())
	}
	if ok, _ := reloadGauges(); ok != 0 {
		t.Errorf("last_reload_successful after a failed reload = %v, want 0", ok)
	}
	// SIGHUP with the broken file logs the error and changes nothing.
	if err := e.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	redistest.WaitFor(t, 10*time.Second, func() error {
		if !strings.Contains(e.Log(), "Error reloading config") {
			return errors.New("no reload error logged after SIGHUP")
		}
		return nil
	}, e.Log)

	// The fixed file, with module c, comes in on SIGHUP.
	writeFile(t, dir, "redis_probe.yml", valid+"  c:\n    timeout: 2s\n")
	if err := e.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	redistest.WaitFor(t, 10*time.Second, func() error {
		if code, _ := probeModule("c"); code != http.StatusOK {
			return fmt.Errorf("module c: status %d", code)
		}
		return nil
	}, e.Log)
	if _, x := probeModule("c"); x.one(t, "probe_success") != 1 {
		t.Errorf("module c: probe_success %v", x.find("probe_success"))
	}
	if ok, ts := reloadGauges(); ok != 1 || ts < float64(start.Unix()-1) || ts > float64(time.Now().Unix()+1) {
		t.Errorf("after the SIGHUP reload: last_reload_successful %v, success timestamp %v", ok, ts)
	}
	if !strings.Contains(e.Log(), "Reloaded config file") {
		t.Errorf("no reload logged:\n%s", e.Log())
	}

	// POST /-/reload with a good file answers 200.
	if code, body := httpPost(t, e.URL+"/-/reload"); code != http.StatusOK {
		t.Errorf("POST /-/reload with a good file: %d %s", code, body)
	}
	resp, err := http.Get(e.URL + "/-/reload")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
		t.Errorf("GET /-/reload: %s, Allow %q; want 405, Allow POST", resp.Status, resp.Header.Get("Allow"))
	}
}

func TestSecretsNeverShown(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-pw"
	bin := redistest.BuildExporter(t)
	srv := redistest.StartRedis(t, "--requirepass", secret, "--user", "exp", "on", ">"+secret, "~*", "&*", "+@all")
	dir := t.TempDir()
	cfg := writeFile(t, dir, "redis_probe.yml", `
auths:
  prod:
    username: exp
    password: `+secret+`
  legacy:
    password: `+secret+`
  wrong:
    username: exp
    password: not-the-password
modules:
  default:
    timeout: 3s
  prod:
    timeout: 3s
    auth: prod
`)
	e := redistest.StartExporter(t, bin, "--config.file="+cfg, "--log.level=debug")

	var bodies []string // every page fetched, checked for the secret at the end
	for _, tc := range []struct {
		name, module, auth string
		want               float64
	}{
		{"auth with user", "", "prod", 1},
		{"auth with requirepass", "", "legacy", 1},
		{"module's auth", "prod", "", 1},
		{"no auth", "", "", 0},
		{"wrong password", "", "wrong", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"target": {srv.Addr()}}
			if tc.module != "" {
				q.Set("module", tc.module)
			}
			if tc.auth != "" {
				q.Set("auth", tc.auth)
			}
			code, body := httpGet(t, e.URL+"/probe?"+q.Encode())
			bodies = append(bodies, body)
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			x := parseExposition(t, body)
			if v := x.one(t, "probe_success"); v != tc.want {
				t.Errorf("probe_success %v, want %v", v, tc.want)
			}
			if v := x.one(t, "redis_up"); v != tc.want {
				t.Errorf("redis_up %v, want %v", v, tc.want)
			}

			q.Set("debug", "true")
			code, body = httpGet(t, e.URL+"/probe?"+q.Encode())
			bodies = append(bodies, body)
			if code != http.StatusOK || !strings.Contains(body, "Module configuration:") {
				t.Errorf("debug probe: status %d\n%s", code, body)
			}
			if (tc.auth != "" || tc.module == "prod") && !strings.Contains(body, "password: "+"<secret>") {
				t.Errorf("debug output does not show the auth's password as <secret>:\n%s", body)
			}
		})
	}

	code, cfgBody := httpGet(t, e.URL+"/config")
	bodies = append(bodies, cfgBody)
	if code != http.StatusOK || strings.Count(cfgBody, "password: <secret>") != 3 || !strings.Contains(cfgBody, "username: exp") {
		t.Errorf("/config: status %d, want three masked passwords and the user name:\n%s", code, cfgBody)
	}
	_, landing := httpGet(t, e.URL+"/")
	bodies = append(bodies, landing)
	ids := logIDs(landing)
	if len(ids) != 10 {
		t.Errorf("landing page links %d probe logs, want 10", len(ids))
	}
	for _, id := range ids {
		code, body := httpGet(t, e.URL+"/logs?id="+id)
		if code != http.StatusOK || !strings.Contains(body, "Beginning probe") {
			t.Errorf("/logs?id=%s: status %d: %s", id, code, body)
		}
		bodies = append(bodies, body)
	}
	_, metrics := httpGet(t, e.URL+"/metrics")
	bodies = append(bodies, metrics)

	log := e.Log()
	if !strings.Contains(log, "Beginning probe") {
		t.Errorf("the debug log has no probe lines, so it proves nothing:\n%s", log)
	}
	bodies = append(bodies, log)
	for _, b := range bodies {
		if strings.Contains(b, secret) {
			t.Errorf("the secret shows in:\n%s", b)
		}
	}
}

func TestHTTPErrors(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "redis_probe.yml", `
auths:
  fenced:
    password: pw
    allowed_targets: ['10.0.0.0/8']
modules:
  default:
    timeout: 2s
  fenced:
    timeout: 2s
    allowed_targets: ['10.0.0.0/8', '*.cache.internal']
`)
	e := redistest.StartExporter(t, bin, "--config.file="+cfg)

	want := map[string]float64{"target": 0, "module": 0, "auth": 0, "forbidden": 0}
	for _, tc := range []struct {
		name   string
		query  string
		status int
		reason string // the reason label counted
		body   []string
	}{
		{"missing target", "module=default", 400, "target", []string{"missing target"}},
		{"empty target", "target=", 400, "target", []string{"missing target"}},
		{"credentials in target", "target=" + url.QueryEscape("redis://u:p@127.0.0.1:6379"), 400, "target", []string{"credentials", "auths"}},
		{"bad port", "target=" + url.QueryEscape("redis://127.0.0.1:99999"), 400, "target", []string{"invalid port", "99999"}},
		{"bad scheme", "target=" + url.QueryEscape("http://127.0.0.1:6379"), 400, "target", []string{"unsupported target scheme", "http"}},
		{"unknown module", "target=127.0.0.1:6379&module=nope", 400, "module", []string{`unknown module "nope"`}},
		{"unknown auth", "target=127.0.0.1:6379&auth=nope", 400, "auth", []string{`unknown auth "nope"`}},
		{"outside module's allowed targets", "target=127.0.0.1:6379&module=fenced", 403, "forbidden", []string{"127.0.0.1:6379", `module "fenced"`, "allowed_targets"}},
		{"outside auth's allowed targets", "target=127.0.0.1:6379&auth=fenced", 403, "forbidden", []string{"127.0.0.1:6379", `auth "fenced"`, "allowed_targets"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want[tc.reason]++
			code, body := httpGet(t, e.URL+"/probe?"+tc.query)
			if code != tc.status {
				t.Errorf("status %d, want %d: %s", code, tc.status, body)
			}
			if line := strings.TrimSuffix(body, "\n"); line == "" || strings.Contains(line, "\n") {
				t.Errorf("body is not one line: %q", body)
			}
			for _, w := range tc.body {
				if !strings.Contains(body, w) {
					t.Errorf("body %q lacks %q", body, w)
				}
			}
			if strings.Contains(body, "u:p@") {
				t.Errorf("body repeats the credentials: %q", body)
			}
		})
	}

	x := scrapeMetrics(t, e)
	for reason, n := range want {
		if v := x.one(t, "redis_probe_exporter_probe_requests_rejected_total", "reason", reason); v != n {
			t.Errorf("rejected_total{reason=%q} = %v, want %v", reason, v, n)
		}
	}
	// A rejected request is not a probe: every module's counters exist,
	// at 0.
	for _, c := range x.find("redis_probe_exporter_probes_total") {
		if c.value != 0 {
			t.Errorf("probes_total counted rejected requests: %v", c)
		}
	}
	if got := len(x.find("redis_probe_exporter_probes_total")); got != 4 {
		t.Errorf("%d probes_total series, want success and failure for each of the 2 modules", got)
	}
}

func TestDownAndHangingTargets(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)

	// A peer that accepts connections and never writes a byte.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	hanging := l.Addr().String()
	down := net.JoinHostPort("127.0.0.1", strconv.Itoa(redistest.FreePort(t)))

	dir := t.TempDir()
	cfg := writeFile(t, dir, "redis_probe.yml", `
modules:
  default:
    timeout: 5s
  fast:
    timeout: 1s
  slow:
    timeout: 10s
`)
	e := redistest.StartExporter(t, bin, "--config.file="+cfg) // --timeout-offset defaults to 0.5

	for _, tc := range []struct {
		name, target, module, scrapeTimeout string
		min, max                            time.Duration
		wantTimeout                         string // timeout_seconds the probe log reports
	}{
		{"nothing listening", down, "default", "", 0, 500 * time.Millisecond, "timeout_seconds=5"},
		// The deadline used is the log's timeout_seconds; the durations only
		// tell 1s from the 5s and 10s modules, with room for a loaded machine.
		{"hanging peer, module timeout", hanging, "fast", "", 900 * time.Millisecond, 4 * time.Second, "timeout_seconds=1"},
		{"hanging peer, scrape timeout less offset", hanging, "slow", "1.5", 900 * time.Millisecond, 4 * time.Second, "timeout_seconds=1"},
		{"hanging peer, module timeout under scrape timeout", hanging, "fast", "10", 900 * time.Millisecond, 4 * time.Second, "timeout_seconds=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"target": {tc.target}, "module": {tc.module}}
			req, err := http.NewRequest(http.MethodGet, e.URL+"/probe?"+q.Encode(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.scrapeTimeout != "" {
				req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", tc.scrapeTimeout)
			}
			start := time.Now()
			resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %s: %s", resp.Status, body)
			}
			if took < tc.min || took > tc.max {
				t.Errorf("probe took %s, want between %s and %s", took, tc.min, tc.max)
			}
			x := parseExposition(t, string(body))
			if v := x.one(t, "probe_success"); v != 0 {
				t.Errorf("probe_success %v, want 0", v)
			}
			if v := x.one(t, "redis_up"); v != 0 {
				t.Errorf("redis_up %v, want 0", v)
			}
			if d := x.one(t, "probe_duration_seconds"); d < tc.min.Seconds() || d > tc.max.Seconds() {
				t.Errorf("probe_duration_seconds %v, want between %v and %v", d, tc.min.Seconds(), tc.max.Seconds())
			}
			// The probe's own log states the deadline it used.
			_, landing := httpGet(t, e.URL+"/")
			ids := logIDs(landing)
			if len(ids) == 0 {
				t.Fatal("no probe on the landing page")
			}
			_, log := httpGet(t, e.URL+"/logs?id="+ids[0]) // newest first
			if !strings.Contains(log, tc.wantTimeout) || !strings.Contains(log, "Probe failed") {
				t.Errorf("probe log lacks %q or Probe failed:\n%s", tc.wantTimeout, log)
			}
		})
	}

	x := scrapeMetrics(t, e)
	for module, n := range map[string]float64{"default": 1, "fast": 2, "slow": 1} {
		if v := x.one(t, "redis_probe_exporter_probes_total", "module", module, "result", "failure"); v != n {
			t.Errorf("probes_total{module=%q,result=failure} = %v, want %v", module, v, n)
		}
	}
}

func TestLandingPageAndLogs(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)
	srv := redistest.StartRedis(t)
	down := net.JoinHostPort("127.0.0.1", strconv.Itoa(redistest.FreePort(t)))
	e := redistest.StartExporter(t, bin) // embedded default config

	_, landing := httpGet(t, e.URL+"/")
	if !strings.Contains(landing, "No probes yet") || len(logIDs(landing)) != 0 {
		t.Errorf("landing page before any probe:\n%s", landing)
	}
	for _, target := range []string{srv.Addr(), down} {
		if code, _ := probe(t, e, url.Values{"target": {target}}); code != http.StatusOK {
			t.Fatalf("probe %s: status %d", target, code)
		}
	}

	code, landing := httpGet(t, e.URL+"/")
	if code != http.StatusOK {
		t.Fatalf("/: status %d", code)
	}
	base, err := url.Parse(e.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // target -> its table row
	for _, row := range strings.Split(landing, "<tr>") {
		for _, target := range []string{srv.Addr(), down} {
			if strings.Contains(row, ">"+target+"<") {
				rows[target] = row
			}
		}
	}
	for _, tc := range []struct {
		target, result, logLine string
	}{
		{srv.Addr(), "success", "Probe succeeded"},
		{down, "failure", "Probe failed"},
	} {
		row, ok := rows[tc.target]
		if !ok {
			t.Errorf("landing page has no row for %s:\n%s", tc.target, landing)
			continue
		}
		if !strings.Contains(row, ">"+tc.result+"<") || !strings.Contains(row, ">default<") {
			t.Errorf("row for %s lacks result %s or module default: %s", tc.target, tc.result, row)
		}
		m := logLinkRE.FindStringSubmatch(row)
		if m == nil {
			t.Errorf("row for %s has no logs?id= link: %s", tc.target, row)
			continue
		}
		link, err := base.Parse(m[0][len(`href="`) : len(m[0])-1])
		if err != nil {
			t.Fatal(err)
		}
		if link.Path != "/logs" || link.Query().Get("id") != m[1] {
			t.Errorf("log link %q resolves to %s, want /logs?id=%s", m[0], link, m[1])
		}
		resp, err := http.Get(link.String())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("%s: %s, Content-Type %q", link, resp.Status, resp.Header.Get("Content-Type"))
		}
		for _, w := range []string{"Beginning probe", tc.logLine} {
			if !bytes.Contains(body, []byte(w)) {
				t.Errorf("%s lacks %q:\n%s", link, w, body)
			}
		}
	}
	for _, tc := range []struct {
		query  string
		status int
	}{
		{"", http.StatusBadRequest},
		{"?id=abc", http.StatusBadRequest},
		{"?id=999999", http.StatusNotFound},
	} {
		if code, body := httpGet(t, e.URL+"/logs"+tc.query); code != tc.status {
			t.Errorf("/logs%s: status %d, want %d: %s", tc.query, code, tc.status, body)
		}
	}
	if code, _ := httpGet(t, e.URL+"/nope"); code != http.StatusNotFound {
		t.Errorf("/nope: status %d, want 404", code)
	}
}

// --- helpers ---

func TestBadFlags(t *testing.T) {
	bin := redistest.BuildExporter(t)
	for _, args := range [][]string{{"--pool.max-targets=0"}, {"--pool.idle-timeout=0s"}, {"--log.level=loud"}} {
		code, _, stderr := runExporter(t, bin, t.TempDir(), args...)
		if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, stderr)
		}
	}
}
