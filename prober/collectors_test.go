package prober

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

func TestLatencyAndSlowlog(t *testing.T) {
	s := redistest.StartRedis(t, "--latency-monitor-threshold", "5", "--slowlog-log-slower-than", "10000", "--enable-debug-command", "yes")
	c := s.Client(t)
	ctx := context.Background()
	for range 3 {
		c.Set(ctx, "k", "v", 0)
	}
	before := time.Now().Unix()
	if err := c.Do(ctx, "DEBUG", "SLEEP", "0.03").Err(); err != nil {
		t.Fatal(err)
	}
	got, ok := probeTarget(t, s.Addr(), mustModule(t, "    collectors: {latency_histogram: true}\n"), nil)
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{
		"redis_slowlog_length":                                   1,
		"redis_slowlog_last_id":                                  0,
		`probe_collector_success{collector="latency"}`:           1,
		`probe_collector_success{collector="latency_histogram"}`: 1,
		`probe_collector_success{collector="slowlog"}`:           1,
		`redis_commands_latency_seconds_count{cmd="set"}`:        3,
	})
	if d := got["redis_last_slow_execution_duration_seconds"].value; d < 0.03 || d > 1 {
		t.Errorf("last slow execution %v s, want about 0.03", d)
	}
	if ts := got["redis_slowlog_last_timestamp_seconds"].value; ts < float64(before) || ts > float64(before+5) {
		t.Errorf("slow log timestamp %v, want about %d", ts, before)
	}
	if d := got[`redis_latency_spike_duration_seconds{event_name="command"}`].value; d < 0.03 || d > 1 {
		t.Errorf("latency spike %v s, want about 0.03", d)
	}
	if ts := got[`redis_latency_spike_last_timestamp_seconds{event_name="command"}`].value; ts < float64(before) {
		t.Errorf("latency spike timestamp %v, want at least %d", ts, before)
	}
	// The histogram's buckets are cumulative and end at the call count.
	var last float64
	for k, v := range got {
		if strings.HasPrefix(k, `redis_commands_latency_seconds_bucket{cmd="set"`) {
			last = max(last, v.value)
		}
	}
	if last != 3 {
		t.Errorf("SET buckets reach %v, want 3", last)
	}
	if sum := got[`redis_commands_latency_seconds_sum{cmd="set"}`].value; sum <= 0 || sum > 0.01 {
		t.Errorf("SET latency sum %v s", sum)
	}
	if _, on := got[`probe_collector_success{collector="latency_histogram"}`]; !on {
		t.Error("latency_histogram did not run")
	}
	got, _ = probeTarget(t, s.Addr(), mustModule(t, "    timeout: 2s\n"), nil)
	if _, on := got[`probe_collector_success{collector="latency_histogram"}`]; on {
		t.Error("latency_histogram runs by default")
	}
}

func TestConfigCollector(t *testing.T) {
	s := redistest.StartRedis(t, "--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru", "--maxclients", "500",
		"--requirepass", "pw-never-shown", "--hz", "25")
	m := mustModule(t, "    config_parameters: [hz, lazyfree-lazy-eviction, 'repl-*']\n")
	got, ok := probeTarget(t, s.Addr(), m, &modules.Auth{Password: "pw-never-shown"})
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{
		"redis_config_maxmemory_bytes":         100 << 20,
		"redis_config_maxclients":              500,
		"redis_config_io_threads":              1,
		"redis_config_repl_backlog_size_bytes": 1 << 20,
		`redis_config_client_output_buffer_limit_bytes{class="slave",limit="hard"}`:  256 << 20,
		`redis_config_client_output_buffer_limit_bytes{class="pubsub",limit="soft"}`: 8 << 20,
		`redis_config_client_output_buffer_limit_overcome_seconds{class="pubsub"}`:   60,
		`redis_config_info{parameter="maxmemory-policy",value="allkeys-lru"}`:        1,
		`redis_config_info{parameter="lazyfree-lazy-eviction",value="no"}`:           1,
		`redis_config_value{parameter="hz"}`:                                         25,
		`redis_config_value{parameter="repl-timeout"}`:                               60,
		`probe_collector_success{collector="config"}`:                                1,
	})
	for k := range got {
		if strings.Contains(k, "pass") || strings.Contains(k, "pw-never-shown") {
			t.Errorf("secret exported: %s", k)
		}
	}
}

// A forbidden or renamed command fails its collector alone.
func TestCollectorFailureLeavesProbeStanding(t *testing.T) {
	s := redistest.StartRedis(t, "--rename-command", "CONFIG", "", "--rename-command", "SLOWLOG", "")
	got, ok := probeTarget(t, s.Addr(), mustModule(t, "    timeout: 2s\n"), nil)
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{
		"probe_success": 1,
		"redis_up":      1,
		`probe_collector_success{collector="config"}`:  0,
		`probe_collector_success{collector="slowlog"}`: 0,
		`probe_collector_success{collector="info"}`:    1,
		`probe_collector_success{collector="modules"}`: 1,
		`redis_db_keys{db="db0"}`:                      0,
	})
	for k := range got {
		if strings.HasPrefix(k, "redis_config_") || strings.HasPrefix(k, "redis_slowlog_") {
			t.Errorf("a failed collector emitted %s", k)
		}
	}

	// An ACL user without @admin: CONFIG, SLOWLOG, LATENCY and MODULE are refused.
	a := redistest.StartRedis(t)
	ctx := context.Background()
	if err := a.Client(t).Do(ctx, "ACL", "SETUSER", "mon", "on", ">mon-pw", "+@all", "-@admin", "~*").Err(); err != nil {
		t.Fatal(err)
	}
	got, ok = probeTarget(t, a.Addr(), mustModule(t, "    timeout: 2s\n"), &modules.Auth{Username: "mon", Password: "mon-pw"})
	if !ok {
		t.Fatal("probe as a restricted user failed")
	}
	for _, c := range []string{"config", "slowlog", "latency", "modules"} {
		if v := got[fmt.Sprintf(`probe_collector_success{collector=%q}`, c)]; v.value != 0 {
			t.Errorf("%s succeeded for a user without @admin", c)
		}
	}
	expect(t, got, map[string]float64{`probe_collector_success{collector="info"}`: 1, "probe_success": 1})
}

func TestModulesCollector(t *testing.T) {
	s := redistest.StartRedis(t)
	got, _ := probeTarget(t, s.Addr(), mustModule(t, "    timeout: 2s\n"), nil)
	expect(t, got, map[string]float64{`probe_collector_success{collector="modules"}`: 1})
	for k := range got {
		if strings.HasPrefix(k, "redis_module_info") {
			t.Errorf("a Redis without modules reports %s", k)
		}
	}
}

// Probes of modules with different config_parameters run at once without
// sharing state (the race detector watches).
func TestConfigCollectorConcurrentModules(t *testing.T) {
	s := redistest.StartRedis(t)
	a := mustModule(t, "    config_parameters: [hz]\n")
	b := mustModule(t, "    config_parameters: [maxmemory-samples]\n")
	done := make(chan map[string]sample)
	for i := range 40 {
		go func() {
			m := a
			if i%2 == 1 {
				m = b
			}
			got, _ := probeTarget(t, s.Addr(), m, nil)
			done <- got
		}()
	}
	for range 40 {
		got := <-done
		if got[`probe_collector_success{collector="config"}`].value != 1 {
			t.Error("config collector failed under concurrent modules")
		}
	}
}

// Label values that differ only in invalid UTF-8 become one series, never
// two identical ones; a script naming a label twice fails its rule.
func TestRuleLabelsStayUnique(t *testing.T) {
	s := redistest.StartRedis(t)
	c := s.Client(t)
	ctx := context.Background()
	c.Set(ctx, "s\xff", 1, 0)
	c.Set(ctx, "s\xfe", 2, 0)
	got, _ := probeTarget(t, s.Addr(), mustModule(t, `    keys:
      - {metric: app_s, pattern: "s*", measure: length}
    scripts:
      - {metric: app_dup, script: "return {'x', 1, 'x', 2}", label: l}
`), nil)
	n := 0
	for k := range got {
		if strings.HasPrefix(k, "app_s{") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d series for two keys that clean to one label value, want 1", n)
	}
	expect(t, got, map[string]float64{`redis_key_rule_success{rule="app_dup"}`: 0, `redis_key_rule_success{rule="app_s"}`: 1})
}
