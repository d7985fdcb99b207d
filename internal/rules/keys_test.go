package rules

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/conn"
	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
	"github.com/redis-probe/redis_probe_exporter/internal/target"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

// The seeded dataset. db 0 holds a key of every type; db 2 holds keys whose
// names clash with db 0's, so that a rule in the wrong database shows.
//
//	num:a "10", num:b "32.5", num:c "-4"      strings holding numbers
//	text:bad "not-a-number"                  a string that is no number
//	plain:hyll "HYLLO"                       a plain string that starts like a HyperLogLog
//	stats:cache {hits 1234, misses 56, ratio 0.95}
//	queue:emails [a b c], queue:sms [x y]    lists
//	tags {red green blue black}              a set
//	board p1..p5 scored 1..5                 a zset
//	visitors                                 a HyperLogLog of 100 distinct elements
//	events                                   a stream of 10 entries; group g1 read 4 and
//	                                         acked 1 (pending 3, lag 6, 1 consumer),
//	                                         group g2 read nothing (lag 10)
//	session:acme:1,2 (TTL 100 s), session:acme:3, session:globex:1,2, session:initech:1 (TTL 200 s)
//	jobs:delayed j1..j5 scored 500 900 1000 1500 2000
//	db 2: num:a "222", only:db2 "7", queue:db2 [1 2 3 4]
func seedKeys(t testing.TB, s *redistest.Server) *redis.Client {
	t.Helper()
	c := s.Client(t)
	ctx := context.Background()
	do := func(c *redis.Client, args ...any) any {
		t.Helper()
		v, err := c.Do(ctx, args...).Result()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return v
	}
	do(c, "MSET", "num:a", "10", "num:b", "32.5", "num:c", "-4", "text:bad", "not-a-number", "plain:hyll", "HYLLO")
	do(c, "HSET", "stats:cache", "hits", "1234", "misses", "56", "ratio", "0.95")
	do(c, "RPUSH", "queue:emails", "a", "b", "c")
	do(c, "RPUSH", "queue:sms", "x", "y")
	do(c, "SADD", "tags", "red", "green", "blue", "black")
	do(c, "ZADD", "board", 1, "p1", 2, "p2", 3, "p3", 4, "p4", 5, "p5")
	pf := []any{"PFADD", "visitors"}
	for i := range 100 {
		pf = append(pf, fmt.Sprintf("visitor-%d", i))
	}
	do(c, pf...)
	do(c, "PFCOUNT", "visitors") // caches the estimate in the sketch: later PFCOUNTs change nothing
	for i := 1; i <= 10; i++ {
		do(c, "XADD", "events", "*", "n", i)
	}
	do(c, "XGROUP", "CREATE", "events", "g1", "0")
	do(c, "XGROUP", "CREATE", "events", "g2", "0")
	read, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g1", Consumer: "c1", Streams: []string{"events", ">"}, Count: 4}).Result()
	if err != nil || len(read) != 1 || len(read[0].Messages) != 4 {
		t.Fatalf("XREADGROUP: %v %v", read, err)
	}
	do(c, "XACK", "events", "g1", read[0].Messages[0].ID)
	do(c, "SET", "session:acme:1", "u1", "EX", 100)
	do(c, "SET", "session:acme:2", "u2", "EX", 100)
	do(c, "SET", "session:acme:3", "u3")
	do(c, "SET", "session:globex:1", "u4")
	do(c, "SET", "session:globex:2", "u5")
	do(c, "SET", "session:initech:1", "u6", "EX", 200)
	do(c, "ZADD", "jobs:delayed", 500, "j1", 900, "j2", 1000, "j3", 1500, "j4", 2000, "j5")

	db2 := redis.NewClient(&redis.Options{Addr: s.Addr(), DB: 2, Protocol: 2, DisableIdentity: true})
	defer db2.Close()
	do(db2, "SET", "num:a", "222")
	do(db2, "SET", "only:db2", "7")
	do(db2, "RPUSH", "queue:db2", 1, 2, 3, 4)
	return c
}

// ruleModule is a module's YAML body (indented by 4 spaces, as mustModule
// takes it) with the given key and script rules, one flow mapping each.
func ruleModule(timeout string, keys, scripts []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "    timeout: %s\n", timeout)
	if len(keys) > 0 {
		b.WriteString("    keys:\n")
		for _, k := range keys {
			b.WriteString("      - " + k + "\n")
		}
	}
	if len(scripts) > 0 {
		b.WriteString("    scripts:\n")
		for _, s := range scripts {
			b.WriteString("      - " + s + "\n")
		}
	}
	return b.String()
}

// seriesName is the metric name of a samples key.
func seriesName(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		return key[:i]
	}
	return key
}

func ruleStatus(got map[string]sample, metric string) (success, keys, truncated float64, ok bool) {
	s, ok1 := got[fmt.Sprintf(`redis_key_rule_success{rule=%q}`, metric)]
	k, ok2 := got[fmt.Sprintf(`redis_key_rule_keys{rule=%q}`, metric)]
	tr, ok3 := got[fmt.Sprintf(`redis_key_rule_truncated{rule=%q}`, metric)]
	return s.Value, k.Value, tr.Value, ok1 && ok2 && ok3
}

// skip marks a rule status the case does not assert.
const skip = -1.0

// ruleCase is one rule probed on its own, and every series its families
// must hold: exactly want and near, nothing else.
type ruleCase struct {
	name   string
	key    string // a key rule, as a YAML flow mapping
	script string // or a script rule
	metric string
	typ    dto.MetricType // of the series named metric (stream suffixes are gauges)
	want   map[string]float64
	near   map[string][2]float64 // value within [lo, hi]
	// success, keys and truncated of a key rule; success alone of a script
	// rule. skip leaves one unasserted.
	success, keys, truncated float64
}

func (c ruleCase) families() []string {
	if c.key != "" && strings.Contains(c.key, "measure: stream") {
		out := []string{c.metric}
		for _, s := range modules.StreamSuffix {
			out = append(out, c.metric+s)
		}
		return out
	}
	return []string{c.metric}
}

func checkRuleCase(t *testing.T, c ruleCase, got map[string]sample, types map[string]dto.MetricType) {
	t.Helper()
	fams := c.families()
	isFam := func(name string) bool {
		for _, f := range fams {
			if f == name {
				return true
			}
		}
		return false
	}
	typeOf := func(name string) dto.MetricType {
		if name == c.metric {
			return c.typ
		}
		return dto.MetricType_GAUGE
	}
	for k, s := range got {
		name := seriesName(k)
		if !isFam(name) {
			continue
		}
		_, w := c.want[k]
		_, n := c.near[k]
		if !w && !n {
			t.Errorf("unexpected series %s = %v", k, s.Value)
		}
		if s.Typ != typeOf(name) {
			t.Errorf("%s is a %v series, want %v", k, s.Typ, typeOf(name))
		}
		if ft, ok := types[name]; ok && ft != typeOf(name) {
			t.Errorf("family %s has type %v, want %v", name, ft, typeOf(name))
		}
	}
	for k, v := range c.want {
		if s, ok := got[k]; !ok {
			t.Errorf("missing %s (want %v)", k, v)
		} else if s.Value != v {
			t.Errorf("%s = %v, want %v", k, s.Value, v)
		}
	}
	for k, r := range c.near {
		if s, ok := got[k]; !ok {
			t.Errorf("missing %s (want %v..%v)", k, r[0], r[1])
		} else if s.Value < r[0] || s.Value > r[1] {
			t.Errorf("%s = %v, want %v..%v", k, s.Value, r[0], r[1])
		}
	}
	if c.script != "" {
		s, ok := got[fmt.Sprintf(`redis_key_rule_success{rule=%q}`, c.metric)]
		if !ok {
			t.Errorf("no redis_key_rule_success for script %s", c.metric)
		} else if s.Value != c.success {
			t.Errorf(`redis_key_rule_success{rule=%q} = %v, want %v`, c.metric, s.Value, c.success)
		}
		return
	}
	success, keys, truncated, ok := ruleStatus(got, c.metric)
	if !ok {
		t.Errorf("rule %s lacks redis_key_rule_success, _keys or _truncated", c.metric)
		return
	}
	for _, st := range []struct {
		name      string
		got, want float64
	}{{"success", success, c.success}, {"keys", keys, c.keys}, {"truncated", truncated, c.truncated}} {
		if st.want != skip && st.got != st.want {
			t.Errorf(`redis_key_rule_%s{rule=%q} = %v, want %v`, st.name, c.metric, st.got, st.want)
		}
	}
	for _, name := range []string{"redis_key_rule_success", "redis_key_rule_keys", "redis_key_rule_truncated"} {
		if types[name] != dto.MetricType_GAUGE {
			t.Errorf("%s is a %v, want a gauge", name, types[name])
		}
	}
}

func TestKeyRuleMeasuresAndAggregates(t *testing.T) {
	s := redistest.StartRedis(t)
	c := seedKeys(t, s)
	ctx := context.Background()
	memory := func(key string) float64 {
		n, err := c.MemoryUsage(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		return float64(n)
	}
	pfcount, err := c.PFCount(ctx, "visitors").Result()
	if err != nil || pfcount < 98 || pfcount > 102 {
		t.Fatalf("PFCOUNT visitors = %d, %v: want 100±2", pfcount, err)
	}
	gauge, counter := dto.MetricType_GAUGE, dto.MetricType_COUNTER
	const tenant = `'^session:(?P<tenant>[^:]+):'`
	cases := []ruleCase{
		// measure: value
		{name: "value of strings", key: `{metric: t_value, keys: ["num:a", "num:b", "num:c"]}`, metric: "t_value", typ: gauge,
			want:    map[string]float64{`t_value{key="num:a"}`: 10, `t_value{key="num:b"}`: 32.5, `t_value{key="num:c"}`: -4},
			success: 1, keys: 3, truncated: 0},
		{name: "value of a hash field as a counter", key: `{metric: t_hits_total, type: counter, key: "stats:cache", field: hits, measure: value, labels: {cache: main}}`,
			metric: "t_hits_total", typ: counter,
			want:    map[string]float64{`t_hits_total{cache="main",key="stats:cache"}`: 1234},
			success: 1, keys: 1, truncated: 0},
		{name: "value of a fractional hash field", key: `{metric: t_ratio, key: "stats:cache", field: ratio}`, metric: "t_ratio", typ: gauge,
			want: map[string]float64{`t_ratio{key="stats:cache"}`: 0.95}, success: 1, keys: 1, truncated: 0},
		{name: "a missing key has no value", key: `{metric: t_value_missing, keys: ["num:a", "nope:1"]}`, metric: "t_value_missing", typ: gauge,
			want: map[string]float64{`t_value_missing{key="num:a"}`: 10}, success: 1, keys: skip, truncated: 0},
		{name: "a missing hash field has no value", key: `{metric: t_field_missing, key: "stats:cache", field: nope}`, metric: "t_field_missing", typ: gauge,
			success: 1, keys: skip, truncated: 0},
		{name: "a non-numeric value fails the rule", key: `{metric: t_bad, keys: ["num:a", "text:bad"]}`, metric: "t_bad", typ: gauge,
			success: 0, keys: skip, truncated: 0},
		{name: "value of a list fails the rule", key: `{metric: t_wrongtype, key: "queue:emails"}`, metric: "t_wrongtype", typ: gauge,
			success: 0, keys: skip, truncated: 0},

		// aggregates over a pattern
		{name: "sum", key: `{metric: t_sum, pattern: "num:*", aggregate: sum}`, metric: "t_sum", typ: gauge,
			want: map[string]float64{"t_sum": 38.5}, success: 1, keys: 3, truncated: 0},
		{name: "sum as a counter", key: `{metric: t_sum_total, type: counter, pattern: "num:*", aggregate: sum, labels: {src: nums}}`, metric: "t_sum_total", typ: counter,
			want: map[string]float64{`t_sum_total{src="nums"}`: 38.5}, success: 1, keys: 3, truncated: 0},
		{name: "min", key: `{metric: t_min, pattern: "num:*", aggregate: min}`, metric: "t_min", typ: gauge,
			want: map[string]float64{"t_min": -4}, success: 1, keys: 3, truncated: 0},
		{name: "max", key: `{metric: t_max, pattern: "num:*", aggregate: max}`, metric: "t_max", typ: gauge,
			want: map[string]float64{"t_max": 32.5}, success: 1, keys: 3, truncated: 0},
		{name: "count of a pattern", key: `{metric: t_count, pattern: "session:*", aggregate: count}`, metric: "t_count", typ: gauge,
			want: map[string]float64{"t_count": 6}, success: 1, keys: 6, truncated: 0},
		{name: "count by key_labels group with a static label", key: `{metric: t_tenants, pattern: "session:*", key_labels: ` + tenant + `, aggregate: count, labels: {env: prod}}`,
			metric: "t_tenants", typ: gauge,
			want: map[string]float64{
				`t_tenants{env="prod",tenant="acme"}`:    3,
				`t_tenants{env="prod",tenant="globex"}`:  2,
				`t_tenants{env="prod",tenant="initech"}`: 1,
			}, success: 1, keys: 6, truncated: 0},
		{name: "key_labels without aggregate skips keys it does not match",
			key:    `{metric: t_session_exists, pattern: "session:*", key_labels: '^session:(?P<tenant>acme|globex):(?P<id>\d+)$', measure: exists}`,
			metric: "t_session_exists", typ: gauge,
			want: map[string]float64{
				`t_session_exists{id="1",key="session:acme:1",tenant="acme"}`:     1,
				`t_session_exists{id="2",key="session:acme:2",tenant="acme"}`:     1,
				`t_session_exists{id="3",key="session:acme:3",tenant="acme"}`:     1,
				`t_session_exists{id="1",key="session:globex:1",tenant="globex"}`: 1,
				`t_session_exists{id="2",key="session:globex:2",tenant="globex"}`: 1,
			}, success: 1, keys: 5, truncated: 0},
		{name: "count of a keys list counts the keys that exist", key: `{metric: t_present, keys: ["num:a", "num:b", "nope:1"], aggregate: count}`,
			metric: "t_present", typ: gauge, want: map[string]float64{"t_present": 2}, success: 1, keys: skip, truncated: 0},
		{name: "count of a keys list with measure length counts the keys that exist",
			key:    `{metric: t_present_queues, keys: ["queue:emails", "queue:sms", "queue:nope"], measure: length, aggregate: count}`,
			metric: "t_present_queues", typ: gauge, want: map[string]float64{"t_present_queues": 2}, success: 1, keys: skip, truncated: 0},

		// measure: length
		{name: "length by type", key: `{metric: t_len, keys: ["num:b", "queue:emails", "tags", "board", "stats:cache", "events", "visitors", "nope:1"], measure: length}`,
			metric: "t_len", typ: gauge,
			want: map[string]float64{
				`t_len{key="num:b"}`:        4, // STRLEN "32.5"
				`t_len{key="queue:emails"}`: 3,
				`t_len{key="tags"}`:         4,
				`t_len{key="board"}`:        5,
				`t_len{key="stats:cache"}`:  3,
				`t_len{key="events"}`:       10,
				`t_len{key="visitors"}`:     float64(pfcount), // PFCOUNT, not STRLEN
				`t_len{key="nope:1"}`:       0,
			},
			near:    map[string][2]float64{`t_len{key="visitors"}`: {98, 102}},
			success: 1, keys: 8, truncated: 0},
		{name: "length of a plain string that starts with HYLL", key: `{metric: t_len_hyll_prefix, key: "plain:hyll", measure: length}`,
			metric: "t_len_hyll_prefix", typ: gauge, want: map[string]float64{`t_len_hyll_prefix{key="plain:hyll"}`: 5}, success: 1, keys: 1, truncated: 0},
		{name: "sum of lengths", key: `{metric: t_queued, keys: ["queue:emails", "queue:sms"], measure: length, aggregate: sum}`,
			metric: "t_queued", typ: gauge, want: map[string]float64{"t_queued": 5}, success: 1, keys: 2, truncated: 0},

		// measure: ttl, memory, exists, idle
		{name: "ttl: only keys with an expiry", key: `{metric: t_ttl_seconds, keys: ["session:acme:1", "session:globex:1", "nope:1"], measure: ttl}`,
			metric: "t_ttl_seconds", typ: gauge,
			near:    map[string][2]float64{`t_ttl_seconds{key="session:acme:1"}`: {50, 100}},
			success: 1, keys: skip, truncated: 0},
		{name: "max ttl by tenant", key: `{metric: t_ttl_max_seconds, pattern: "session:*", key_labels: ` + tenant + `, measure: ttl, aggregate: max}`,
			metric: "t_ttl_max_seconds", typ: gauge,
			near: map[string][2]float64{
				`t_ttl_max_seconds{tenant="acme"}`:    {50, 100},
				`t_ttl_max_seconds{tenant="initech"}`: {150, 200},
			}, success: 1, keys: 6, truncated: 0},
		{name: "memory", key: `{metric: t_memory_bytes, keys: ["num:a", "tags", "nope:1"], measure: memory}`,
			metric: "t_memory_bytes", typ: gauge,
			want:    map[string]float64{`t_memory_bytes{key="num:a"}`: memory("num:a"), `t_memory_bytes{key="tags"}`: memory("tags")},
			success: 1, keys: skip, truncated: 0},
		{name: "exists", key: `{metric: t_exists, keys: ["num:a", "nope:1"], measure: exists}`,
			metric: "t_exists", typ: gauge, want: map[string]float64{`t_exists{key="num:a"}`: 1, `t_exists{key="nope:1"}`: 0},
			success: 1, keys: 2, truncated: 0},
		{name: "sum of exists", key: `{metric: t_exists_sum, keys: ["num:a", "num:b", "nope:1"], measure: exists, aggregate: sum}`,
			metric: "t_exists_sum", typ: gauge, want: map[string]float64{"t_exists_sum": 2}, success: 1, keys: 3, truncated: 0},
		{name: "idle", key: `{metric: t_idle_seconds, keys: ["num:a", "nope:1"], measure: idle}`,
			metric: "t_idle_seconds", typ: gauge, near: map[string][2]float64{`t_idle_seconds{key="num:a"}`: {0, 60}},
			success: 1, keys: skip, truncated: 0},

		// measure: stream
		{name: "stream and its consumer groups", key: `{metric: t_events, key: events, measure: stream, labels: {app: shop}}`,
			metric: "t_events", typ: gauge,
			want: map[string]float64{
				`t_events{app="shop",key="events"}`:                                   10,
				`t_events_group_lag{app="shop",group="g1",key="events"}`:              6,
				`t_events_group_lag{app="shop",group="g2",key="events"}`:              10,
				`t_events_group_pending_messages{app="shop",group="g1",key="events"}`: 3,
				`t_events_group_pending_messages{app="shop",group="g2",key="events"}`: 0,
				`t_events_group_consumers{app="shop",group="g1",key="events"}`:        1,
				`t_events_group_consumers{app="shop",group="g2",key="events"}`:        0,
			}, success: 1, keys: 1, truncated: 0},
		{name: "a missing stream has no series", key: `{metric: t_nostream, key: "nope:stream", measure: stream}`,
			metric: "t_nostream", typ: gauge, success: 1, keys: skip, truncated: 0},
		{name: "a stream rule on a set fails", key: `{metric: t_notstream, key: tags, measure: stream}`,
			metric: "t_notstream", typ: gauge, success: 0, keys: skip, truncated: 0},

		// db
		{name: "keys in db 2", key: `{metric: t_db2, keys: ["num:a", "only:db2"], db: 2}`, metric: "t_db2", typ: gauge,
			want: map[string]float64{`t_db2{key="num:a"}`: 222, `t_db2{key="only:db2"}`: 7}, success: 1, keys: 2, truncated: 0},
		{name: "pattern in db 2", key: `{metric: t_db2_count, pattern: "*", db: 2, aggregate: count}`, metric: "t_db2_count", typ: gauge,
			want: map[string]float64{"t_db2_count": 3}, success: 1, keys: 3, truncated: 0},
		{name: "length in db 2", key: `{metric: t_db2_len, key: "queue:db2", db: 2, measure: length}`, metric: "t_db2_len", typ: gauge,
			want: map[string]float64{`t_db2_len{key="queue:db2"}`: 4}, success: 1, keys: 1, truncated: 0},
		{name: "a database that does not exist fails the rule", key: `{metric: t_db99, key: "num:a", db: 99}`, metric: "t_db99", typ: gauge,
			success: 0, keys: skip, truncated: 0},

		// max_keys on a keys list
		{name: "max_keys cuts a keys list", key: `{metric: t_capped, keys: ["num:a", "num:b", "num:c"], max_keys: 2}`, metric: "t_capped", typ: gauge,
			want: map[string]float64{`t_capped{key="num:a"}`: 10, `t_capped{key="num:b"}`: 32.5}, success: 1, keys: 2, truncated: 1},
		{name: "max_keys equal to the keys is no truncation", key: `{metric: t_full, keys: ["num:a", "num:b", "num:c"], max_keys: 3, aggregate: sum}`,
			metric: "t_full", typ: gauge, want: map[string]float64{"t_full": 38.5}, success: 1, keys: 3, truncated: 0},

		// scripts
		{name: "script: a number", script: `{metric: t_jobs_due, script: "return redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[1])", keys: ["jobs:delayed"], args: ["1000"]}`,
			metric: "t_jobs_due", typ: gauge, want: map[string]float64{"t_jobs_due": 3}, success: 1},
		{name: "script: label, number pairs",
			script: `{metric: t_by_queue, script: "local out = {} for _, k in ipairs(KEYS) do out[#out+1] = k; out[#out+1] = redis.call('LLEN', k) end return out", keys: ["queue:emails", "queue:sms"], label: queue, labels: {env: prod}}`,
			metric: "t_by_queue", typ: gauge,
			want:    map[string]float64{`t_by_queue{env="prod",queue="queue:emails"}`: 3, `t_by_queue{env="prod",queue="queue:sms"}`: 2},
			success: 1},
		{name: "script: a number as a string, as a counter", script: `{metric: t_ratio_total, type: counter, script: "return redis.call('HGET', KEYS[1], 'ratio')", keys: ["stats:cache"]}`,
			metric: "t_ratio_total", typ: counter, want: map[string]float64{"t_ratio_total": 0.95}, success: 1},
		{name: "script: no pairs", script: `{metric: t_no_pairs, script: "return {}", label: x}`, metric: "t_no_pairs", typ: gauge, success: 1},
		{name: "script: in db 2", script: `{metric: t_db2_script, script: "return redis.call('GET', KEYS[1])", keys: ["only:db2"], db: 2}`,
			metric: "t_db2_script", typ: gauge, want: map[string]float64{"t_db2_script": 7}, success: 1},
		{name: "script: a database that does not exist fails the rule", script: `{metric: t_db99_script, script: "return redis.call('GET', KEYS[1])", keys: ["num:a"], db: 99}`,
			metric: "t_db99_script", typ: gauge, success: 0},
		{name: "script: a write fails", script: `{metric: t_writes, script: "redis.call('SET', 'written', '1') return 1"}`,
			metric: "t_writes", typ: gauge, success: 0},
		{name: "script: not a number", script: `{metric: t_nan, script: "return 'abc'"}`, metric: "t_nan", typ: gauge, success: 0},
		{name: "script: pairs without label", script: `{metric: t_nolabel, script: "return {'a', 1}"}`, metric: "t_nolabel", typ: gauge, success: 0},
		{name: "script: an odd array", script: `{metric: t_odd, script: "return {'a', 1, 'b'}", label: x}`, metric: "t_odd", typ: gauge, success: 0},
		{name: "script: a number where pairs are due", script: `{metric: t_notpairs, script: "return 1", label: x}`, metric: "t_notpairs", typ: gauge, success: 0},
		{name: "script: a Redis error", script: `{metric: t_script_err, script: "return redis.call('LLEN', KEYS[1])", keys: ["num:a"]}`,
			metric: "t_script_err", typ: gauge, success: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var keys, scripts []string
			if tc.key != "" {
				keys = []string{tc.key}
			} else {
				scripts = []string{tc.script}
			}
			got, types, ok := runRules(t, s.Addr(), mustModule(t, ruleModule("5s", keys, scripts)), conn.Auth{})
			if !ok {
				t.Fatal("probe failed")
			}
			checkRuleCase(t, tc, got, types)
		})
	}
	if n, err := c.Exists(ctx, "written").Result(); err != nil || n != 0 {
		t.Errorf("a script rule wrote a key: EXISTS written = %d, %v", n, err)
	}
}

// The worked example, as one module.
const workedExample = `    keys:
      - metric: app_active_sessions
        pattern: "session:*"
        aggregate: count
      - metric: app_sessions_by_tenant
        pattern: "session:*"
        key_labels: '^session:(?P<tenant>[^:]+):'
        aggregate: count
      - metric: app_queue_length
        keys: ["queue:emails", "queue:sms"]
        measure: length
      - metric: app_cache_hits_total
        type: counter
        key: stats:cache
        field: hits
        measure: value
        labels: {cache: main}
    scripts:
      - metric: app_jobs_due
        script: "return redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[1])"
        keys: ["jobs:delayed"]
        args: ["1000"]
`

func TestKeyRulesWorkedExample(t *testing.T) {
	s := redistest.StartRedis(t)
	seedKeys(t, s)
	got, types, ok := runRules(t, s.Addr(), mustModule(t, "    timeout: 5s\n"+workedExample), conn.Auth{})
	if !ok {
		t.Fatal("probe failed")
	}
	gauge, counter := dto.MetricType_GAUGE, dto.MetricType_COUNTER
	for _, c := range []ruleCase{
		{metric: "app_active_sessions", typ: gauge, want: map[string]float64{"app_active_sessions": 6}, success: 1, keys: 6, truncated: 0},
		{metric: "app_sessions_by_tenant", typ: gauge, want: map[string]float64{
			`app_sessions_by_tenant{tenant="acme"}`:    3,
			`app_sessions_by_tenant{tenant="globex"}`:  2,
			`app_sessions_by_tenant{tenant="initech"}`: 1,
		}, success: 1, keys: 6, truncated: 0},
		{metric: "app_queue_length", typ: gauge, want: map[string]float64{
			`app_queue_length{key="queue:emails"}`: 3,
			`app_queue_length{key="queue:sms"}`:    2,
		}, success: 1, keys: 2, truncated: 0},
		{metric: "app_cache_hits_total", typ: counter, want: map[string]float64{`app_cache_hits_total{cache="main",key="stats:cache"}`: 1234},
			success: 1, keys: 1, truncated: 0},
		{script: "x", metric: "app_jobs_due", typ: gauge, want: map[string]float64{"app_jobs_due": 3}, success: 1},
	} {
		t.Run(c.metric, func(t *testing.T) { checkRuleCase(t, c, got, types) })
	}
}

// A rule that fails leaves the other rules standing, and no reply was
// refused. (That it leaves the collectors and probe_success standing is
// prober's TestKeyRuleFailureIsIsolated.)
func TestKeyRuleFailureIsIsolated(t *testing.T) {
	s := redistest.StartRedis(t)
	seedKeys(t, s)
	m := mustModule(t, ruleModule("5s", []string{
		`{metric: t_before, key: "num:a"}`,
		`{metric: t_bad, keys: ["num:a", "text:bad", "num:b"]}`,
		`{metric: t_after, pattern: "num:*", aggregate: sum}`,
		`{metric: t_wrongtype, key: tags, measure: value}`,
	}, []string{
		`{metric: t_writes, script: "redis.call('SET', 'written', '1') return 1"}`,
		`{metric: t_script_after, script: "return 42"}`,
	}))
	got, _, ok := runRules(t, s.Addr(), m, conn.Auth{})
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{
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
	for k := range got {
		if name := seriesName(k); name == "t_bad" || name == "t_wrongtype" || name == "t_writes" {
			t.Errorf("a failed rule emitted %s", k)
		}
	}
}

// max_keys stops a pattern rule: the keys measured are the cap, and the rule
// says it was cut.
func TestKeyRuleMaxKeys(t *testing.T) {
	s := redistest.StartRedis(t)
	c := s.Client(t)
	ctx := context.Background()
	for i := range 50 {
		if err := c.Set(ctx, fmt.Sprintf("many:%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	m := mustModule(t, ruleModule("5s", []string{
		`{metric: t_many, pattern: "many:*", aggregate: count, max_keys: 10}`,
		`{metric: t_many_each, pattern: "many:*", max_keys: 10}`,
		`{metric: t_many_all, pattern: "many:*", aggregate: count, max_keys: 50}`,
		`{metric: t_many_default, pattern: "many:*", aggregate: sum}`,
	}, nil))
	got, _, ok := runRules(t, s.Addr(), m, conn.Auth{})
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{
		"t_many":                                       10,
		`redis_key_rule_success{rule="t_many"}`:        1,
		`redis_key_rule_keys{rule="t_many"}`:           10,
		`redis_key_rule_truncated{rule="t_many"}`:      1,
		`redis_key_rule_keys{rule="t_many_each"}`:      10,
		`redis_key_rule_truncated{rule="t_many_each"}`: 1,
		"t_many_all":                                      50,
		`redis_key_rule_keys{rule="t_many_all"}`:          50,
		`redis_key_rule_truncated{rule="t_many_all"}`:     0,
		"t_many_default":                                  49 * 50 / 2,
		`redis_key_rule_keys{rule="t_many_default"}`:      50,
		`redis_key_rule_truncated{rule="t_many_default"}`: 0,
	})
	each := 0
	for k, v := range got {
		if seriesName(k) == "t_many_each" {
			each++
			var i int
			if _, err := fmt.Sscanf(k, `t_many_each{key="many:%d"}`, &i); err != nil || float64(i) != v.Value {
				t.Errorf("%s = %v", k, v.Value)
			}
		}
	}
	if each != 10 {
		t.Errorf("t_many_each has %d series, want 10", each)
	}
}

// A pattern whose few keys hide in a big keyspace is walked to the end.
func TestKeyRuleSparsePattern(t *testing.T) {
	s := redistest.StartRedis(t, "--enable-debug-command", "yes")
	c := s.Client(t)
	ctx := context.Background()
	if err := c.Do(ctx, "DEBUG", "POPULATE", 100000).Err(); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := c.Set(ctx, fmt.Sprintf("sparse:%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	m := mustModule(t, ruleModule("10s", []string{
		`{metric: t_sparse, pattern: "sparse:*", aggregate: count, scan_count: 1000}`,
		`{metric: t_sparse_sum, pattern: "sparse:*", aggregate: sum, scan_count: 1000}`,
	}, nil))
	got, _, ok := runRules(t, s.Addr(), m, conn.Auth{})
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{
		"t_sparse": 5,
		`redis_key_rule_success{rule="t_sparse"}`:   1,
		`redis_key_rule_keys{rule="t_sparse"}`:      5,
		`redis_key_rule_truncated{rule="t_sparse"}`: 0,
		"t_sparse_sum": 10,
		`redis_key_rule_keys{rule="t_sparse_sum"}`:      5,
		`redis_key_rule_truncated{rule="t_sparse_sum"}`: 0,
	})
}

// No round trip starts past the deadline: a key rule it cuts reports
// itself truncated and successful with what it measured before (nothing
// here), a script rule fails, and nothing counts as refused. (A SCAN cut
// mid-walk by a probe's own deadline is prober's TestKeyRuleDeadline.)
func TestKeyRuleDeadlinePassed(t *testing.T) {
	s := redistest.StartRedis(t)
	seedKeys(t, s)
	m := mustModule(t, ruleModule("5s", []string{
		`{metric: t_late_count, pattern: "num:*", aggregate: count}`,
		`{metric: t_late_value, keys: ["num:a"]}`,
	}, []string{
		`{metric: t_late_script, script: "return 1"}`,
	}))
	e := exposition.NewEmitter(keepStatus())
	broken := testStatus.Compile(m.Keys, m.Scripts).Run(context.Background(), poolClient(t, s.Addr(), conn.Auth{}), Options{Deadline: time.Now().Add(-time.Millisecond)}, e, log.NewNopLogger())
	if broken != nil {
		t.Fatalf("refused: %v", broken)
	}
	var b strings.Builder
	if _, err := e.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	got := samples(t, strings.NewReader(b.String()))
	expect(t, got, map[string]float64{
		`redis_key_rule_success{rule="t_late_count"}`:   1,
		`redis_key_rule_truncated{rule="t_late_count"}`: 1,
		`redis_key_rule_keys{rule="t_late_count"}`:      0,
		"t_late_count": 0, // what it counted before the deadline; truncated says it is partial
		`redis_key_rule_success{rule="t_late_value"}`:   1,
		`redis_key_rule_truncated{rule="t_late_value"}`: 1,
		`redis_key_rule_success{rule="t_late_script"}`:  0,
	})
	for k := range got {
		if name := seriesName(k); name == "t_late_value" || name == "t_late_script" {
			t.Errorf("a rule cut before its round trip emitted %s", k)
		}
	}
}

// A rule on another database leaves the pooled connection in the target's
// database: the next probe on the same pool sees db 0.
func TestKeyRuleDBRestoresPooledConnection(t *testing.T) {
	s := redistest.StartRedis(t)
	c := seedKeys(t, s)
	ctx := context.Background()
	tg, err := target.Parse("redis://" + s.Addr() + "/0")
	if err != nil {
		t.Fatal(err)
	}
	pool := conn.NewPool(4, time.Minute, time.Hour)
	defer pool.Close()
	client, release := pool.Get(tg, "test", conn.Auth{}, conn.Limits{}, 1)
	defer release()

	other := mustModule(t, ruleModule("5s", []string{
		`{metric: t_db2_value, key: "num:a", db: 2}`,
		`{metric: t_db2_len, key: "queue:db2", db: 2, measure: length}`,
		`{metric: t_db2_bad, key: "queue:db2", db: 2}`, // fails: the way back must not depend on success
	}, []string{
		`{metric: t_db2_script, script: "return redis.call('GET', KEYS[1])", keys: ["only:db2"], db: 2}`,
	}))
	home := mustModule(t, ruleModule("5s", []string{
		`{metric: t_db0_value, key: "num:a"}`,
		`{metric: t_db0_count, pattern: "num:*", aggregate: count}`,
		`{metric: t_db0_only, key: "only:db2", measure: exists}`,
	}, []string{
		`{metric: t_db0_script, script: "return redis.call('GET', KEYS[1])", keys: ["num:a"]}`,
	}))
	for round := range 3 {
		got, _, ok := runClient(t, client, other)
		if !ok {
			t.Fatalf("round %d: probe failed", round)
		}
		expect(t, got, map[string]float64{
			`t_db2_value{key="num:a"}`:                   222,
			`t_db2_len{key="queue:db2"}`:                 4,
			"t_db2_script":                               7,
			`redis_key_rule_success{rule="t_db2_bad"}`:   0,
			`redis_key_rule_success{rule="t_db2_value"}`: 1,
		})
		got, _, ok = runClient(t, client, home)
		if !ok {
			t.Fatalf("round %d: probe failed", round)
		}
		expect(t, got, map[string]float64{
			`t_db0_value{key="num:a"}`:                10,
			"t_db0_count":                             3,
			`t_db0_only{key="only:db2"}`:              0,
			"t_db0_script":                            10,
			`redis_key_rule_keys{rule="t_db0_count"}`: 3,
		})
	}
	// Every connection the pool holds is back in db 0.
	self, err := c.ClientID(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	others := 0
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		if strings.Contains(line, fmt.Sprintf("id=%d ", self)) {
			continue
		}
		others++
		if !strings.Contains(line, " db=0 ") {
			t.Errorf("a pooled connection left in another database: %s", line)
		}
	}
	if others == 0 {
		t.Error("the pool holds no connection to check")
	}
}

// fullModule has a rule of every kind; all of them succeed on the seeded
// dataset.
var fullModule = ruleModule("5s", []string{
	`{metric: f_value, keys: ["num:a", "num:b", "num:c"]}`,
	`{metric: f_hits_total, type: counter, key: "stats:cache", field: hits, labels: {cache: main}}`,
	`{metric: f_num_added, pattern: "num:*", aggregate: sum}`,
	`{metric: f_min, pattern: "num:*", aggregate: min}`,
	`{metric: f_max, pattern: "num:*", aggregate: max}`,
	`{metric: f_sessions, pattern: "session:*", aggregate: count}`,
	`{metric: f_sessions_by_tenant, pattern: "session:*", key_labels: '^session:(?P<tenant>[^:]+):', aggregate: count, labels: {env: prod}}`,
	`{metric: f_present, keys: ["num:a", "nope:1"], aggregate: count}`,
	`{metric: f_length, keys: ["num:b", "queue:emails", "tags", "board", "stats:cache", "events", "visitors", "nope:1"], measure: length}`,
	`{metric: f_ttl_seconds, pattern: "session:*", measure: ttl}`,
	`{metric: f_memory_bytes, keys: ["num:a", "tags", "visitors", "events"], measure: memory}`,
	`{metric: f_exists, keys: ["num:a", "nope:1"], measure: exists}`,
	`{metric: f_idle_seconds, keys: ["num:a", "tags"], measure: idle}`,
	`{metric: f_events, key: events, measure: stream}`,
	`{metric: f_db2, key: "num:a", db: 2}`,
	`{metric: f_db2_length, pattern: "queue:*", db: 2, measure: length, aggregate: sum}`,
}, []string{
	`{metric: f_jobs_due, script: "return redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[1])", keys: ["jobs:delayed"], args: ["1000"]}`,
	`{metric: f_queue, script: "local out = {} for _, k in ipairs(KEYS) do out[#out+1] = k; out[#out+1] = redis.call('LLEN', k) end return out", keys: ["queue:emails", "queue:sms"], label: queue}`,
	`{metric: f_ratio, script: "return redis.call('HGET', KEYS[1], 'ratio')", keys: ["stats:cache"]}`,
	`{metric: f_db2_script, script: "return redis.call('GET', KEYS[1])", keys: ["only:db2"], db: 2}`,
})

var fullModuleRules = []string{
	"f_value", "f_hits_total", "f_num_added", "f_min", "f_max", "f_sessions", "f_sessions_by_tenant", "f_present",
	"f_length", "f_ttl_seconds", "f_memory_bytes", "f_exists", "f_idle_seconds", "f_events", "f_db2", "f_db2_length",
	"f_jobs_due", "f_queue", "f_ratio", "f_db2_script",
}

// readOnly authenticates as the user TestKeyRulesReadOnlyUser makes.
var readOnly = conn.Auth{Credentials: func() (string, string, error) { return "ro", "pw", nil }}

// Nothing a rule sends writes: the whole module succeeds as a user that may
// not write, no command is refused, and the dataset is unchanged.
func TestKeyRulesReadOnlyUser(t *testing.T) {
	s := redistest.StartRedis(t, "--enable-debug-command", "yes")
	c := seedKeys(t, s)
	ctx := context.Background()
	if err := c.Do(ctx, "ACL", "SETUSER", "ro", "on", ">pw", "+@all", "-@write", "~*").Err(); err != nil {
		t.Fatal(err)
	}
	ro := redis.NewClient(&redis.Options{Addr: s.Addr(), Username: "ro", Password: "pw", Protocol: 2, DisableIdentity: true})
	defer ro.Close()
	if err := ro.Set(ctx, "written", "1", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Fatalf("the read-only user may write: SET = %v", err)
	}
	digest := func() string {
		d, err := c.Do(ctx, "DEBUG", "DIGEST").Text()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	before := digest()
	if err := c.Do(ctx, "ACL", "LOG", "RESET").Err(); err != nil {
		t.Fatal(err)
	}
	for round := range 2 { // the second round runs the scripts by EVALSHA_RO
		got, _, ok := runRules(t, s.Addr(), mustModule(t, fullModule), readOnly)
		if !ok {
			t.Fatalf("round %d: probe as the read-only user failed", round)
		}
		want := map[string]float64{}
		for _, r := range fullModuleRules {
			want[fmt.Sprintf(`redis_key_rule_success{rule=%q}`, r)] = 1
		}
		expect(t, got, want)
		expect(t, got, map[string]float64{
			`f_value{key="num:b"}`:       32.5,
			"f_sessions":                 6,
			`f_length{key="events"}`:     10,
			"f_db2_length":               4,
			"f_db2_script":               7,
			`f_queue{queue="queue:sms"}`: 2,
		})
	}
	if after := digest(); after != before {
		t.Errorf("the dataset changed under the rules: digest %s, was %s", after, before)
	}
	refused, err := c.Do(ctx, "ACL", "LOG").Slice()
	if err != nil {
		t.Fatal(err)
	}
	if len(refused) != 0 {
		t.Errorf("the read-only user was refused %d times: %v", len(refused), refused)
	}
}

// A script runs by EVAL_RO once; after that Redis has it and EVALSHA_RO
// serves it.
func TestScriptRuleEvalshaAfterFirstProbe(t *testing.T) {
	s := redistest.StartRedis(t)
	c := seedKeys(t, s)
	ctx := context.Background()
	m := mustModule(t, ruleModule("5s", nil, []string{
		`{metric: t_jobs_due, script: "return redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[1])", keys: ["jobs:delayed"], args: ["1000"]}`,
	}))
	sha := m.Scripts[0].SHA1()
	if err := c.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		got, _, ok := runRules(t, s.Addr(), m, conn.Auth{})
		if !ok {
			t.Fatal("probe failed")
		}
		expect(t, got, map[string]float64{"t_jobs_due": 3, `redis_key_rule_success{rule="t_jobs_due"}`: 1})
		if round == 0 {
			if have, err := c.ScriptExists(ctx, sha).Result(); err != nil || !have[0] {
				t.Errorf("after the first probe, SCRIPT EXISTS %s = %v, %v", sha, have, err)
			}
		}
	}
	if got := redistest.Calls(t, c, "eval_ro"); got != 1 {
		t.Errorf("EVAL_RO calls=%d, want calls=1", got)
	}
	if got := redistest.Calls(t, c, "evalsha_ro"); got != 3 {
		t.Errorf("EVALSHA_RO calls=%d, want calls=3", got)
	}
	if got := redistest.Calls(t, c, "eval"); got != 0 {
		t.Errorf("EVAL calls=%d: scripts must run read-only", got)
	}
}

// A failed stream rule emits no series, not even the consumer groups of the
// streams measured before the key that failed it.
func TestKeyRuleFailedStreamRuleEmitsNothing(t *testing.T) {
	s := redistest.StartRedis(t)
	c := s.Client(t)
	ctx := context.Background()
	for i := range 6 { // 7 keys with the string below: the table keeps 8 buckets
		k := fmt.Sprintf("st:%d", i)
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: k, Values: []any{"n", 1}}).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.XGroupCreate(ctx, k, "g", "0").Err(); err != nil {
			t.Fatal(err)
		}
	}
	// A string among the streams, named so that SCAN COUNT 1 returns
	// streams in an earlier batch than the string: the rule measures some
	// streams and then fails.
	str := ""
	for i := 0; i < 50 && str == ""; i++ {
		k := fmt.Sprintf("st:x%d", i)
		if err := c.Set(ctx, k, "not a stream", 0).Err(); err != nil {
			t.Fatal(err)
		}
		var keys []string
		var cursor uint64
		for {
			var err error
			keys, cursor, err = c.Scan(ctx, cursor, "st:*", 1).Result()
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) > 0 || cursor == 0 {
				break
			}
		}
		if len(keys) > 0 && !slices.Contains(keys, k) {
			str = k
		} else if err := c.Del(ctx, k).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if str == "" {
		t.Fatal("found no key name that SCAN returns after a stream")
	}
	m := mustModule(t, ruleModule("5s", []string{`{metric: t_st, pattern: "st:*", measure: stream, scan_count: 1}`}, nil))
	got, _, ok := runRules(t, s.Addr(), m, conn.Auth{})
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{`redis_key_rule_success{rule="t_st"}`: 0})
	for k := range got {
		if strings.HasPrefix(k, "t_st") {
			t.Errorf("the failed stream rule emitted %s", k)
		}
	}
}

// The exposition of a module of every rule passes promtool, and each rule
// family has its help and type once.
func TestKeyRulesPromtool(t *testing.T) {
	s := redistest.StartRedis(t)
	seedKeys(t, s)
	text, ok := expose(t, poolClient(t, s.Addr(), conn.Auth{}), mustModule(t, fullModule))
	if !ok {
		t.Fatal("a reply was refused")
	}
	promtoolCheck(t, text)
	for _, r := range fullModuleRules {
		if !strings.Contains(text, fmt.Sprintf("redis_key_rule_success{rule=%q} 1\n", r)) {
			t.Errorf("rule %s did not succeed", r)
		}
	}
	for name, typ := range map[string]string{
		"f_value": "gauge", "f_hits_total": "counter", "f_events": "gauge", "f_events_group_lag": "gauge",
		"f_events_group_pending_messages": "gauge", "f_events_group_consumers": "gauge", "f_jobs_due": "gauge", "f_queue": "gauge",
	} {
		if n := strings.Count(text, "# TYPE "+name+" "+typ+"\n"); n != 1 {
			t.Errorf("# TYPE %s %s appears %d times", name, typ, n)
		}
		if n := strings.Count(text, "# HELP "+name+" "); n != 1 {
			t.Errorf("# HELP %s appears %d times", name, n)
		}
	}
}

// A SCAN walk is bounded whatever the keyspace: a key name over 1 KiB is
// skipped, and the walk stops after 10·max_keys keys, both marking the
// rule truncated.
func TestKeyRuleScanBounds(t *testing.T) {
	s := redistest.StartRedis(t)
	c := s.Client(t)
	ctx := context.Background()
	for i := range 200 {
		if err := c.Set(ctx, fmt.Sprintf("walk:%03d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	long := "long:" + strings.Repeat("k", maxKeyBytes)
	for _, k := range []string{long, "long:short"} {
		if err := c.Set(ctx, k, 1, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	m := mustModule(t, ruleModule("5s", []string{
		// key_labels keeps one key in 200: max_keys is never reached.
		`{metric: t_walk, pattern: "walk:*", key_labels: 'walk:(?P<n>000)', aggregate: count, max_keys: 5, scan_count: 10}`,
		`{metric: t_long, pattern: "long:*", aggregate: count}`,
	}, nil))
	got, _, ok := runRules(t, s.Addr(), m, conn.Auth{})
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{
		`redis_key_rule_success{rule="t_walk"}`:   1,
		`redis_key_rule_truncated{rule="t_walk"}`: 1,
		`redis_key_rule_success{rule="t_long"}`:   1,
		`redis_key_rule_keys{rule="t_long"}`:      1,
		`redis_key_rule_truncated{rule="t_long"}`: 1,
		"t_long": 1,
	})
	if n := got[`redis_key_rule_keys{rule="t_walk"}`].Value; n > 1 {
		t.Errorf("t_walk measured %v keys, want at most the one key_labels keeps", n)
	}
}
