package examples

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// TestShardedFleet runs prometheus-sharded.yml as it is meant to be run:
// two Prometheus servers, each with its shard of twelve targets and its own
// exporter. Every Redis is scraped by exactly one server, through the
// exporter of its shard and no other.
func TestShardedFleet(t *testing.T) {
	t.Parallel()
	shard0, err := os.ReadFile("prometheus-sharded.yml")
	if err != nil {
		t.Fatal(err)
	}
	bin := redistest.BuildExporter(t)
	// Six Redis, each as two targets (its databases 0 and 1), so that
	// hashmod leaves a shard empty once in 2048 runs, not once in 32.
	var fleet []string
	for range 6 {
		addr := redistest.StartRedis(t).Addr()
		fleet = append(fleet, addr, "redis://"+addr+"/1")
	}
	targets := "          - " + strings.Join(fleet, "\n          - ") + "\n"

	type shard struct {
		exporter *redistest.Exporter
		prom     string
	}
	var shards []shard
	for i := range 2 {
		e := redistest.StartExporter(t, bin)
		cfg := string(shard0)
		for old, repl := range map[string]string{
			"scrape_interval: 30s":        "scrape_interval: 1s",
			"scrape_timeout: 10s":         "scrape_timeout: 1s",
			`shard: "0"`:                  fmt.Sprintf("shard: %q", fmt.Sprint(i)),
			`regex: "0"`:                  fmt.Sprintf("regex: %q", fmt.Sprint(i)),
			"redis-probe-exporter-0:9736": e.Addr,
			"          - redis-1.internal:6379\n          - redis-2.internal:6379\n          - redis-3.internal:6379\n": targets,
		} {
			if !strings.Contains(cfg, old) {
				t.Fatalf("prometheus-sharded.yml no longer holds %q", old)
			}
			cfg = strings.ReplaceAll(cfg, old, repl)
		}
		shards = append(shards, shard{e, redistest.StartPrometheus(t, cfg)})
	}

	// Each server's share, once both have scraped every target of theirs.
	scraped := make([][]string, len(shards))
	redistest.WaitFor(t, 30*time.Second, func() error {
		total := 0
		for i, s := range shards {
			samples, err := redistest.TryQuery(s.prom, `probe_success{job="redis"} == 1`)
			if err != nil {
				return err
			}
			scraped[i] = nil
			for _, x := range samples {
				scraped[i] = append(scraped[i], x.Labels["instance"])
			}
			total += len(scraped[i])
		}
		if total != len(fleet) {
			return fmt.Errorf("shards scraped %v, want the %d targets between them", scraped, len(fleet))
		}
		return nil
	}, nil)
	all := slices.Concat(scraped...)
	slices.Sort(all)
	want := slices.Clone(fleet)
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Errorf("the shards scraped %v, want each of %v exactly once", scraped, want)
	}
	for i, s := range shards {
		if len(scraped[i]) == 0 {
			t.Errorf("shard %d scraped nothing: hashmod put the whole fleet on one shard", i)
		}
		// The exporter's landing page lists the targets it probed: its
		// shard's, never the other's.
		resp, err := http.Get(s.exporter.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for j, other := range scraped {
			for _, tg := range other {
				if probed := strings.Contains(string(page), ">"+tg+"<"); probed != (i == j) {
					t.Errorf("exporter %d probed %s: %v, want %v", i, tg, probed, i == j)
				}
			}
		}
	}
}
