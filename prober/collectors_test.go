package prober

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/internal/info"
	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

func TestLatencyAndSlowlog(t *testing.T) {
	// Thresholds of 20 ms: DEBUG SLEEP 0.05 crosses them, and a command of
	// the test's or the probe's own only on a badly stalled machine.
	s := redistest.StartRedis(t, "--latency-monitor-threshold", "20", "--slowlog-log-slower-than", "20000", "--enable-debug-command", "yes")
	c := s.Client(t)
	ctx := context.Background()
	began := time.Now()
	for range 3 {
		c.Set(ctx, "k", "v", 0)
	}
	setsTook := time.Since(began).Seconds()
	// The bounds on what Redis timed are what the test saw from outside,
	// not a fixed window: a loaded machine may stretch both.
	before := time.Now().Unix()
	began = time.Now()
	if err := c.Do(ctx, "DEBUG", "SLEEP", "0.05").Err(); err != nil {
		t.Fatal(err)
	}
	sleepTook, after := time.Since(began).Seconds(), time.Now().Unix()
	got, ok := probeTarget(t, s.Addr(), mustModule(t, "    collectors: {latency_histogram: true}\n"), nil)
	if !ok {
		t.Fatal("probe failed")
	}
	nan := math.NaN()
	expect(t, got, map[string]float64{
		`probe_collector_success{collector="latency"}`:           1,
		`probe_collector_success{collector="latency_histogram"}`: 1,
		`probe_collector_success{collector="slowlog"}`:           1,
		`redis_commands_latency_seconds_count{cmd="set"}`:        3,
	})
	// DEBUG SLEEP is the one slow command and the one latency event.
	expectExact(t, got, map[string]float64{
		"redis_slowlog_length":                       1,
		"redis_slowlog_last_id":                      0,
		"redis_slowlog_last_timestamp_seconds":       nan,
		"redis_last_slow_execution_duration_seconds": nan,
	}, familiesOf(t, "slowlog")...)
	expectExact(t, got, map[string]float64{
		`redis_latency_spike_last_timestamp_seconds{event_name="command"}`: nan,
		`redis_latency_spike_duration_seconds{event_name="command"}`:       nan,
		`redis_latency_spike_max_duration_seconds{event_name="command"}`:   nan,
	}, familiesOf(t, "latency")...)
	if d := got["redis_last_slow_execution_duration_seconds"].Value; d < 0.05 || d > sleepTook {
		t.Errorf("last slow execution %v s, want from 0.05 to the %v s DEBUG SLEEP took", d, sleepTook)
	}
	if ts := got["redis_slowlog_last_timestamp_seconds"].Value; ts < float64(before) || ts > float64(after) {
		t.Errorf("slow log timestamp %v, want from %d to %d", ts, before, after)
	}
	for _, f := range []string{"redis_latency_spike_duration_seconds", "redis_latency_spike_max_duration_seconds"} {
		if d := got[f+`{event_name="command"}`].Value; d < 0.05 || d > sleepTook {
			t.Errorf("%s %v, want from 0.05 to the %v s DEBUG SLEEP took", f, d, sleepTook)
		}
	}
	if ts := got[`redis_latency_spike_last_timestamp_seconds{event_name="command"}`].Value; ts < float64(before) || ts > float64(after) {
		t.Errorf("latency spike timestamp %v, want from %d to %d", ts, before, after)
	}
	// The histogram's buckets are cumulative and end at the call count.
	var last float64
	for k, v := range got {
		if strings.HasPrefix(k, `redis_commands_latency_seconds_bucket{cmd="set"`) {
			last = max(last, v.Value)
		}
	}
	if last != 3 {
		t.Errorf("SET buckets reach %v, want 3", last)
	}
	if sum := got[`redis_commands_latency_seconds_sum{cmd="set"}`].Value; sum <= 0 || sum > setsTook {
		t.Errorf("SET latency sum %v s, want above 0 and at most the %v s the three SETs took", sum, setsTook)
	}
	got, _ = probeTarget(t, s.Addr(), mustModule(t, "    timeout: 2s\n"), nil)
	if _, on := got[`probe_collector_success{collector="latency_histogram"}`]; on {
		t.Error("latency_histogram runs by default")
	}
	expectExact(t, got, nil, familiesOf(t, "latency_histogram")...)
}

// The latency_histogram collector on LATENCY HISTOGRAM and INFO
// commandstats recorded from a real Redis 7.0 after three SETs and a GET
// (testdata/README.md): a histogram per command, in seconds, summed from
// commandstats.
func TestLatencyHistogramOnRecordedReply(t *testing.T) {
	recorded := recordedReplies(t, "latency_histogram.resp")
	if len(recorded) != 2 {
		t.Fatalf("%d recorded replies, want LATENCY HISTOGRAM's and INFO's", len(recorded))
	}
	text, _ := recorded[1].(string)
	got := collectRecordedReply(t, "latency_histogram", latencyHistogram, recorded[0], text)
	expectExact(t, got, map[string]float64{
		`redis_commands_latency_seconds_bucket{cmd="get",le="2e-06"}`:   1,
		`redis_commands_latency_seconds_bucket{cmd="get",le="+Inf"}`:    1,
		`redis_commands_latency_seconds_count{cmd="get"}`:               1,
		`redis_commands_latency_seconds_sum{cmd="get"}`:                 2e-6,
		`redis_commands_latency_seconds_bucket{cmd="set",le="1e-06"}`:   2,
		`redis_commands_latency_seconds_bucket{cmd="set",le="6.6e-05"}`: 3,
		`redis_commands_latency_seconds_bucket{cmd="set",le="+Inf"}`:    3,
		`redis_commands_latency_seconds_count{cmd="set"}`:               3,
		`redis_commands_latency_seconds_sum{cmd="set"}`:                 37e-6,
	}, familiesOf(t, "latency_histogram")...)
}

// collectReplies runs the collector called name on answers, the replies
// to its commands by command key, and on infoText as INFO's, with every
// family kept: its series and its error.
func collectReplies(t *testing.T, name string, answers map[string]any, infoText string) (map[string]sample, error) {
	t.Helper()
	r := &replies{ctx: context.Background(), cmds: map[string]*redis.Cmd{}, info: info.Parse(infoText), parsed: true}
	for k, v := range answers {
		c := redis.NewCmd(r.ctx)
		c.SetVal(v)
		r.cmds[k] = c
	}
	sel := declared.Select()
	for _, f := range declared.Families() {
		sel.Keep(f, true)
	}
	e := exposition.NewEmitter(sel)
	err := collectorNamed(t, name).collect(r, e)
	return samples(t, e), err
}

// collectRecordedReply is collectReplies with reply the answer to cmd, the
// collector's command, and no error allowed.
func collectRecordedReply(t *testing.T, name string, cmd []any, reply any, infoText string) map[string]sample {
	t.Helper()
	got, err := collectReplies(t, name, map[string]any{commandKey(cmd): reply}, infoText)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return got
}

func TestConfigCollector(t *testing.T) {
	s := redistest.StartRedis(t, "--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru", "--maxclients", "500",
		"--requirepass", "pw-never-shown", "--hz", "25")
	m := mustModule(t, "    config_parameters: [hz, lazyfree-lazy-eviction, 'repl-*']\n")
	got, ok := probeTarget(t, s.Addr(), m, &modules.Auth{Password: "pw-never-shown"})
	if !ok {
		t.Fatal("probe failed")
	}
	// Every series of the collector: the fixed parameters, and what the
	// module's names and glob match, at Redis 7.0's defaults where not set
	// above. CONFIG GET 'repl-*' answers the alias repl-ping-slave-period
	// too.
	expectExact(t, got, map[string]float64{
		"redis_config_maxmemory_bytes":         100 << 20,
		"redis_config_maxclients":              500,
		"redis_config_io_threads":              1,
		"redis_config_repl_backlog_size_bytes": 1 << 20,
		`redis_config_client_output_buffer_limit_bytes{class="normal",limit="hard"}`: 0,
		`redis_config_client_output_buffer_limit_bytes{class="normal",limit="soft"}`: 0,
		`redis_config_client_output_buffer_limit_bytes{class="slave",limit="hard"}`:  256 << 20,
		`redis_config_client_output_buffer_limit_bytes{class="slave",limit="soft"}`:  64 << 20,
		`redis_config_client_output_buffer_limit_bytes{class="pubsub",limit="hard"}`: 32 << 20,
		`redis_config_client_output_buffer_limit_bytes{class="pubsub",limit="soft"}`: 8 << 20,
		`redis_config_client_output_buffer_limit_overcome_seconds{class="normal"}`:   0,
		`redis_config_client_output_buffer_limit_overcome_seconds{class="slave"}`:    60,
		`redis_config_client_output_buffer_limit_overcome_seconds{class="pubsub"}`:   60,
		`redis_config_info{parameter="maxmemory-policy",value="allkeys-lru"}`:        1,
		`redis_config_info{parameter="lazyfree-lazy-eviction",value="no"}`:           1,
		`redis_config_info{parameter="repl-diskless-sync",value="yes"}`:              1,
		`redis_config_info{parameter="repl-diskless-load",value="disabled"}`:         1,
		`redis_config_info{parameter="repl-disable-tcp-nodelay",value="no"}`:         1,
		`redis_config_value{parameter="hz"}`:                                         25,
		`redis_config_value{parameter="repl-timeout"}`:                               60,
		`redis_config_value{parameter="repl-backlog-ttl"}`:                           3600,
		`redis_config_value{parameter="repl-diskless-sync-delay"}`:                   5,
		`redis_config_value{parameter="repl-diskless-sync-max-replicas"}`:            0,
		`redis_config_value{parameter="repl-ping-replica-period"}`:                   10,
		`redis_config_value{parameter="repl-ping-slave-period"}`:                     10,
	}, familiesOf(t, "config")...)
	expect(t, got, map[string]float64{`probe_collector_success{collector="config"}`: 1})
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
		if v := got[fmt.Sprintf(`probe_collector_success{collector=%q}`, c)]; v.Value != 0 {
			t.Errorf("%s succeeded for a user without @admin", c)
		}
	}
	expect(t, got, map[string]float64{`probe_collector_success{collector="info"}`: 1, "probe_success": 1})
}

func TestModulesCollector(t *testing.T) {
	s := redistest.StartRedis(t)
	got, _ := probeTarget(t, s.Addr(), mustModule(t, "    timeout: 2s\n"), nil)
	expect(t, got, map[string]float64{`probe_collector_success{collector="modules"}`: 1})
	// A Redis without modules reports none.
	expectExact(t, got, nil, familiesOf(t, "modules")...)
}

// The modules collector on the MODULE LIST reply of a real Redis 7.0 with
// the Debian package redis-redisearch loaded (testdata/README.md): one
// entry, its fields in Redis 7.0's order name, ver, path, args.
func TestModulesCollectorOnRecordedList(t *testing.T) {
	recorded := recordedReplies(t, "module_list_redisearch.resp")
	want := []any{[]any{
		"name", "ft",
		"ver", int64(10200),
		"path", "/usr/lib/redis/modules/redisearch.so",
		"args", []any{"MINPREFIX", "3", "NOGC"},
	}}
	if len(recorded) != 1 || !reflect.DeepEqual(recorded[0], want) {
		t.Fatalf("recorded MODULE LIST reads as %#v, want %#v", recorded, want)
	}
	got := collectRecordedReply(t, "modules", moduleList, recorded[0], "")
	expectExact(t, got, map[string]float64{`redis_module_info{name="ft",ver="10200"}`: 1}, familiesOf(t, "modules")...)
	if len(got) != 1 {
		t.Errorf("the modules collector emitted %d series, want 1: %v", len(got), got)
	}
}

// Probes of modules with different config_parameters run at once without
// sharing state (the race detector watches): each answer has its own
// module's parameter and not the other's.
func TestConfigCollectorConcurrentModules(t *testing.T) {
	s := redistest.StartRedis(t)
	mods := []*modules.Module{
		mustModule(t, "    config_parameters: [hz]\n"),
		mustModule(t, "    config_parameters: [maxmemory-samples]\n"),
	}
	want := []map[string]float64{
		{`redis_config_value{parameter="hz"}`: 10},
		{`redis_config_value{parameter="maxmemory-samples"}`: 5},
	}
	type answer struct {
		module int
		text   *bytes.Buffer
		ok     bool
		err    error
	}
	const probes = 40
	done := make(chan answer, probes)
	for i := range probes {
		go func() {
			// No t.Fatal off the test goroutine: the answer, error included,
			// goes back on done.
			text, ok, err := probeText(s.Addr(), mods[i%2], nil)
			done <- answer{i % 2, text, ok, err}
		}()
	}
	for range probes {
		a := <-done
		if a.err != nil || !a.ok {
			t.Errorf("module %d: probe failed: %v", a.module, a.err)
			continue
		}
		got := samples(t, a.text)
		expect(t, got, map[string]float64{`probe_collector_success{collector="config"}`: 1})
		// Both parameters are numeric: redis_config_value has the module's
		// one, and redis_config_info only the fixed maxmemory-policy.
		expectExact(t, got, want[a.module], "redis_config_value")
		expectExact(t, got, map[string]float64{`redis_config_info{parameter="maxmemory-policy",value="noeviction"}`: 1}, "redis_config_info")
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
