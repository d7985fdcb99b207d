package prober

import (
	"fmt"
	"math"
	"os"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/internal/info"
)

// collectRecorded runs the collectors that need only INFO ALL on its text
// recorded from a real Redis 7.0, with every family kept.
func collectRecorded(t *testing.T, file string) map[string]sample {
	t.Helper()
	text, err := os.ReadFile("../internal/info/testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	r := &replies{info: info.Parse(string(text)), parsed: true}
	e := exposition.NewEmitter(planFor(mustModule(t, "    timeout: 1s\n")).keep)
	for _, c := range collectors {
		if c.moduleCommands != nil || len(c.commands) != 1 || commandKey(c.commands[0]) != commandKey(infoAll) {
			continue // needs more than INFO ALL
		}
		if err := c.collect(r, e); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
	return samples(t, e)
}

func TestInfoOnRecordedMaster(t *testing.T) {
	got := collectRecorded(t, "info_all_master.txt")
	nan := math.NaN()
	expect(t, got, map[string]float64{
		`redis_instance_info{maxmemory_policy="noeviction",os="Linux 6.18.44-fc-v657 x86_64",redis_build_id="ae4d7c971a948f0",redis_mode="standalone",redis_version="7.0.15",role="master",run_id="302de16c6a3ef4661974ed115e66f25cbbdf6407",server_name="",tcp_port="17001",valkey_version=""}`: 1,
		`redis_connected_clients`:                 1,
		`redis_max_clients`:                       10000,
		`redis_memory_max_bytes`:                  0,
		`redis_rdb_last_bgsave_status`:            1,
		`redis_aof_last_write_status`:             1,
		`redis_rdb_last_bgsave_duration_seconds`:  0,
		`redis_aof_last_rewrite_duration_seconds`: -1,
		`redis_db_keys{db="db0"}`:                 2,
		`redis_db_keys_expiring{db="db0"}`:        1,
		`redis_db_avg_ttl_seconds{db="db0"}`:      97.149,
		`redis_db_keys{db="db3"}`:                 1,
		`redis_connected_slaves`:                  1,
		`redis_master_repl_offset`:                201,
		`redis_replication_backlog_bytes`:         1048576,
		`redis_connected_slave_offset_bytes{slave_ip="127.0.0.1",slave_port="17002",slave_state="online"}`: 201,
		`redis_connected_slave_lag_seconds{slave_ip="127.0.0.1",slave_port="17002",slave_state="online"}`:  nan,
		`redis_mem_fragmentation_ratio`: nan,
		`redis_cluster_enabled`:         0,
	})
	for _, k := range []string{"redis_commands_processed_total", "redis_keyspace_misses_total", "redis_cpu_user_seconds_total", "redis_error_replies_total"} {
		if got[k].Typ != dto.MetricType_COUNTER {
			t.Errorf("%s is %v, want a counter", k, got[k].Typ)
		}
	}
	if got["redis_keyspace_misses_total"].Value != 1 || got["redis_error_replies_total"].Value != 1 {
		t.Errorf("misses %v, error replies %v; want 1 and 1", got["redis_keyspace_misses_total"], got["redis_error_replies_total"])
	}
	// Base units: server_time_usec 1795619111070350 less uptime 7 s.
	expect(t, got, map[string]float64{"redis_start_time_seconds": 1795619104})
	expectExact(t, got, map[string]float64{
		`redis_instance_info{maxmemory_policy="noeviction",os="Linux 6.18.44-fc-v657 x86_64",redis_build_id="ae4d7c971a948f0",redis_mode="standalone",redis_version="7.0.15",role="master",run_id="302de16c6a3ef4661974ed115e66f25cbbdf6407",server_name="",tcp_port="17001",valkey_version=""}`: 1,
		"redis_start_time_seconds": 1795619104,
	}, "redis_instance_info", "redis_start_time_seconds")
	expectExact(t, got, map[string]float64{
		`redis_db_keys{db="db0"}`:            2,
		`redis_db_keys_expiring{db="db0"}`:   1,
		`redis_db_avg_ttl_seconds{db="db0"}`: 97.149,
		`redis_db_keys{db="db3"}`:            1,
		`redis_db_keys_expiring{db="db3"}`:   0,
		`redis_db_avg_ttl_seconds{db="db3"}`: 0,
	}, familiesOf(t, "keyspace")...)
	replica := `{slave_ip="127.0.0.1",slave_port="17002",slave_state="online"}`
	expectExact(t, got, map[string]float64{
		"redis_connected_slaves":                       1,
		"redis_connected_slave_offset_bytes" + replica: 201,
		"redis_connected_slave_lag_seconds" + replica:  1,
		"redis_master_repl_offset":                     201,
		"redis_second_repl_offset":                     -1,
		"redis_repl_backlog_is_active":                 1,
		"redis_replication_backlog_bytes":              1 << 20,
		"redis_repl_backlog_first_byte_offset":         1,
		"redis_repl_backlog_history_bytes":             201,
		"redis_replica_resyncs_full_total":             1,
		"redis_replica_partial_resync_accepted_total":  0,
		"redis_replica_partial_resync_denied_total":    0,
		"redis_slave_expires_tracked_keys":             0,
	}, familiesOf(t, "replication")...)
	for _, absent := range []string{"redis_master_link_up", "redis_used_memory_human"} {
		for k := range got {
			if k == absent || len(k) > len(absent) && k[:len(absent)+1] == absent+"{" {
				t.Errorf("a master reports %s", k)
			}
		}
	}
}

func TestInfoOnRecordedReplica(t *testing.T) {
	got := collectRecorded(t, "info_all_replica.txt")
	// The replication collector's every series: a replica's, no master's.
	expectExact(t, got, map[string]float64{
		`redis_master_link_up`: 1,
		`redis_slave_info{master_host="127.0.0.1",master_port="17001",read_only="1"}`: 1,
		`redis_slave_repl_offset`:                     201,
		`redis_slave_read_repl_offset`:                201,
		`redis_master_sync_in_progress`:               0,
		`redis_master_last_io_seconds_ago`:            2,
		`redis_slave_priority`:                        100,
		`redis_connected_slaves`:                      0,
		"redis_master_repl_offset":                    201,
		"redis_second_repl_offset":                    -1,
		"redis_repl_backlog_is_active":                1,
		"redis_replication_backlog_bytes":             1 << 20,
		"redis_repl_backlog_first_byte_offset":        202,
		"redis_repl_backlog_history_bytes":            0,
		"redis_replica_resyncs_full_total":            0,
		"redis_replica_partial_resync_accepted_total": 0,
		"redis_replica_partial_resync_denied_total":   0,
		"redis_slave_expires_tracked_keys":            0,
	}, familiesOf(t, "replication")...)
}

// Every family has a valid, unique name; counters, and only counters, end
// in _total; help text says more than the name.
func TestFamilies(t *testing.T) {
	seen := map[string]string{}
	for _, c := range collectors {
		for _, f := range c.families {
			if prev, dup := seen[f.Name()]; dup {
				t.Errorf("%s declared by %s and %s", f.Name(), prev, c.name)
			}
			seen[f.Name()] = c.name
			isTotal := len(f.Name()) > 6 && f.Name()[len(f.Name())-6:] == "_total"
			if isTotal != (f.Type() == dto.MetricType_COUNTER) {
				t.Errorf("%s: counter %v but _total %v", f.Name(), f.Type() == dto.MetricType_COUNTER, isTotal)
			}
			if len(f.Help()) < 15 {
				t.Errorf("%s: help %q says too little", f.Name(), f.Help())
			}
		}
	}
}

func TestCommandErrorAndLatencyStatsOnRecordedMaster(t *testing.T) {
	got := collectRecorded(t, "info_all_master.txt")
	expect(t, got, map[string]float64{
		`redis_commands_total{cmd="set"}`:                                3,
		`redis_commands_duration_seconds_total{cmd="set"}`:               16e-6,
		`redis_commands_rejected_calls_total{cmd="set"}`:                 0,
		`redis_commands_failed_calls_total{cmd="psync"}`:                 0,
		`redis_commands_total{cmd="replconf"}`:                           5,
		`redis_errors_total{err="ERR"}`:                                  1,
		`redis_latency_percentiles_seconds_sum{cmd="set"}`:               16e-6,
		`redis_latency_percentiles_seconds_count{cmd="set"}`:             3,
		`redis_latency_percentiles_seconds{cmd="set",quantile="0.5"}`:    6.015e-6,
		`redis_latency_percentiles_seconds{cmd="set",quantile="0.999"}`:  7.007e-6,
		`redis_latency_percentiles_seconds{cmd="psync",quantile="0.99"}`: 35.071e-6,
	})

	// Every series of the three collectors: the recorded commandstats,
	// errorstats and latencystats lines, in base units.
	seconds := func(usec float64) float64 { return usec / 1e6 } // as the collectors divide, at run time
	commands := []struct {
		cmd            string
		calls, usec    float64
		p50, p99, p999 float64 // microseconds
	}{
		{"info", 2, 210, 61.183, 149.503, 149.503},
		{"get", 1, 4, 4.015, 4.015, 4.015},
		{"ping", 1, 3, 3.007, 3.007, 3.007},
		{"incr", 1, 3, 3.007, 3.007, 3.007},
		{"select", 1, 1, 1.003, 1.003, 1.003},
		{"set", 3, 16, 6.015, 7.007, 7.007},
		{"replconf", 5, 63, 2.007, 59.135, 59.135},
		{"psync", 1, 35, 35.071, 35.071, 35.071},
	}
	stats, latency := map[string]float64{}, map[string]float64{}
	for _, c := range commands {
		l := fmt.Sprintf(`{cmd=%q}`, c.cmd)
		stats["redis_commands_total"+l] = c.calls
		stats["redis_commands_duration_seconds_total"+l] = seconds(c.usec)
		stats["redis_commands_rejected_calls_total"+l] = 0
		stats["redis_commands_failed_calls_total"+l] = 0
		latency["redis_latency_percentiles_seconds_count"+l] = c.calls
		latency["redis_latency_percentiles_seconds_sum"+l] = seconds(c.usec)
		for q, v := range map[string]float64{"0.5": c.p50, "0.99": c.p99, "0.999": c.p999} {
			latency[fmt.Sprintf(`redis_latency_percentiles_seconds{cmd=%q,quantile=%q}`, c.cmd, q)] = seconds(v)
		}
	}
	expectExact(t, got, stats, familiesOf(t, "commandstats")...)
	expectExact(t, got, map[string]float64{`redis_errors_total{err="ERR"}`: 1}, familiesOf(t, "errorstats")...)
	expectExact(t, got, latency, familiesOf(t, "latencystats")...)
}

// Valkey 8 renames redis_mode to server_mode and adds its own name and
// version; Redis 7.2+ and Valkey add client, event loop and sync fields.
// The INFO text is written from Valkey's source (testdata/README.md): no
// Valkey binary is available to record one.
func TestInfoOnValkey8(t *testing.T) {
	got := collectRecorded(t, "info_all_valkey_8.0.txt")
	expectExact(t, got, map[string]float64{
		`redis_instance_info{maxmemory_policy="",os="Linux 6.1.0-18-amd64 x86_64",redis_build_id="5f5a6d0e0b6b4e2f",redis_mode="standalone",redis_version="7.2.4",role="slave",run_id="8c2f0a6b9d1e4f3a7b5c6d8e9f0a1b2c3d4e5f60",server_name="valkey",tcp_port="6380",valkey_version="8.0.1"}`: 1,
	}, "redis_instance_info")
	expect(t, got, map[string]float64{
		"redis_pubsub_clients":                            2,
		"redis_watching_clients":                          1,
		"redis_watched_keys":                              4,
		"redis_blocking_keys":                             1,
		"redis_blocking_keys_on_nokey":                    0,
		"redis_evicted_scripts_total":                     7,
		"redis_eventloop_cycles_total":                    2500,
		"redis_eventloop_duration_seconds_total":          1.5,
		"redis_eventloop_duration_cmd_seconds_total":      0.25,
		"redis_instantaneous_eventloop_cycles_per_second": 9,
		"redis_instantaneous_eventloop_duration_seconds":  35e-6,
		"redis_master_link_up":                            0,
		"redis_master_link_down_since_seconds":            42,
		"redis_master_sync_in_progress":                   1,
		"redis_master_sync_total_bytes":                   1 << 20,
		"redis_master_sync_read_bytes":                    1 << 18,
		"redis_master_sync_left_bytes":                    786432,
		"redis_master_sync_percent":                       25,
		"redis_master_sync_last_io_seconds_ago":           0,
		"redis_replicas_repl_buffer_bytes":                0,
		"redis_db_keys{db=\"db0\"}":                       5,
		"redis_instantaneous_input_bytes_per_second":      102.4,
		"redis_instantaneous_output_bytes_per_second":     1536,
		"redis_current_fork_percent":                      0,
		"redis_rdb_last_load_keys_loaded":                 0,
	})
	for _, k := range []string{"redis_eventloop_cycles_total", "redis_evicted_scripts_total", "redis_eventloop_duration_seconds_total"} {
		if got[k].Typ != dto.MetricType_COUNTER {
			t.Errorf("%s is %v, want a counter", k, got[k].Typ)
		}
	}
}
