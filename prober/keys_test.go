package prober

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// The key and script rules themselves are tested in internal/rules; these
// tests are of the rules inside a probe.

// A rule that fails leaves the other rules, the collectors and the probe
// standing.
func TestKeyRuleFailureIsIsolated(t *testing.T) {
	s := redistest.StartRedis(t)
	c := s.Client(t)
	ctx := context.Background()
	for _, args := range [][]any{
		{"MSET", "num:a", "10", "num:b", "32.5", "num:c", "-4", "text:bad", "not-a-number"},
		{"SADD", "tags", "red", "green", "blue", "black"},
	} {
		if err := c.Do(ctx, args...).Err(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	m := mustModule(t, `    timeout: 5s
    keys:
      - {metric: t_before, key: "num:a"}
      - {metric: t_bad, keys: ["num:a", "text:bad", "num:b"]}
      - {metric: t_after, pattern: "num:*", aggregate: sum}
      - {metric: t_wrongtype, key: tags, measure: value}
    scripts:
      - {metric: t_writes, script: "redis.call('SET', 'written', '1') return 1"}
      - {metric: t_script_after, script: "return 42"}
`)
	got, ok := probeTarget(t, s.Addr(), m, nil)
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{
		"probe_success": 1,
		"redis_up":      1,
		`redis_key_rule_success{rule="t_before"}`:       1,
		`redis_key_rule_success{rule="t_bad"}`:          0,
		`redis_key_rule_success{rule="t_after"}`:        1,
		`redis_key_rule_success{rule="t_wrongtype"}`:    0,
		`redis_key_rule_success{rule="t_writes"}`:       0,
		`redis_key_rule_success{rule="t_script_after"}`: 1,
		`t_before{key="num:a"}`:                         10,
		"t_after":                                       38.5,
		"t_script_after":                                42,
	})
	for k, v := range got {
		switch name, _, _ := strings.Cut(k, "{"); {
		case name == "t_bad" || name == "t_wrongtype" || name == "t_writes":
			t.Errorf("a failed rule emitted %s", k)
		case name == "probe_collector_success" && v.Value != 1:
			t.Errorf("%s = %v: a failed rule touched a collector", k, v.Value)
		}
	}
}

// A SCAN that cannot finish in time is cut by the probe's deadline: the
// probe still answers in time and succeeds.
func TestKeyRuleDeadline(t *testing.T) {
	s := redistest.StartRedis(t, "--enable-debug-command", "yes")
	c := s.Client(t)
	ctx := context.Background()
	if err := c.Do(ctx, "DEBUG", "POPULATE", 1000000).Err(); err != nil {
		t.Fatal(err)
	}
	m := mustModule(t, `    timeout: 300ms
    keys:
      - {metric: t_nomatch, pattern: "nomatch:*", aggregate: count, scan_count: 10}
`)
	start := time.Now()
	got, ok := probeTarget(t, s.Addr(), m, nil)
	elapsed := time.Since(start)
	if elapsed >= time.Second {
		t.Errorf("probe took %v with a 300ms timeout", elapsed)
	}
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{
		"probe_success": 1,
		`redis_key_rule_success{rule="t_nomatch"}`:   1,
		`redis_key_rule_truncated{rule="t_nomatch"}`: 1,
		`redis_key_rule_keys{rule="t_nomatch"}`:      0,
		"t_nomatch":                                  0, // what it counted before the deadline; truncated says it is partial
	})
	t.Logf("probe with a cut SCAN took %v", elapsed)
}

// run_on: a rule runs on the nodes of its role only, so that probing a
// master and its replicas counts each key once.
func TestRuleRunOn(t *testing.T) {
	master := redistest.StartRedis(t, "--repl-diskless-sync-delay", "0")
	replica := startReplica(t, master)
	master.Client(t).Set(context.Background(), "jobs", 7, 0)
	redistest.WaitFor(t, 10*time.Second, func() error {
		if n, _ := replica.Client(t).Exists(context.Background(), "jobs").Result(); n != 1 {
			return fmt.Errorf("the replica has not the key yet")
		}
		return nil
	}, nil)
	m := mustModule(t, `    timeout: 2s
    keys:
      - {metric: r_master, key: jobs, run_on: master}
      - {metric: r_replica, key: jobs, run_on: replica}
      - {metric: r_any, key: jobs}
    scripts:
      - {metric: r_script_master, script: "return 1", run_on: master}
`)
	filtered := mustModule(t, `    timeout: 2s
    metrics: {include: ["r_.*", "redis_key_rule_.*"]}
    keys:
      - {metric: r_master, key: jobs, run_on: master}
      - {metric: r_any, key: jobs}
`)
	for _, tc := range []struct {
		s     *redistest.Server
		want  map[string]float64
		never []string
	}{
		{master, map[string]float64{`r_master{key="jobs"}`: 7, `r_any{key="jobs"}`: 7, "r_script_master": 1}, []string{"r_replica"}},
		{replica, map[string]float64{`r_replica{key="jobs"}`: 7, `r_any{key="jobs"}`: 7}, []string{"r_master", "r_script_master"}},
	} {
		got, ok := probeTarget(t, tc.s.Addr(), m, nil)
		if !ok {
			t.Fatal("probe failed")
		}
		expect(t, got, tc.want)
		// A filter that keeps no INFO family still sends INFO ALL for the
		// role the rules need.
		got, _ = probeTarget(t, tc.s.Addr(), filtered, nil)
		expect(t, got, map[string]float64{`r_any{key="jobs"}`: 7})
		if _, ran := got[`r_master{key="jobs"}`]; ran != (tc.s == master) {
			t.Errorf("%s: with a metrics filter, run_on master ran: %v", tc.s.Addr(), ran)
		}
		for k := range got {
			for _, never := range tc.never {
				if strings.HasPrefix(k, never+"{") || k == never || strings.Contains(k, `rule="`+never+`"`) {
					t.Errorf("%s: a rule that does not run on this role gave %s", tc.s.Addr(), k)
				}
			}
		}
	}
}
