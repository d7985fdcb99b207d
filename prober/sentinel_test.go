package prober

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// sentinelCollectors turns the sentinel collector on and off the collectors
// whose commands a Sentinel does not know.
const sentinelCollectors = "    collectors: {sentinel: true, config: false, slowlog: false, latency: false, modules: false}\n"

// startReplica starts a replica of master and waits until its link is up
// and the master counts it.
func startReplica(t *testing.T, master *redistest.Server) *redistest.Server {
	t.Helper()
	replica := redistest.StartRedis(t, "--replicaof", "127.0.0.1", fmt.Sprint(master.Port))
	rc, mc := replica.Client(t), master.Client(t)
	redistest.WaitFor(t, 15*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		ri, err := rc.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(ri, "master_link_status:up") {
			return fmt.Errorf("replica link not up:\n%s", ri)
		}
		mi, err := mc.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		// connected_slaves counts a replica still syncing: wait until the
		// master sees it online, as min_replicas assertions count.
		if !strings.Contains(mi, "connected_slaves:1") || !strings.Contains(mi, ",state=online,") {
			return fmt.Errorf("master does not see the replica online:\n%s", mi)
		}
		return nil
	}, nil)
	return replica
}

// sentinelLabels is the label set of a per-master series.
func sentinelLabels(name string, master *redistest.Server) string {
	return fmt.Sprintf(`{master_address="127.0.0.1:%d",master_name=%q}`, master.Port, name)
}

// expectCollectorsSucceeded checks that every collector the module enables
// reported success.
func expectCollectorsSucceeded(t *testing.T, got map[string]sample, module string) {
	t.Helper()
	m := mustModule(t, module)
	for _, c := range collectors {
		if !m.CollectorEnabled(c.name) {
			continue
		}
		k := fmt.Sprintf(`probe_collector_success{collector=%q}`, c.name)
		if s, ok := got[k]; !ok || s.Value != 1 {
			t.Errorf("%s = %v (present %v), want 1", k, s.Value, ok)
		}
	}
}

func TestSentinelCollector(t *testing.T) {
	t.Parallel()
	master := redistest.StartRedis(t)
	replica := startReplica(t, master)
	s := redistest.StartSentinel(t, "mym", master, 1)
	m := mustModule(t, "    timeout: 2s\n"+sentinelCollectors)
	l := sentinelLabels("mym", master)

	got, ok := probeTarget(t, s.Addr(), m, nil)
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{
		"probe_success": 1,
		"redis_up":      1,
		`probe_collector_success{collector="sentinel"}`: 1,
	})
	// Every series of the collector: one master, monitored by this Sentinel
	// alone, with its one replica; not in TILT mode, so no TILT clock (-1).
	expectExact(t, got, map[string]float64{
		"redis_sentinel_masters":                 1,
		"redis_sentinel_tilt_since_seconds":      -1,
		"redis_sentinel_tilt":                    0,
		"redis_sentinel_running_scripts":         0,
		"redis_sentinel_scripts_queue_length":    0,
		"redis_sentinel_simulate_failure_flags":  0,
		"redis_sentinel_master_status" + l:       1,
		"redis_sentinel_master_slaves" + l:       1,
		"redis_sentinel_master_ok_slaves" + l:    1,
		"redis_sentinel_master_sentinels" + l:    1,
		"redis_sentinel_master_ok_sentinels" + l: 1,
		"redis_sentinel_master_quorum" + l:       1,
		"redis_sentinel_master_ckquorum" + l:     1,
		// Its settings, as the test Sentinel's config sets them, and the
		// epoch no failover has raised yet.
		"redis_sentinel_master_config_epoch" + l:               0,
		"redis_sentinel_master_down_after_seconds" + l:         1,
		"redis_sentinel_master_failover_timeout_seconds" + l:   5,
		"redis_sentinel_master_parallel_syncs" + l:             1,
		"redis_sentinel_master_last_ok_ping_reply_seconds" + l: math.NaN(), // any value: checked below
		fmt.Sprintf(`redis_sentinel_master_status_info{master_address="127.0.0.1:%d",master_name="mym",master_status="master"}`, master.Port): 1,
	}, familiesOf(t, "sentinel")...)
	expectCollectorsSucceeded(t, got, "    timeout: 2s\n"+sentinelCollectors)
	if v := got["redis_sentinel_master_last_ok_ping_reply_seconds"+l].Value; v < 0 || v > 2 {
		t.Errorf("last ok ping reply %v s ago, want 0 to 2 (the Sentinel pings every second)", v)
	}
	found := false
	for k := range got {
		found = found || strings.HasPrefix(k, "redis_instance_info{") && strings.Contains(k, `redis_mode="sentinel"`)
	}
	if !found {
		t.Error(`no redis_instance_info with redis_mode="sentinel"`)
	}

	// A dead replica stays known but is no longer counted as up once the
	// Sentinel sees it down (down-after-milliseconds is 1000).
	replica.Stop()
	redistest.WaitFor(t, 15*time.Second, func() error {
		got, ok := probeTarget(t, s.Addr(), m, nil)
		if !ok {
			return fmt.Errorf("probe failed")
		}
		okSlaves, present := got["redis_sentinel_master_ok_slaves"+l]
		if !present {
			return fmt.Errorf("no redis_sentinel_master_ok_slaves")
		}
		if okSlaves.Value != 0 {
			return fmt.Errorf("ok_slaves %v, want 0", okSlaves.Value)
		}
		if v := got["redis_sentinel_master_slaves"+l]; v.Value != 1 {
			t.Errorf("slaves %v after the replica died, want 1", v.Value)
		}
		if v := got["redis_sentinel_master_status"+l]; v.Value != 1 {
			t.Errorf("master_status %v after the replica died, want 1", v.Value)
		}
		return nil
	}, s.Log)
}

// A quorum above the Sentinels that exist cannot be reached: CKQUORUM's
// error reply is reported as 0, and the collector still succeeds.
func TestSentinelUnreachableQuorum(t *testing.T) {
	t.Parallel()
	master := redistest.StartRedis(t)
	s := redistest.StartSentinel(t, "big", master, 3)
	got, ok := probeTarget(t, s.Addr(), mustModule(t, "    timeout: 2s\n"+sentinelCollectors), nil)
	if !ok {
		t.Fatal("probe failed")
	}
	l := sentinelLabels("big", master)
	expect(t, got, map[string]float64{
		"redis_sentinel_master_quorum" + l:              3,
		"redis_sentinel_master_ckquorum" + l:            0,
		"redis_sentinel_master_sentinels" + l:           1,
		"redis_sentinel_master_slaves" + l:              0,
		"redis_sentinel_master_ok_slaves" + l:           0,
		"redis_sentinel_master_status" + l:              1,
		`probe_collector_success{collector="sentinel"}`: 1,
		"probe_success":                                 1,
	})
}

// On a Redis that is not a Sentinel the collector fails alone and emits
// nothing.
func TestSentinelCollectorOnPlainRedis(t *testing.T) {
	t.Parallel()
	r := redistest.StartRedis(t)
	got, ok := probeTarget(t, r.Addr(), mustModule(t, "    timeout: 2s\n    collectors: {sentinel: true}\n"), nil)
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{
		`probe_collector_success{collector="sentinel"}`: 0,
		`probe_collector_success{collector="info"}`:     1,
		"probe_success": 1,
	})
	for k := range got {
		if strings.HasPrefix(k, "redis_sentinel_") {
			t.Errorf("a plain Redis reports %s", k)
		}
	}
}

func TestSentinelExpositionPassesPromtool(t *testing.T) {
	t.Parallel()
	master := redistest.StartRedis(t)
	startReplica(t, master)
	s := redistest.StartSentinel(t, "mym", master, 1)
	text := probeExposition(t, "modules:\n  default:\n    timeout: 2s\n"+sentinelCollectors, s.Addr())
	if !strings.Contains(text, "redis_sentinel_master_ok_slaves{") {
		t.Fatalf("no sentinel series in the exposition:\n%s", text)
	}
	promtoolCheck(t, text)
}
