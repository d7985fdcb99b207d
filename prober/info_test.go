package prober

import (
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
		`redis_instance_info{maxmemory_policy="noeviction",os="Linux 6.18.44-fc-v657 x86_64",redis_build_id="ae4d7c971a948f0",redis_mode="standalone",redis_version="7.0.15",role="master",run_id="302de16c6a3ef4661974ed115e66f25cbbdf6407",tcp_port="17001"}`: 1,
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
		if got[k].typ != dto.MetricType_COUNTER {
			t.Errorf("%s is %v, want a counter", k, got[k].typ)
		}
	}
	if got["redis_keyspace_misses_total"].value != 1 || got["redis_error_replies_total"].value != 1 {
		t.Errorf("misses %v, error replies %v; want 1 and 1", got["redis_keyspace_misses_total"], got["redis_error_replies_total"])
	}
	// Base units: server_time_usec 1795619106700693 less uptime 2 s.
	expect(t, got, map[string]float64{"redis_start_time_seconds": 1795619104})
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
	expect(t, got, map[string]float64{
		`redis_master_link_up`: 1,
		`redis_slave_info{master_host="127.0.0.1",master_port="17001",read_only="1"}`: 1,
		`redis_slave_repl_offset`:       201,
		`redis_master_sync_in_progress`: 0,
		`redis_slave_priority`:          100,
		`redis_connected_slaves`:        0,
	})
	if v := got["redis_master_last_io_seconds_ago"]; v.value < 0 || v.value > 10 {
		t.Errorf("redis_master_last_io_seconds_ago = %v", v)
	}
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
}
