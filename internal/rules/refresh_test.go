package rules

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/redis-probe/redis_probe_exporter/internal/cache"
	"github.com/redis-probe/redis_probe_exporter/internal/conn"
	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// A rule with a refresh_interval keeps a whole result only: one the
// deadline cut short is served by this probe alone, and the next probe,
// with time enough, measures again.
func TestCutShortResultIsNotKept(t *testing.T) {
	s := redistest.StartRedis(t)
	seedKeys(t, s)
	m := mustModule(t, ruleModule("5s", []string{
		`{metric: t_kept_count, pattern: "num:*", aggregate: count, refresh_interval: 1h}`,
	}, nil))
	rs := testStatus.Compile(m.Keys, m.Scripts)
	entry := cache.New(10, time.Hour).Entry(cache.Key{Target: s.Addr()}, time.Now())
	client := poolClient(t, s.Addr(), conn.Auth{})
	run := func(deadline time.Time) map[string]sample {
		t.Helper()
		e := exposition.NewEmitter(keepStatus())
		o := Options{Deadline: deadline, Cache: entry, RunID: "run-1"}
		if broken := rs.Run(context.Background(), client, o, e, log.NewNopLogger()); broken != nil {
			t.Fatalf("refused: %v", broken)
		}
		return samples(t, strings.NewReader(string(e.Text())))
	}
	expect(t, run(time.Now().Add(-time.Millisecond)), map[string]float64{
		"t_kept_count": 0, `redis_key_rule_truncated{rule="t_kept_count"}`: 1,
	})
	expect(t, run(time.Now().Add(time.Second)), map[string]float64{
		"t_kept_count": 3, `redis_key_rule_truncated{rule="t_kept_count"}`: 0, `redis_key_rule_age_seconds{rule="t_kept_count"}`: 0,
	})
	got := run(time.Now().Add(time.Second)) // now served from what was kept
	expect(t, got, map[string]float64{"t_kept_count": 3, `redis_key_rule_truncated{rule="t_kept_count"}`: 0})
	if age := got[`redis_key_rule_age_seconds{rule="t_kept_count"}`].Value; age <= 0 {
		t.Errorf("age %v: the third run measured again instead of serving the kept result", age)
	}
}
