package rules

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/conn"
	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// A stream rule adds, per stream, XINFO STREAM's entries-added (deleted
// entries included) and the age of its last-generated-id, which an empty
// stream has none of.
func TestKeyRuleStreamEntriesAddedAndAge(t *testing.T) {
	s := redistest.StartRedis(t)
	c := s.Client(t)
	ctx := context.Background()
	do := func(args ...any) any {
		t.Helper()
		v, err := c.Do(ctx, args...).Result()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return v
	}
	// st:live: 3 entries added, the first deleted; its newest added between
	// before and the probe, at least 50 ms before the probe.
	do("XADD", "st:live", "*", "n", 1)
	do("XADD", "st:live", "*", "n", 2)
	before := time.Now()
	do("XADD", "st:live", "*", "n", 3)
	first := do("XRANGE", "st:live", "-", "+", "COUNT", 1).([]any)[0].([]any)[0]
	do("XDEL", "st:live", first)
	do("XGROUP", "CREATE", "st:live", "g", "0")
	// st:old: IDs of known times; deleting the newest entry leaves the age
	// of the newest entry added, not of the newest one left.
	do("XADD", "st:old", "1000-0", "n", 1)
	do("XADD", "st:old", "2500-0", "n", 2)
	do("XDEL", "st:old", "2500-0")
	// st:empty: one entry added and deleted: no age.
	do("XADD", "st:empty", "*", "n", 1)
	do("XTRIM", "st:empty", "MAXLEN", 0)
	time.Sleep(50 * time.Millisecond)

	m := mustModule(t, ruleModule("5s", []string{`{metric: t_st, pattern: "st:*", key_labels: '^st:(?P<name>.*)$', measure: stream, labels: {app: shop}}`}, nil))
	got, types, ok := runRules(t, s.Addr(), m, conn.Auth{})
	after := time.Now()
	if !ok {
		t.Fatal("probe failed")
	}
	now := float64(after.UnixMicro()) / 1e6
	window := after.Sub(before).Seconds()
	checkRuleCase(t, ruleCase{
		metric: "t_st", key: "{measure: stream}", typ: dto.MetricType_GAUGE,
		want: map[string]float64{
			`t_st{app="shop",key="st:live",name="live"}`:                      2,
			`t_st{app="shop",key="st:old",name="old"}`:                        1,
			`t_st{app="shop",key="st:empty",name="empty"}`:                    0,
			`t_st_group_lag{app="shop",group="g",key="st:live"}`:              2,
			`t_st_group_pending_messages{app="shop",group="g",key="st:live"}`: 0,
			`t_st_group_consumers{app="shop",group="g",key="st:live"}`:        0,
		},
		success: 1, keys: 3, truncated: 0,
	}, got, types)
	expect(t, got, map[string]float64{
		`t_st_entries_added{app="shop",key="st:live",name="live"}`:   3,
		`t_st_entries_added{app="shop",key="st:old",name="old"}`:     2,
		`t_st_entries_added{app="shop",key="st:empty",name="empty"}`: 1,
	})
	ages := map[string][2]float64{
		`t_st_last_entry_age_seconds{app="shop",key="st:live",name="live"}`: {0.05, window + 0.001},
		`t_st_last_entry_age_seconds{app="shop",key="st:old",name="old"}`:   {now - 2.5 - window, now - 2.5 + 0.001},
	}
	for k, r := range ages {
		if v, ok := got[k]; !ok {
			t.Errorf("missing %s", k)
		} else if v.Value < r[0] || v.Value > r[1] {
			t.Errorf("%s = %v, want %v..%v", k, v.Value, r[0], r[1])
		}
	}
	for k := range got {
		name := seriesName(k)
		if name == "t_st_last_entry_age_seconds" {
			if _, ok := ages[k]; !ok {
				t.Errorf("unexpected series %s (an empty stream has no age)", k)
			}
		}
		if strings.HasPrefix(k, "t_st_entries_added") && !strings.Contains(k, `key="st:`) {
			t.Errorf("unexpected series %s", k)
		}
	}
	for _, name := range []string{"t_st_entries_added", "t_st_last_entry_age_seconds"} {
		if types[name] != dto.MetricType_GAUGE {
			t.Errorf("%s is a %v, want a gauge", name, types[name])
		}
	}
}

// The new series cost no round trip: one XINFO STREAM and one XINFO
// GROUPS per stream, no XLEN, and a failed stream rule still emits none
// of them.
func TestKeyRuleStreamCommands(t *testing.T) {
	s := redistest.StartRedis(t)
	c := s.Client(t)
	ctx := context.Background()
	for _, k := range []string{"st:a", "st:b"} {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: k, Values: []any{"n", 1}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	m := mustModule(t, ruleModule("5s", []string{
		`{metric: t_ab, keys: ["st:a", "st:b"], measure: stream}`,
		`{metric: t_bad, keys: ["st:a", "str"], measure: stream}`,
	}, nil))
	if err := c.Set(ctx, "str", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	got, _, ok := runRules(t, s.Addr(), m, conn.Auth{})
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{
		`t_ab_entries_added{key="st:a"}`:       1,
		`t_ab_entries_added{key="st:b"}`:       1,
		`redis_key_rule_success{rule="t_ab"}`:  1,
		`redis_key_rule_success{rule="t_bad"}`: 0,
	})
	for k := range got {
		if strings.HasPrefix(k, "t_bad") {
			t.Errorf("the failed stream rule emitted %s", k)
		}
	}
	// t_bad fails at TYPE, before its XINFO batch.
	for cmd, want := range map[string]int{"xinfo|stream": 2, "xinfo|groups": 2, "xlen": 0} {
		if got := redistest.Calls(t, c, cmd); got != want {
			t.Errorf("%s: calls=%d, want calls=%d", cmd, got, want)
		}
	}
}

// XINFO STREAM answers a stream's first and last entries whole, so streams
// are measured one per round trip: 30 streams of one 300 KiB entry (18 MB
// of replies in all) stay within the 16 MiB a round trip may bring.
func TestKeyRuleStreamsOfLargeEntries(t *testing.T) {
	s := redistest.StartRedis(t)
	c := s.Client(t)
	ctx := context.Background()
	big := strings.Repeat("x", 300<<10)
	for i := range 30 {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: fmt.Sprintf("s%d", i), Values: []any{"f", big}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	m := mustModule(t, ruleModule("10s", []string{`{metric: t_big_streams, pattern: "s*", measure: stream}`}, nil))
	got, _, ok := runRules(t, s.Addr(), m, conn.Auth{})
	if !ok {
		t.Fatal("the probe failed: a reply broke the limits")
	}
	expect(t, got, map[string]float64{
		`redis_key_rule_success{rule="t_big_streams"}`: 1,
		`redis_key_rule_keys{rule="t_big_streams"}`:    30,
		`t_big_streams{key="s7"}`:                      1,
		`t_big_streams_entries_added{key="s29"}`:       1,
	})
}
