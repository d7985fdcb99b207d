package rules

import (
	"context"
	"fmt"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/redis-probe/redis_probe_exporter/internal/conn"
	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// seedLengths makes a list of each given length, named by the key.
func seedLengths(t *testing.T, s *redistest.Server, lengths map[string]int) {
	t.Helper()
	c := s.Client(t)
	ctx := context.Background()
	for k, n := range lengths {
		args := []any{"RPUSH", k}
		for i := range n {
			args = append(args, i)
		}
		if err := c.Do(ctx, args...).Err(); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
}

// aggregate: topk gives the k keys of the largest measure, labelled key,
// ties going by key name; nothing beyond k.
func TestKeyRuleTopK(t *testing.T) {
	s := redistest.StartRedis(t)
	seedKeys(t, s) // queue:emails 3, queue:sms 2, num:*, stats:cache …
	// len:b and len:d tie at 3; len:g and len:h tie at 7 with len:f.
	seedLengths(t, s, map[string]int{"len:a": 5, "len:b": 3, "len:c": 9, "len:d": 3, "len:e": 1, "len:f": 7, "len:g": 7, "len:h": 7})
	gauge := dto.MetricType_GAUGE
	cases := []ruleCase{
		{name: "the 3 longest of a pattern", key: `{metric: t_top3, pattern: "len:*", measure: length, aggregate: topk, k: 3}`,
			metric: "t_top3", typ: gauge,
			want:    map[string]float64{`t_top3{key="len:c"}`: 9, `t_top3{key="len:f"}`: 7, `t_top3{key="len:g"}`: 7},
			success: 1, keys: 8, truncated: 0},
		{name: "a tie at the k-th place goes by key name", key: `{metric: t_top6, pattern: "len:*", measure: length, aggregate: topk, k: 6}`,
			metric: "t_top6", typ: gauge,
			want: map[string]float64{
				`t_top6{key="len:c"}`: 9, `t_top6{key="len:f"}`: 7, `t_top6{key="len:g"}`: 7, `t_top6{key="len:h"}`: 7,
				`t_top6{key="len:a"}`: 5, `t_top6{key="len:b"}`: 3,
			},
			success: 1, keys: 8, truncated: 0},
		{name: "k beyond the keys gives every key", key: `{metric: t_top_all, pattern: "len:*", measure: length, aggregate: topk, k: 100}`,
			metric: "t_top_all", typ: gauge,
			want: map[string]float64{
				`t_top_all{key="len:a"}`: 5, `t_top_all{key="len:b"}`: 3, `t_top_all{key="len:c"}`: 9, `t_top_all{key="len:d"}`: 3,
				`t_top_all{key="len:e"}`: 1, `t_top_all{key="len:f"}`: 7, `t_top_all{key="len:g"}`: 7, `t_top_all{key="len:h"}`: 7,
			},
			success: 1, keys: 8, truncated: 0},
		{name: "k 1 over a small scan_count", key: `{metric: t_top1, pattern: "len:*", measure: length, aggregate: topk, k: 1, scan_count: 1}`,
			metric: "t_top1", typ: gauge, want: map[string]float64{`t_top1{key="len:c"}`: 9},
			success: 1, keys: 8, truncated: 0},
		{name: "listed keys, a missing one counting 0", key: `{metric: t_top_listed, keys: ["queue:sms", "nope:1", "queue:emails", "len:e"], measure: length, aggregate: topk, k: 3}`,
			metric: "t_top_listed", typ: gauge,
			want:    map[string]float64{`t_top_listed{key="queue:emails"}`: 3, `t_top_listed{key="queue:sms"}`: 2, `t_top_listed{key="len:e"}`: 1},
			success: 1, keys: 4, truncated: 0},
		{name: "missing omit keeps a missing key out", key: `{metric: t_top_omit, keys: ["nope:1", "nope:2", "len:e"], measure: length, aggregate: topk, k: 2, missing: omit}`,
			metric: "t_top_omit", typ: gauge, want: map[string]float64{`t_top_omit{key="len:e"}`: 1},
			success: 1, keys: 3, truncated: 0},
		{name: "values, negative ones included", key: `{metric: t_top_value, pattern: "num:*", aggregate: topk, k: 2, labels: {src: nums}}`,
			metric: "t_top_value", typ: gauge,
			want:    map[string]float64{`t_top_value{key="num:b",src="nums"}`: 32.5, `t_top_value{key="num:a",src="nums"}`: 10},
			success: 1, keys: 3, truncated: 0},
		{name: "key_labels label each key; the top is over all keys", key: `{metric: t_top_labelled, pattern: "len:*", key_labels: '^len:(?P<letter>[a-f])$', measure: length, aggregate: topk, k: 2}`,
			metric: "t_top_labelled", typ: gauge,
			want:    map[string]float64{`t_top_labelled{key="len:c",letter="c"}`: 9, `t_top_labelled{key="len:f",letter="f"}`: 7},
			success: 1, keys: 6, truncated: 0},
		{name: "max_keys bounds the keys ranked", key: `{metric: t_top_capped, keys: ["len:e", "len:b", "len:c"], measure: length, aggregate: topk, k: 1, max_keys: 2}`,
			metric: "t_top_capped", typ: gauge, want: map[string]float64{`t_top_capped{key="len:b"}`: 3},
			success: 1, keys: 2, truncated: 1},
		{name: "topk over no key gives no series", key: `{metric: t_top_none, pattern: "nothing:*", measure: length, aggregate: topk, k: 3}`,
			metric: "t_top_none", typ: gauge, success: 1, keys: 0, truncated: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, types, ok := runRules(t, s.Addr(), mustModule(t, ruleModule("5s", []string{tc.key}, nil)), conn.Auth{})
			if !ok {
				t.Fatal("probe failed")
			}
			checkRuleCase(t, tc, got, types)
		})
	}
}

// The largest keys by memory (redis_exporter #454): exactly the k keys
// MEMORY USAGE ranks first, with its values.
func TestKeyRuleTopKMemory(t *testing.T) {
	s := redistest.StartRedis(t)
	c := s.Client(t)
	ctx := context.Background()
	sizes := map[string]int{"blob:tiny": 10, "blob:small": 1000, "blob:big": 50000, "blob:huge": 200000, "blob:mid": 20000}
	for k, n := range sizes {
		if err := c.Set(ctx, k, strings.Repeat("x", n), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	usage := func(k string) float64 {
		n, err := c.MemoryUsage(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		return float64(n)
	}
	m := mustModule(t, ruleModule("5s", []string{`{metric: t_biggest_bytes, pattern: "blob:*", measure: memory, aggregate: topk, k: 2}`}, nil))
	got, types, ok := runRules(t, s.Addr(), m, conn.Auth{})
	if !ok {
		t.Fatal("probe failed")
	}
	checkRuleCase(t, ruleCase{
		metric: "t_biggest_bytes", key: "{}", typ: dto.MetricType_GAUGE,
		want:    map[string]float64{`t_biggest_bytes{key="blob:huge"}`: usage("blob:huge"), `t_biggest_bytes{key="blob:big"}`: usage("blob:big")},
		success: 1, keys: 5, truncated: 0,
	}, got, types)
	if usage("blob:big") <= usage("blob:mid") {
		t.Fatalf("MEMORY USAGE blob:big %v is not above blob:mid's %v", usage("blob:big"), usage("blob:mid"))
	}
}

// Over many keys in many SCAN batches, topk keeps only a bounded set
// between batches and still gives exactly the k largest, ties by name.
func TestKeyRuleTopKManyBatches(t *testing.T) {
	s := redistest.StartRedis(t)
	lengths := map[string]int{}
	for i := range 120 {
		lengths[fmt.Sprintf("many:%03d", i)] = i%40 + 1 // 40 lengths, each on 3 keys
	}
	seedLengths(t, s, lengths)
	m := mustModule(t, ruleModule("10s", []string{
		`{metric: t_many, pattern: "many:*", measure: length, aggregate: topk, k: 5, scan_count: 7}`,
		`{metric: t_many_k1, pattern: "many:*", measure: length, aggregate: topk, k: 1, scan_count: 3}`,
	}, nil))
	for round := range 2 { // the same keys give the same series
		got, _, ok := runRules(t, s.Addr(), m, conn.Auth{})
		if !ok {
			t.Fatal("probe failed")
		}
		// Length 40: many:039, many:079, many:119; 39: many:038, many:078.
		want := map[string]float64{
			`t_many{key="many:039"}`: 40, `t_many{key="many:079"}`: 40, `t_many{key="many:119"}`: 40,
			`t_many{key="many:038"}`: 39, `t_many{key="many:078"}`: 39,
			`t_many_k1{key="many:039"}`:             40,
			`redis_key_rule_keys{rule="t_many"}`:    120,
			`redis_key_rule_keys{rule="t_many_k1"}`: 120,
		}
		expect(t, got, want)
		for k := range got {
			if strings.HasPrefix(k, "t_many") {
				if _, ok := want[k]; !ok {
					t.Errorf("round %d: unexpected series %s", round, k)
				}
			}
		}
	}
}
