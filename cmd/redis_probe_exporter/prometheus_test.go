package main

// End-to-end tests with a real Prometheus: it discovers Redis targets,
// relabels them onto the exporter's /probe and stores what each returned.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// TestPrometheusScrapesFleet runs the whole chain: Prometheus discovers three
// Redis targets from a file, relabels them onto the exporter's /probe as the
// README's multi-target pattern does, and stores what each probe returned.
func TestPrometheusScrapesFleet(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)

	nodes := []struct {
		keys   int
		module string
		srv    *redistest.Server
	}{{keys: 1}, {keys: 2}, {keys: 3, module: "lean"}}
	for i := range nodes {
		nodes[i].srv = redistest.StartRedis(t)
		c := nodes[i].srv.Client(t)
		for k := 0; k < nodes[i].keys; k++ {
			if err := c.Set(context.Background(), fmt.Sprintf("key:%d", k), "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}

	dir := t.TempDir()
	cfg := writeFile(t, dir, "redis_probe.yml", `
modules:
  default:
    timeout: 5s
  lean:
    timeout: 5s
    metrics:
      include: ['redis_(up|db_keys|connected_clients)']
`)
	e := redistest.StartExporter(t, bin, "--config.file="+cfg)

	type group struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels,omitempty"`
	}
	sd, err := json.Marshal([]group{
		{Targets: []string{nodes[0].srv.Addr(), nodes[1].srv.Addr()}},
		{Targets: []string{nodes[2].srv.Addr()}, Labels: map[string]string{"module": "lean"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sdFile := writeFile(t, dir, "targets.json", string(sd))
	prom := redistest.StartPrometheus(t, fmt.Sprintf(`
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: redis
    metrics_path: /probe
    file_sd_configs:
      - files: [%q]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [module]
        target_label: __param_module
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: %q
`, sdFile, e.Addr))

	redistest.WaitFor(t, 30*time.Second, func() error {
		s, err := redistest.TryQuery(prom, `probe_success{job="redis"}`)
		if err != nil {
			return err
		}
		if len(s) != len(nodes) {
			return fmt.Errorf("%d series of probe_success, want %d: %v", len(s), len(nodes), s)
		}
		return nil
	}, func() string { _, body := httpGet(t, prom+"/api/v1/targets"); return "targets: " + body })

	byInstance := func(expr string) map[string]float64 {
		t.Helper()
		out := map[string]float64{}
		for _, s := range redistest.Query(t, prom, expr) {
			inst := s.Labels["instance"]
			if _, dup := out[inst]; dup {
				t.Errorf("%s: two series for instance %s", expr, inst)
			}
			out[inst] = s.Value
		}
		return out
	}
	success := byInstance(`probe_success{job="redis"}`)
	keys := byInstance(`redis_db_keys{job="redis",db="db0"}`)
	memory := byInstance(`redis_memory_used_bytes{job="redis"}`)
	clients := byInstance(`redis_connected_clients{job="redis"}`)
	for _, n := range nodes {
		inst := n.srv.Addr()
		if v, ok := success[inst]; !ok || v != 1 {
			t.Errorf("probe_success{instance=%q} = %v (present %v), want 1; all: %v", inst, v, ok, success)
		}
		if v, ok := keys[inst]; !ok || v != float64(n.keys) {
			t.Errorf(`redis_db_keys{instance=%q,db="db0"} = %v (present %v), want %d`, inst, v, ok, n.keys)
		}
		if v, ok := clients[inst]; !ok || v < 1 {
			t.Errorf("redis_connected_clients{instance=%q} = %v (present %v), want >= 1", inst, v, ok)
		}
		v, ok := memory[inst]
		if n.module == "lean" {
			if ok {
				t.Errorf("lean instance %s has redis_memory_used_bytes = %v; its module includes only redis_(up|db_keys|connected_clients)", inst, v)
			}
		} else if !ok || v <= 0 {
			t.Errorf("redis_memory_used_bytes{instance=%q} = %v (present %v), want > 0", inst, v, ok)
		}
	}

	// The lean instance stores only its module's families, the probe_*
	// families no filter removes, and Prometheus's own scrape series.
	lean := nodes[2].srv.Addr()
	allowed := map[string]bool{
		"redis_up": true, "redis_db_keys": true, "redis_connected_clients": true,
		"probe_success": true, "probe_duration_seconds": true,
		"up": true, "scrape_duration_seconds": true, "scrape_samples_scraped": true,
		"scrape_samples_post_metric_relabeling": true, "scrape_series_added": true,
	}
	var names []string
	for _, s := range redistest.Query(t, prom, fmt.Sprintf(`count by (__name__) ({instance=%q})`, lean)) {
		names = append(names, s.Labels["__name__"])
		if !allowed[s.Labels["__name__"]] {
			t.Errorf("lean instance has series %s, outside its module's filter", s.Labels["__name__"])
		}
	}
	if len(names) < 5 {
		t.Errorf("lean instance has only %v", names)
	}
	// The module label of the target group stayed a target label.
	for _, s := range redistest.Query(t, prom, `probe_success{module="lean"}`) {
		if s.Labels["instance"] != lean {
			t.Errorf("probe_success{module=lean} on instance %s, want %s", s.Labels["instance"], lean)
		}
	}
}

// Prometheus discovers every node of a Redis Cluster from one seed through
// /discover/cluster (http_sd) and probes each with the shipped cluster
// module.
func TestPrometheusDiscoversCluster(t *testing.T) {
	t.Parallel()
	bin := redistest.BuildExporter(t)
	cl := redistest.StartCluster(t, 3, 1)
	e := redistest.StartExporter(t, bin, "--config.file="+shippedConfig(t))
	seed := url.Values{"target": {cl.Masters()[0].Addr()}, "module": {"cluster"}}
	prom := redistest.StartPrometheus(t, fmt.Sprintf(`
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: cluster
    metrics_path: /probe
    http_sd_configs:
      - url: %q
        refresh_interval: 5s
    relabel_configs:
      - source_labels: [module]
        target_label: __param_module
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: %q
`, e.URL+"/discover/cluster?"+seed.Encode(), e.Addr))

	redistest.WaitFor(t, 30*time.Second, func() error {
		s, err := redistest.TryQuery(prom, `redis_cluster_state{job="cluster"} == 1`)
		if err != nil {
			return err
		}
		if len(s) != len(cl.Nodes) {
			return fmt.Errorf("%d nodes report cluster_state 1, want %d", len(s), len(cl.Nodes))
		}
		return nil
	}, func() string { _, body := httpGet(t, prom+"/api/v1/targets"); return "targets: " + body })

	roles := map[string]string{}
	for _, s := range redistest.Query(t, prom, `probe_success{job="cluster"}`) {
		if s.Value != 1 {
			t.Errorf("%s: probe_success %v", s.Labels["instance"], s.Value)
		}
		roles[s.Labels["instance"]] = s.Labels["role"]
	}
	for _, m := range cl.Masters() {
		if roles[m.Addr()] != "master" {
			t.Errorf("%s: role %q, want master", m.Addr(), roles[m.Addr()])
		}
	}
	for _, r := range cl.Replicas() {
		if roles[r.Addr()] != "slave" {
			t.Errorf("%s: role %q, want slave", r.Addr(), roles[r.Addr()])
		}
	}
	var slots float64
	for _, s := range redistest.Query(t, prom, `redis_cluster_node_slots{job="cluster",role="master"}`) {
		slots += s.Value
	}
	if slots != 16384 {
		t.Errorf("masters serve %v slots, want 16384", slots)
	}
}

// shippedConfig is the repository's redis_probe.yml.
func shippedConfig(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../../redis_probe.yml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}
