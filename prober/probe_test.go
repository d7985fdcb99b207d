package prober

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/info"
	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

func TestProbeRealRedis(t *testing.T) {
	began := time.Now()
	s := redistest.StartRedis(t)
	ctx := context.Background()
	c := s.Client(t)
	for i := range 5 {
		c.Set(ctx, fmt.Sprintf("k%d", i), i, 0)
	}
	c.Set(ctx, "ttl", 1, time.Hour)
	c.Do(ctx, "SELECT", 2)

	got, ok := probeTarget(t, s.Addr(), mustModule(t, "    timeout: 2s\n"), nil)
	if !ok {
		t.Fatal("probe failed")
	}
	nan := math.NaN()
	expect(t, got, map[string]float64{
		"probe_success":                                    1,
		"redis_up":                                         1,
		`redis_db_keys{db="db0"}`:                          6,
		`redis_db_keys_expiring{db="db0"}`:                 1,
		`probe_collector_success{collector="info"}`:        1,
		`probe_collector_success{collector="keyspace"}`:    1,
		`probe_collector_success{collector="replication"}`: 1,
		"redis_connected_slaves":                           0,
		"redis_memory_used_bytes":                          nan,
		"redis_uptime_in_seconds":                          nan,
		"probe_duration_seconds":                           nan,
	})
	// Whole seconds since the server started, which was after began.
	if v, limit := got["redis_uptime_in_seconds"].Value, math.Ceil(time.Since(began).Seconds()); v < 0 || v > limit {
		t.Errorf("uptime %v, want from 0 to the %v s since the test began", v, limit)
	}
	// The probe's own families and one success per default collector;
	// keyspace reports db0 alone (the SELECT 2 wrote nothing).
	expectExact(t, got, map[string]float64{
		"probe_success":          1,
		"probe_duration_seconds": nan,
		"redis_up":               1,
		`probe_collector_success{collector="commandstats"}`: 1,
		`probe_collector_success{collector="config"}`:       1,
		`probe_collector_success{collector="errorstats"}`:   1,
		`probe_collector_success{collector="info"}`:         1,
		`probe_collector_success{collector="keyspace"}`:     1,
		`probe_collector_success{collector="latency"}`:      1,
		`probe_collector_success{collector="latencystats"}`: 1,
		`probe_collector_success{collector="modules"}`:      1,
		`probe_collector_success{collector="replication"}`:  1,
		`probe_collector_success{collector="slowlog"}`:      1,
	}, "probe_success", "probe_duration_seconds", "redis_up", "probe_collector_success")
	expectExact(t, got, map[string]float64{
		`redis_db_keys{db="db0"}`:            6,
		`redis_db_keys_expiring{db="db0"}`:   1,
		`redis_db_avg_ttl_seconds{db="db0"}`: nan,
	}, familiesOf(t, "keyspace")...)
	if v := got["redis_connected_clients"].Value; v < 1 {
		t.Errorf("connected clients %v, want at least the probe's own", v)
	}
	version := redisVersion(t)
	want := fmt.Sprintf(`redis_version="%s",role="master"`, version)
	found := false
	for k := range got {
		found = found || strings.HasPrefix(k, "redis_instance_info{") && strings.Contains(k, want) && strings.Contains(k, fmt.Sprintf(`tcp_port="%d"`, s.Port))
	}
	if !found {
		t.Errorf("no redis_instance_info with %s", want)
	}
}

func redisVersion(t *testing.T) string {
	out, err := exec.Command("redis-server", "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return v
		}
	}
	t.Fatalf("no version in %q", out)
	return ""
}

func TestProbeReplication(t *testing.T) {
	master := redistest.StartRedis(t, "--repl-diskless-sync-delay", "0")
	replicas := []*redistest.Server{
		redistest.StartRedis(t, "--replicaof", "127.0.0.1", fmt.Sprint(master.Port)),
		redistest.StartRedis(t, "--replicaof", "127.0.0.1", fmt.Sprint(master.Port)),
	}
	ctx := context.Background()
	master.Client(t).Set(ctx, "a", "b", 0)
	for _, r := range replicas {
		rc := r.Client(t)
		redistest.WaitFor(t, 10*time.Second, func() error {
			text, err := rc.Info(ctx, "replication").Result()
			if err != nil {
				return err
			}
			if v, _ := info.Get(info.Parse(text), "master_link_status"); v != "up" {
				return fmt.Errorf("link %s", v)
			}
			if n, _ := rc.DBSize(ctx).Result(); n != 1 {
				return fmt.Errorf("replica has %d keys", n)
			}
			return nil
		}, nil)
	}

	m := mustModule(t, "    timeout: 2s\n")
	for _, r := range replicas {
		got, ok := probeTarget(t, r.Addr(), m, nil)
		if !ok {
			t.Fatal("replica probe failed")
		}
		expect(t, got, map[string]float64{
			"redis_master_link_up": 1,
			fmt.Sprintf(`redis_slave_info{master_host="127.0.0.1",master_port="%d",read_only="1"}`, master.Port): 1,
			`redis_db_keys{db="db0"}`:       1,
			"redis_master_sync_in_progress": 0,
		})
		if r := roleOf(got); r != "slave" {
			t.Errorf("replica role %q", r)
		}
	}

	// onlineReplicas is the replica ports the master reports online.
	onlineReplicas := func() (float64, []string) {
		got, _ := probeTarget(t, master.Addr(), m, nil)
		if r := roleOf(got); r != "master" {
			t.Errorf("master role %q", r)
		}
		var ports []string
		for k := range got {
			if strings.HasPrefix(k, "redis_connected_slave_lag_seconds{") && strings.Contains(k, `slave_state="online"`) {
				i := strings.Index(k, `slave_port="`) + len(`slave_port="`)
				ports = append(ports, k[i:i+strings.Index(k[i:], `"`)])
			}
		}
		slices.Sort(ports)
		return got["redis_connected_slaves"].Value, ports
	}
	want := []string{fmt.Sprint(replicas[0].Port), fmt.Sprint(replicas[1].Port)}
	slices.Sort(want)
	if n, ports := onlineReplicas(); n != 2 || !slices.Equal(ports, want) {
		t.Errorf("master reports %v replicas online at %v, want 2 at %v", n, ports, want)
	}

	// Kill one replica: the master notices when the link drops.
	replicas[1].Stop()
	redistest.WaitFor(t, 10*time.Second, func() error {
		if n, ports := onlineReplicas(); n != 1 || !slices.Equal(ports, []string{fmt.Sprint(replicas[0].Port)}) {
			return fmt.Errorf("master reports %v replicas online at %v", n, ports)
		}
		return nil
	}, nil)
	got, _ := probeTarget(t, replicas[0].Addr(), m, nil)
	expect(t, got, map[string]float64{"redis_master_link_up": 1})
}

func roleOf(got map[string]sample) string {
	for k := range got {
		if i := strings.Index(k, `role="`); strings.HasPrefix(k, "redis_instance_info") && i > 0 {
			return k[i+6 : i+6+strings.Index(k[i+6:], `"`)]
		}
	}
	return ""
}

// A filter that excludes every family INFO feeds means INFO is not sent.
func TestFilterSkipsCommands(t *testing.T) {
	s := redistest.StartRedis(t)
	c := s.Client(t)
	for _, tc := range []struct {
		name, module string
		infoSent     int
		present      []string
		absent       []string
	}{
		{"everything", "    timeout: 2s\n", 1, []string{"redis_up", "redis_memory_used_bytes", `redis_db_keys{db="db0"}`}, nil},
		{"only keyspace", "    metrics:\n      include: ['redis_db_.*']\n", 1, []string{"redis_up", "probe_success", `redis_db_keys{db="db0"}`}, []string{"redis_memory_used_bytes", `probe_collector_success{collector="info"}`}},
		{"no INFO family", "    metrics:\n      include: ['redis_up']\n", 0, []string{"redis_up", "probe_success", "probe_duration_seconds"}, []string{`redis_db_keys{db="db0"}`}},
		{"exclude all", "    metrics:\n      exclude: ['.*']\n", 0, []string{"redis_up", "probe_success", "probe_duration_seconds"}, []string{"redis_connected_clients"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := redistest.Calls(t, c, "info")
			got, ok := probeTarget(t, s.Addr(), mustModule(t, tc.module), nil)
			after := redistest.Calls(t, c, "info")
			if !ok {
				t.Fatal("probe failed")
			}
			// after-before counts our own INFO commandstats once.
			if sent := after - before - 1; sent != tc.infoSent {
				t.Errorf("probe sent INFO %v times, want %v", sent, tc.infoSent)
			}
			for _, k := range tc.present {
				if _, ok := got[k]; !ok {
					t.Errorf("missing %s", k)
				}
			}
			for _, k := range tc.absent {
				if _, ok := got[k]; ok {
					t.Errorf("filter kept %s", k)
				}
			}
		})
	}
}

func TestProbeAuth(t *testing.T) {
	s := redistest.StartRedis(t, "--requirepass", "default-pw")
	ctx := context.Background()
	admin := s.Client(t)
	admin.Do(ctx, "AUTH", "default-pw")
	if err := admin.Do(ctx, "ACL", "SETUSER", "exporter", "on", ">exporter-pw", "+@all", "-@write", "~*").Err(); err != nil {
		t.Fatal(err)
	}
	m := mustModule(t, "    timeout: 2s\n")
	for _, tc := range []struct {
		name string
		auth *modules.Auth
		up   float64
	}{
		{"requirepass", &modules.Auth{Password: "default-pw"}, 1},
		{"acl user", &modules.Auth{Username: "exporter", Password: "exporter-pw"}, 1},
		{"wrong password", &modules.Auth{Username: "exporter", Password: "nope"}, 0},
		{"no auth", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := probeTarget(t, s.Addr(), m, tc.auth)
			expect(t, got, map[string]float64{"redis_up": tc.up, "probe_success": tc.up})
			if ok != (tc.up == 1) {
				t.Errorf("ok = %v", ok)
			}
			if tc.up == 0 && len(got) != 3 {
				t.Errorf("a failed probe returns %d series, want probe_success, probe_duration_seconds and redis_up", len(got))
			}
		})
	}
}

// The exposition of a real probe passes promtool's lint.
func TestPromtoolCheckMetrics(t *testing.T) {
	s := redistest.StartRedis(t, "--replicaof", "127.0.0.1", "1") // a replica whose master is down
	promtoolCheck(t, probeExposition(t, testConfig, s.Addr()))
}

// An orphaned replica says how long its master link has been down: the
// age grows from the moment the master died, and a replica whose master
// never answered says -1.
func TestOrphanedReplicaLinkDownAge(t *testing.T) {
	master := redistest.StartRedis(t, "--repl-diskless-sync-delay", "0")
	replica := startReplica(t, master)
	never := redistest.StartRedis(t, "--replicaof", "127.0.0.1", "1")
	rc := replica.Client(t)
	m := mustModule(t, "    timeout: 2s\n")
	got, _ := probeTarget(t, replica.Addr(), m, nil)
	if _, ok := got["redis_master_link_down_since_seconds"]; ok {
		t.Error("a replica with its link up reports redis_master_link_down_since_seconds")
	}

	master.Stop()
	died := time.Now()
	redistest.WaitFor(t, 10*time.Second, func() error {
		text, err := rc.Info(context.Background(), "replication").Result()
		if err != nil || !strings.Contains(text, "master_link_status:down") {
			return fmt.Errorf("link not down yet: %v", err)
		}
		return nil
	}, nil)
	time.Sleep(2100 * time.Millisecond)
	got, ok := probeTarget(t, replica.Addr(), m, nil)
	if !ok {
		t.Fatal("probe of the orphaned replica failed")
	}
	age := got["redis_master_link_down_since_seconds"].Value
	if limit := time.Since(died).Seconds() + 1; age < 2 || age > limit {
		t.Errorf("link down for %v s, want 2 to %.1f", age, limit)
	}
	expect(t, got, map[string]float64{"redis_master_link_up": 0})
	got, _ = probeTarget(t, never.Addr(), m, nil)
	expect(t, got, map[string]float64{"redis_master_link_down_since_seconds": -1, "redis_master_link_up": 0})
}

// promtool is silent on a probe with every collector on, assertions and
// every kind of rule, including the ones this code added last: topk,
// streams, run_on, refresh_interval.
func TestPromtoolCheckEverything(t *testing.T) {
	s := redistest.StartRedis(t, "--slowlog-log-slower-than", "0")
	c := s.Client(t)
	ctx := context.Background()
	c.Set(ctx, "big", strings.Repeat("x", 100), 0)
	c.Set(ctx, "small", "x", 0)
	c.XAdd(ctx, &redis.XAddArgs{Stream: "events", Values: []any{"k", "v"}})
	var on []string
	for _, col := range collectors {
		on = append(on, col.name+": true")
	}
	config := `modules:
  default:
    timeout: 5s
    client_series: 3
    collectors: {` + strings.Join(on, ", ") + `}
    expect: {role: master, loading: false, min_replicas: 0}
    keys:
      - {metric: app_biggest, pattern: "*", measure: memory, aggregate: topk, k: 2, refresh_interval: 1m}
      - {metric: app_events, key: events, measure: stream, run_on: master}
      - {metric: app_gone, keys: [nope], missing: omit}
    scripts:
      - {metric: app_one, script: "return 1"}
`
	text := probeExposition(t, config, s.Addr())
	promtoolCheck(t, text)
	for _, want := range []string{"probe_assertion_success{", "app_biggest{", "app_events_entries_added{", "app_events_last_entry_age_seconds{", "redis_slowlog_command_entries{", "redis_key_rule_age_seconds{"} {
		if !strings.Contains(text, "\n"+want) {
			t.Errorf("no %s series", strings.TrimSuffix(want, "{"))
		}
	}
}

// A Redis loading its dataset refuses PING (-LOADING) but answers INFO: it
// is up, its loading progress is reported, rules are skipped and say so,
// and an expect: {loading: false} assertion fails the probe.
func TestProbeWhileLoading(t *testing.T) {
	s := redistest.StartRedis(t, "--enable-debug-command", "yes")
	c := s.Client(t)
	ctx := context.Background()
	if err := c.Do(ctx, "DEBUG", "POPULATE", 1_000_000, "key", 100).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	// Started by hand: redistest waits for PONG, which comes after loading.
	srv := exec.Command("redis-server", "--port", fmt.Sprint(s.Port), "--bind", "127.0.0.1", "--dir", s.Dir,
		"--save", "", "--appendonly", "no", "--logfile", "loading.log")
	srv.Dir = s.Dir
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	redistest.WaitFor(t, 10*time.Second, func() error {
		text, err := s.Client(t).Info(ctx, "persistence").Result()
		if err != nil || !strings.Contains(text, "loading:1") {
			return fmt.Errorf("not loading yet: %v", err)
		}
		return nil
	}, nil)
	m := mustModule(t, "    timeout: 2s\n    expect: {loading: false}\n    keys:\n      - {metric: r_key, key: key:1}\n")
	got, ok := probeTarget(t, s.Addr(), m, nil)
	if got["redis_loading_dump_file"].Value != 1 {
		t.Fatalf("the probe came after the load ended (loading %v): load more keys", got["redis_loading_dump_file"])
	}
	if ok {
		t.Error("the probe of a loading Redis succeeded despite expect: {loading: false}")
	}
	expect(t, got, map[string]float64{
		"redis_up": 1, "probe_success": 0,
		`probe_assertion_success{assertion="loading"}`: 0,
		`redis_key_rule_skipped{rule="r_key"}`:         1,
		`probe_collector_success{collector="info"}`:    1,
	})
	if p := got["redis_loading_loaded_percent"].Value; !(p >= 0 && p < 100) {
		t.Errorf("loaded %v%%, want 0 to 100 while loading", p)
	}
	if _, ran := got[`r_key{key="key:1"}`]; ran {
		t.Error("a rule ran while Redis was loading")
	}
	// Without assertions too, a loading Redis is up but not serving.
	got, ok = probeTarget(t, s.Addr(), mustModule(t, "    timeout: 2s\n"), nil)
	if ok || got["redis_up"].Value != 1 || got["redis_loading_dump_file"].Value != 1 {
		t.Errorf("probe_success %v, redis_up %v, loading %v; want 0, 1, 1", ok, got["redis_up"].Value, got["redis_loading_dump_file"].Value)
	}
}
