package rules

import (
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/redis-probe/redis_probe_exporter/internal/conn"
	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// missingCase is one rule run with missing: zero and with missing: omit;
// each must give exactly its series, and the rule's status families stay.
type missingCase struct {
	name      string
	rule      string // a YAML flow mapping's fields, without metric and missing
	keys      float64
	zero      map[string]float64
	omit      map[string]float64
	zeroNear  map[string][2]float64
	omitNear  map[string][2]float64
	truncated float64
}

func TestKeyRuleMissing(t *testing.T) {
	s := redistest.StartRedis(t)
	seedKeys(t, s)
	cases := []missingCase{
		// listed keys
		{name: "length of a missing listed key", rule: `keys: ["queue:emails", "nope:1"], measure: length`, keys: 2,
			zero: map[string]float64{`t_m{key="queue:emails"}`: 3, `t_m{key="nope:1"}`: 0},
			omit: map[string]float64{`t_m{key="queue:emails"}`: 3}},
		{name: "length of a single missing key", rule: `key: "nope:1", measure: length, labels: {app: shop}`, keys: 1,
			zero: map[string]float64{`t_m{app="shop",key="nope:1"}`: 0},
			omit: map[string]float64{}},
		{name: "value of a missing listed key", rule: `keys: ["num:a", "nope:1"]`, keys: 2,
			zero: map[string]float64{`t_m{key="num:a"}`: 10},
			omit: map[string]float64{`t_m{key="num:a"}`: 10}},
		{name: "ttl of a missing listed key", rule: `keys: ["session:acme:1", "nope:1"], measure: ttl`, keys: 2,
			zeroNear: map[string][2]float64{`t_m{key="session:acme:1"}`: {50, 100}},
			omitNear: map[string][2]float64{`t_m{key="session:acme:1"}`: {50, 100}}},
		{name: "a missing stream", rule: `key: "nope:stream", measure: stream`, keys: 1,
			zero: map[string]float64{}, omit: map[string]float64{}},

		// aggregates
		{name: "count of a pattern matching nothing", rule: `pattern: "nope:*", aggregate: count`, keys: 0,
			zero: map[string]float64{"t_m": 0}, omit: map[string]float64{}},
		{name: "sum of a pattern matching nothing, with a static label", rule: `pattern: "nope:*", aggregate: sum, labels: {src: x}`, keys: 0,
			zero: map[string]float64{`t_m{src="x"}`: 0}, omit: map[string]float64{}},
		{name: "count of a pattern matching keys", rule: `pattern: "num:*", aggregate: count`, keys: 3,
			zero: map[string]float64{"t_m": 3}, omit: map[string]float64{"t_m": 3}},
		{name: "count of listed keys of which none exists", rule: `keys: ["nope:1", "nope:2"], aggregate: count`, keys: 2,
			zero: map[string]float64{"t_m": 0}, omit: map[string]float64{}},
		{name: "count of listed keys of which one exists", rule: `keys: ["num:a", "nope:2"], aggregate: count`, keys: 2,
			zero: map[string]float64{"t_m": 1}, omit: map[string]float64{"t_m": 1}},
		{name: "sum of values of missing listed keys", rule: `keys: ["nope:1", "nope:2"], aggregate: sum`, keys: 2,
			zero: map[string]float64{"t_m": 0}, omit: map[string]float64{}},
		{name: "sum of lengths of missing listed keys", rule: `keys: ["nope:1", "nope:2"], measure: length, aggregate: sum`, keys: 2,
			zero: map[string]float64{"t_m": 0}, omit: map[string]float64{}},
		{name: "min of lengths leaves a missing key out", rule: `keys: ["queue:sms", "nope:1"], measure: length, aggregate: min`, keys: 2,
			zero: map[string]float64{"t_m": 0}, omit: map[string]float64{"t_m": 2}},
		{name: "max of values over missing listed keys", rule: `keys: ["nope:1"], aggregate: max`, keys: 1,
			zero: map[string]float64{}, omit: map[string]float64{}},
		{name: "count by key_labels over nothing", rule: `pattern: "nope:*", key_labels: '^nope:(?P<id>.*)$', aggregate: count`, keys: 0,
			zero: map[string]float64{}, omit: map[string]float64{}},
		{name: "max_keys still truncates", rule: `keys: ["nope:1", "queue:sms", "queue:emails"], measure: length, max_keys: 2`, keys: 2, truncated: 1,
			zero: map[string]float64{`t_m{key="nope:1"}`: 0, `t_m{key="queue:sms"}`: 2},
			omit: map[string]float64{`t_m{key="queue:sms"}`: 2}},
	}
	for _, tc := range cases {
		for _, missing := range []string{"", "zero", "omit"} {
			name := tc.name + "/missing " + missing
			if missing == "" {
				name = tc.name + "/default"
			}
			t.Run(name, func(t *testing.T) {
				rule := `{metric: t_m, ` + tc.rule
				if missing != "" {
					rule += `, missing: ` + missing
				}
				rule += `}`
				c := ruleCase{key: rule, metric: "t_m", typ: dto.MetricType_GAUGE,
					want: tc.zero, near: tc.zeroNear, success: 1, keys: tc.keys, truncated: tc.truncated}
				if missing == "omit" {
					c.want, c.near = tc.omit, tc.omitNear
				}
				m := mustModule(t, ruleModule("5s", []string{rule}, nil))
				if want := map[string]string{"": "zero"}[missing]; want != "" && m.Keys[0].Missing != want {
					t.Errorf("missing defaults to %q, want %q", m.Keys[0].Missing, want)
				}
				got, types, ok := runRules(t, s.Addr(), m, conn.Auth{})
				if !ok {
					t.Fatal("probe failed")
				}
				checkRuleCase(t, c, got, types) // exactly the series wanted, and the status families
			})
		}
	}
}

// A failed rule with missing: omit reports its status and nothing else, as
// with missing: zero.
func TestKeyRuleMissingOmitFailure(t *testing.T) {
	s := redistest.StartRedis(t)
	seedKeys(t, s)
	rule := `{metric: t_m, keys: ["nope:1", "text:bad"], aggregate: sum, missing: omit}`
	got, types, ok := runRules(t, s.Addr(), mustModule(t, ruleModule("5s", []string{rule}, nil)), conn.Auth{})
	if !ok {
		t.Fatal("probe failed")
	}
	checkRuleCase(t, ruleCase{key: rule, metric: "t_m", typ: dto.MetricType_GAUGE, success: 0, keys: 2, truncated: 0}, got, types)
	expect(t, got, map[string]float64{`redis_key_rule_success{rule="t_m"}`: 0, `redis_key_rule_keys{rule="t_m"}`: 2, `redis_key_rule_truncated{rule="t_m"}`: 0})
}
