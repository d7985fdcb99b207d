package examples

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// dashboards are the Grafana dashboards under examples/grafana;
// TestDashboardJSON fails when a file and this list disagree.
var dashboards = []string{"redis-fleet.json", "redis-instance.json"}

// dashboardEmpty lists the panel targets ("file/panel title/refId") that
// TestDashboardQueries lets return no series, each with the reason. Every
// other target must return data on the test's master and replica.
var dashboardEmpty = map[string]string{
	"redis-instance.json/Latency spikes/A": "LATENCY LATEST has no event unless something exceeded latency-monitor-threshold, which a test cannot make happen reliably",
}

// dashboardReplicaOnly lists the targets of redis-instance.json that have
// data only when $instance is a replica: the test runs them against the
// replica instead of the master.
var dashboardReplicaOnly = map[string]string{
	"redis-instance.json/Master link (on a replica)/A": "redis_master_link_up is only reported by replicas",
	"redis-instance.json/Master link (on a replica)/B": "redis_master_last_io_seconds_ago is only reported by replicas",
}

// grafanaDashboard is the part of Grafana's dashboard model the tests read.
type grafanaDashboard struct {
	UID           string         `json:"uid"`
	Title         string         `json:"title"`
	SchemaVersion int            `json:"schemaVersion"`
	Panels        []grafanaPanel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string             `json:"name"`
			Type       string             `json:"type"`
			Query      json.RawMessage    `json:"query"`
			Datasource *grafanaDatasource `json:"datasource"`
			Multi      bool               `json:"multi"`
		} `json:"list"`
	} `json:"templating"`
}

type grafanaDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type grafanaPanel struct {
	ID         int                      `json:"id"`
	Type       string                   `json:"type"`
	Title      string                   `json:"title"`
	Datasource *grafanaDatasource       `json:"datasource"`
	GridPos    struct{ H, W, X, Y int } `json:"gridPos"`
	Targets    []struct {
		Expr       string             `json:"expr"`
		RefID      string             `json:"refId"`
		Datasource *grafanaDatasource `json:"datasource"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"` // a row's, when collapsed
}

// dashboardTarget is one query of a dashboard panel.
type dashboardTarget struct {
	key  string // file/panel title/refId
	expr string
}

func readDashboard(t *testing.T, file string) grafanaDashboard {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("grafana", file))
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("grafana/%s: %v", file, err)
	}
	return d
}

// flatPanels is every panel, those inside collapsed rows included.
func flatPanels(ps []grafanaPanel) []grafanaPanel {
	var out []grafanaPanel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flatPanels(p.Panels)...)
	}
	return out
}

func dashboardTargets(file string, d grafanaDashboard) []dashboardTarget {
	var out []dashboardTarget
	for _, p := range flatPanels(d.Panels) {
		for _, tg := range p.Targets {
			out = append(out, dashboardTarget{key: file + "/" + p.Title + "/" + tg.RefID, expr: tg.Expr})
		}
	}
	return out
}

// TestDashboardJSON checks the dashboards' structure: what Grafana needs
// to import them with any Prometheus data source.
func TestDashboardJSON(t *testing.T) {
	files, err := filepath.Glob("grafana/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for i := range files {
		files[i] = filepath.Base(files[i])
	}
	if want := slices.Sorted(slices.Values(dashboards)); !slices.Equal(files, want) {
		t.Fatalf("examples/grafana holds %v but dashboards lists %v: update the list", files, want)
	}
	keys := map[string]bool{}
	uids := map[string]bool{}
	for _, file := range dashboards {
		d := readDashboard(t, file)
		if d.UID == "" || d.Title == "" || uids[d.UID] {
			t.Errorf("%s: uid %q, title %q: want both, and a uid no other dashboard has", file, d.UID, d.Title)
		}
		uids[d.UID] = true
		if d.SchemaVersion < 36 {
			t.Errorf("%s: schemaVersion %d, want ≥ 36 (datasource references by uid)", file, d.SchemaVersion)
		}
		vars := map[string]bool{}
		for _, v := range d.Templating.List {
			vars[v.Name] = true
			switch v.Name {
			case "datasource":
				var q string
				if v.Type != "datasource" || json.Unmarshal(v.Query, &q) != nil || q != "prometheus" {
					t.Errorf("%s: variable datasource: type %q, query %s; want a datasource variable of type prometheus", file, v.Type, v.Query)
				}
			default:
				if v.Type != "query" || v.Datasource == nil || v.Datasource.UID != "${datasource}" {
					t.Errorf("%s: variable %s: want a query variable on ${datasource}", file, v.Name)
				}
			}
		}
		for _, name := range []string{"datasource", "job", "instance"} {
			if !vars[name] {
				t.Errorf("%s: no variable %s", file, name)
			}
		}
		ids := map[int]bool{}
		for _, p := range flatPanels(d.Panels) {
			if ids[p.ID] || p.ID == 0 {
				t.Errorf("%s: panel %q: id %d is 0 or taken", file, p.Title, p.ID)
			}
			ids[p.ID] = true
			if p.GridPos.W == 0 || p.GridPos.H == 0 || p.GridPos.X+p.GridPos.W > 24 {
				t.Errorf("%s: panel %q: gridPos %+v out of Grafana's 24 columns", file, p.Title, p.GridPos)
			}
			if p.Type == "row" {
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" || p.Datasource.Type != "prometheus" {
				t.Errorf("%s: panel %q: datasource %+v, want prometheus ${datasource}", file, p.Title, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no targets", file, p.Title)
			}
			refs := map[string]bool{}
			for _, tg := range p.Targets {
				if tg.RefID == "" || refs[tg.RefID] || strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("%s: panel %q: target %q: want an expr and a refId unique in the panel", file, p.Title, tg.RefID)
				}
				refs[tg.RefID] = true
				if tg.Datasource != nil && tg.Datasource.UID != "${datasource}" {
					t.Errorf("%s: panel %q: target %s: datasource %+v, want ${datasource}", file, p.Title, tg.RefID, tg.Datasource)
				}
			}
		}
		for _, tg := range dashboardTargets(file, d) {
			if keys[tg.key] {
				t.Errorf("%s: two targets are %s: give panels distinct titles", file, tg.key)
			}
			keys[tg.key] = true
		}
	}
	for _, m := range []map[string]string{dashboardEmpty, dashboardReplicaOnly} {
		for k := range m {
			if !keys[k] {
				t.Errorf("%s is listed in the test but is no dashboard target: update the list", k)
			}
		}
	}
}

// dashboardExporterConfig is the default module plus key rules, so that the
// key-rule panels have data.
const dashboardExporterConfig = `modules:
  default:
    timeout: 5s
    keys:
      - metric: app_sessions_by_tenant
        pattern: "session:*"
        key_labels: '^session:(?P<tenant>[^:]+):'
        aggregate: count
      - metric: app_queue_length
        keys: ["queue:emails", "queue:sms"]
        measure: length
`

// TestDashboardQueries runs every panel query of the dashboards, their
// variables substituted as Grafana would, on a real Prometheus that scrapes
// a master and its replica through the exporter and loads the shipped rule
// files. A query must parse and, unless listed in dashboardEmpty, return
// data.
func TestDashboardQueries(t *testing.T) {
	t.Parallel()
	recording, err := filepath.Abs(filepath.Join("prometheus", "redis-recording.yml"))
	if err != nil {
		t.Fatal(err)
	}
	alerts, err := filepath.Abs(filepath.Join("prometheus", "redis-alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}

	bin := redistest.BuildExporter(t)
	redisArgs := []string{"--maxmemory", "256mb", "--slowlog-log-slower-than", "0", "--latency-monitor-threshold", "1"}
	master := redistest.StartRedis(t, redisArgs...)
	replica := redistest.StartRedis(t, append(slices.Clone(redisArgs), "--replicaof", "127.0.0.1", fmt.Sprint(master.Port))...)

	ctx := t.Context()
	mc := master.Client(t)
	for _, tenant := range []string{"acme", "globex"} {
		for i := range 3 {
			if err := mc.Set(ctx, fmt.Sprintf("session:%s:%d", tenant, i), "x", time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := mc.RPush(ctx, "queue:emails", "a", "b", "c").Err(); err != nil {
		t.Fatal(err)
	}
	if err := mc.Set(ctx, "counter", "not a number", 0).Err(); err != nil {
		t.Fatal(err)
	}
	rc := replica.Client(t)
	redistest.WaitFor(t, 15*time.Second, func() error {
		n, err := rc.DBSize(ctx).Result()
		if err != nil {
			return err
		}
		if n != 8 {
			return fmt.Errorf("replica has %d keys, want the master's 8", n)
		}
		return nil
	}, nil)

	// Traffic on the master until the test ends: hits, misses, writes,
	// failed and rejected calls, so that every rate has something to count.
	trafficCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { stop(); wg.Wait() })
	wg.Go(func() {
		for i := 0; ; i++ {
			_ = mc.Get(trafficCtx, "session:acme:0").Err()
			_ = mc.Get(trafficCtx, "missing").Err()
			_ = mc.Set(trafficCtx, "tick", i, 0).Err()
			_ = mc.Incr(trafficCtx, "counter").Err() // fails: not an integer
			_ = mc.Do(trafficCtx, "get").Err()       // rejected: wrong arity
			select {
			case <-trafficCtx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	})

	cfg := filepath.Join(t.TempDir(), "redis_probe.yml")
	if err := os.WriteFile(cfg, []byte(dashboardExporterConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	e := redistest.StartExporter(t, bin, "--config.file="+cfg)
	prom := redistest.StartPrometheus(t, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %q
  - %q
scrape_configs:
  - job_name: redis
    metrics_path: /probe
    params:
      module: [default]
    static_configs:
      - targets: [%q, %q]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: %q
  - job_name: redis_probe_exporter
    static_configs:
      - targets: [%q]
`, recording, alerts, master.Addr(), replica.Addr(), e.Addr, e.Addr))

	// Rule groups of both shipped files, all rules evaluated without error.
	var groups []string
	for _, f := range []string{recording, alerts} {
		var rf struct {
			Groups []struct {
				Name string `yaml:"name"`
			} `yaml:"groups"`
		}
		readYAML(t, f, &rf)
		for _, g := range rf.Groups {
			groups = append(groups, g.Name)
		}
	}
	redistest.WaitFor(t, 60*time.Second, func() error {
		if err := checkRuleGroups(prom, groups); err != nil {
			return err
		}
		for expr, want := range map[string]int{
			`redis_up{job="redis"} == 1`:                                         2,
			`count_over_time(redis_up{job="redis"}[1m]) >= 5`:                    2,
			`redis_master_link_up{job="redis"} == 1`:                             1,
			`redis:keyspace_hits:ratio_rate5m{job="redis"}`:                      1,
			`redis:commands_duration_seconds:mean5m{cmd="get"}`:                  1,
			`redis:replica_lag:bytes{job="redis"}`:                               1,
			`redis_key_rule_keys{job="redis",rule="app_sessions_by_tenant"} > 0`: 2,
			`job_module:redis_probe_exporter_probe_duration_seconds:p99_rate5m`:  1,
		} {
			s, err := redistest.TryQuery(prom, expr)
			if err != nil {
				return err
			}
			if len(s) < want {
				return fmt.Errorf("%s: %d series, want %d", expr, len(s), want)
			}
		}
		return nil
	}, e.Log)

	// redis-mixin's query, as dashboard 14091 runs it, through the shipped
	// recording rule.
	frag := redistest.Query(t, prom, `redis_memory_fragmentation_ratio{job="redis"}`)
	got := map[string]float64{}
	for _, s := range frag {
		got[s.Labels["instance"]] = s.Value
	}
	for _, addr := range []string{master.Addr(), replica.Addr()} {
		if v, ok := got[addr]; !ok || !(v > 0) {
			t.Errorf("redis_memory_fragmentation_ratio{instance=%q} = %v (present %v), want > 0", addr, v, ok)
		}
	}

	instanceRe := master.Addr() + "|" + replica.Addr() // what Grafana sends for All
	for _, file := range dashboards {
		d := readDashboard(t, file)
		// The variables' label_values queries list the job and both Redis.
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			var q struct {
				Query string `json:"query"`
			}
			if err := json.Unmarshal(v.Query, &q); err != nil {
				t.Errorf("%s: variable %s: query %s: %v", file, v.Name, v.Query, err)
				continue
			}
			vals, err := labelValues(prom, substituteVars(q.Query, "redis", ""))
			if err != nil {
				t.Errorf("%s: variable %s: %v", file, v.Name, err)
				continue
			}
			want := map[string][]string{"job": {"redis"}, "instance": {master.Addr(), replica.Addr()}}[v.Name]
			for _, w := range want {
				if !slices.Contains(vals, w) {
					t.Errorf("%s: variable %s (%s) offers %v, want %s among them", file, v.Name, q.Query, vals, w)
				}
			}
		}

		for _, tg := range dashboardTargets(file, d) {
			t.Run(tg.key, func(t *testing.T) {
				instance, on := master.Addr(), "the master"
				if file == "redis-fleet.json" {
					instance, on = instanceRe, "both Redis"
				} else if _, ok := dashboardReplicaOnly[tg.key]; ok {
					instance, on = replica.Addr(), "the replica"
				}
				expr := substituteVars(tg.expr, "redis", instance)
				if strings.Contains(expr, "$") {
					t.Fatalf("%s: a variable is left after substitution: %s", tg.key, expr)
				}
				s, err := redistest.TryQuery(prom, expr)
				if err != nil {
					t.Fatalf("%s: %v", tg.key, err)
				}
				if len(s) == 0 {
					if reason, ok := dashboardEmpty[tg.key]; ok {
						t.Logf("%s: no series on %s, allowed: %s", tg.key, on, reason)
						return
					}
					t.Errorf("%s: no series on %s for %s", tg.key, on, expr)
				}
			})
		}
	}
}

// substituteVars replaces Grafana's variables in a query as Grafana would
// for job and instance, with a rate interval that holds many samples of a
// 1s scrape.
func substituteVars(expr, job, instance string) string {
	return strings.NewReplacer(
		"$__rate_interval", "30s",
		"${__rate_interval}", "30s",
		"$__interval", "30s",
		"${__interval}", "30s",
		"${job}", job,
		"$job", job,
		"${instance}", instance,
		"$instance", instance,
	).Replace(expr)
}

var labelValuesQuery = regexp.MustCompile(`^label_values\((?:(.+),\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// labelValues runs a Grafana label_values(match, label) variable query on
// Prometheus's label values API.
func labelValues(prom, query string) ([]string, error) {
	m := labelValuesQuery.FindStringSubmatch(strings.TrimSpace(query))
	if m == nil {
		return nil, fmt.Errorf("%q is not label_values([match, ]label)", query)
	}
	u := prom + "/api/v1/label/" + m[2] + "/values"
	if m[1] != "" {
		u += "?match[]=" + url.QueryEscape(m[1])
	}
	var body struct {
		Status string   `json:"status"`
		Error  string   `json:"error"`
		Data   []string `json:"data"`
	}
	if err := getJSON(u, &body); err != nil {
		return nil, err
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("%s: %s", query, body.Error)
	}
	return body.Data, nil
}

// checkRuleGroups fails unless Prometheus lists every group in want and
// every rule in them is healthy.
func checkRuleGroups(prom string, want []string) error {
	var body struct {
		Status string `json:"status"`
		Data   struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := getJSON(prom+"/api/v1/rules", &body); err != nil {
		return err
	}
	var errs []error
	seen := map[string]bool{}
	for _, g := range body.Data.Groups {
		seen[g.Name] = true
		for _, r := range g.Rules {
			if r.Health != "ok" {
				errs = append(errs, fmt.Errorf("group %s rule %s: health %q %s", g.Name, r.Name, r.Health, r.LastError))
			}
		}
	}
	for _, g := range want {
		if !seen[g] {
			errs = append(errs, fmt.Errorf("rule group %s not loaded", g))
		}
	}
	return errors.Join(errs...)
}

func getJSON(u string, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("%s: %s: %w", u, resp.Status, err)
	}
	return nil
}
