package modules

import (
	"strings"
	"testing"
)

func TestKeyRuleDefaultsAndScripts(t *testing.T) {
	c, err := testCatalogue.Parse([]byte(`
modules:
  app:
    keys:
      - metric: app_queue_length
        keys: ["queue:a"]
        measure: length
      - metric: app_hits_total
        type: counter
        key: stats
        field: hits
    scripts:
      - metric: app_jobs_due
        script: "return 1"
`), "c.yml")
	if err != nil {
		t.Fatal(err)
	}
	k := c.Modules["app"].Keys
	if k[0].Aggregate != "none" || k[0].MaxKeys != DefaultMaxKeys || k[0].ScanCount != DefaultScanCount || k[0].Type != "gauge" {
		t.Errorf("defaults: %+v", k[0])
	}
	if k[0].Missing != MissingZero || k[1].Missing != MissingZero {
		t.Errorf("missing defaults to %q, %q, want zero", k[0].Missing, k[1].Missing)
	}
	if len(k[1].Keys) != 1 || k[1].Keys[0] != "stats" || k[1].Measure != "value" {
		t.Errorf("key: becomes keys: %+v", k[1])
	}
	if k[0].K != 0 || k[0].PerKey() != true {
		t.Errorf("k defaults to %d, aggregate none is per key: %v", k[0].K, k[0].PerKey())
	}
	if s := c.Modules["app"].Scripts[0]; s.SHA1() != "e0e1f9fabfc9d4800c877a703b823ac0578ff8db" {
		t.Errorf("script sha1 %s", s.SHA1())
	}
}

func TestKeyRuleTopK(t *testing.T) {
	c, err := testCatalogue.Parse([]byte(`
modules:
  app:
    keys:
      - metric: app_biggest_bytes
        pattern: "cache:*"
        measure: memory
        aggregate: topk
        k: 100
        key_labels: '^cache:(?P<shard>[^:]+):'
      - metric: app_longest
        keys: ["q:a", "q:b"]
        measure: length
        aggregate: topk
        k: 1
      - metric: app_events
        key: events
        measure: stream
`), "c.yml")
	if err != nil {
		t.Fatal(err)
	}
	k := c.Modules["app"].Keys
	if k[0].K != 100 || !k[0].PerKey() || k[1].K != 1 || !k[1].PerKey() {
		t.Errorf("topk rules: %+v, %+v", k[0], k[1])
	}
	want := []string{"app_events", "app_events_group_lag", "app_events_group_pending_messages", "app_events_group_consumers", "app_events_entries_added", "app_events_last_entry_age_seconds"}
	if got := k[2].RuleMetrics(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("stream rule families %v, want %v", got, want)
	}
}

func TestKeyRuleErrorsNameTheLine(t *testing.T) {
	head := "modules:\n  app:\n    keys:\n"
	for _, tc := range []struct {
		name, rules string
		want        []string
	}{
		{"key and pattern", "      - metric: a\n        key: k\n        pattern: 'p*'\n", []string{"c.yml:4:", "modules.app.keys[0]", "exactly one of pattern, key and keys"}},
		{"neither", "      - metric: a\n", []string{"c.yml:4:", "exactly one of"}},
		{"bad regex", "      - metric: a\n        pattern: 'p*'\n        key_labels: '^(?P<t>['\n", []string{"c.yml:6:", "modules.app.keys[0].key_labels", "invalid regex"}},
		{"no named group", "      - metric: a\n        pattern: 'p*'\n        key_labels: '^p'\n", []string{"c.yml:6:", "named group"}},
		{"bad glob", "      - metric: a\n        pattern: 'p[*'\n", []string{"c.yml:5:", "modules.app.keys[0].pattern", "invalid glob"}},
		{"unknown measure", "      - metric: a\n        key: k\n        measure: size\n", []string{"c.yml:6:", "modules.app.keys[0].measure", `unknown measure "size"`}},
		{"unknown aggregate", "      - metric: a\n        key: k\n        aggregate: avg\n", []string{"c.yml:6:", `unknown aggregate "avg"`}},
		{"bad metric name", "      - metric: app-sessions\n        key: k\n", []string{"c.yml:4:", "modules.app.keys[0].metric", "not a valid metric name"}},
		{"duplicate metric", "      - metric: a\n        key: k\n      - metric: a\n        key: j\n", []string{"c.yml:6:", "modules.app.keys[1].metric", "also the metric of modules.app.keys[0]"}},
		{"built-in name", "      - metric: redis_up\n        key: k\n", []string{"c.yml:4:", "already exports"}},
		{"stream suffix collides", "      - metric: s\n        key: k\n        measure: stream\n      - metric: s_group_lag\n        key: j\n", []string{"c.yml:7:", "also the metric of"}},
		{"field without value", "      - metric: a\n        key: k\n        field: f\n        measure: length\n", []string{"c.yml:6:", "field goes with measure value"}},
		{"label clash", "      - metric: a\n        key: k\n        labels: {key: x}\n", []string{"c.yml:6:", "modules.app.keys[0].labels.key", "already set"}},
		{"unknown field", "      - metric: a\n        key: k\n        max_key: 3\n", []string{"c.yml:6:", "field max_key not found"}},
		{"group named key", "      - metric: a\n        pattern: 'a:*'\n        key_labels: '^(?P<key>.*)$'\n", []string{"c.yml:6:", "modules.app.keys[0].key_labels", `label "key" is already set`}},
		{"reserved label", "      - metric: a\n        pattern: 'a:*'\n        key_labels: '^(?P<__name__>.*)$'\n        aggregate: count\n", []string{"c.yml:6:", "not a valid label name"}},
		{"unknown missing", "      - metric: a\n        key: k\n        missing: none\n", []string{"c.yml:6:", `modules.app.keys[0].missing: unknown value "none": one of [zero omit]`}},
		{"missing omit with exists", "      - metric: a\n        key: k\n        measure: exists\n        missing: omit\n", []string{"c.yml:7:", "modules.app.keys[0].missing: measure exists gives 0 for a missing key: missing must be zero"}},
		{"stream aggregate", "      - metric: a\n        key: k\n        measure: stream\n        aggregate: sum\n", []string{"c.yml:7:", "aggregate must be none"}},
		{"topk without k", "      - metric: a\n        pattern: 'p*'\n        aggregate: topk\n", []string{"c.yml:6:", "modules.app.keys[0].aggregate: aggregate topk needs k, the number of keys to keep: 1 to 100"}},
		{"topk k 0 is no k", "      - metric: a\n        pattern: 'p*'\n        aggregate: topk\n        k: 0\n", []string{"c.yml:6:", "aggregate topk needs k"}},
		{"topk k too large", "      - metric: a\n        pattern: 'p*'\n        aggregate: topk\n        k: 101\n", []string{"c.yml:7:", "modules.app.keys[0].k: must be 1 to 100"}},
		{"topk k negative", "      - metric: a\n        pattern: 'p*'\n        aggregate: topk\n        k: -1\n", []string{"c.yml:7:", "modules.app.keys[0].k: must be 1 to 100"}},
		{"k without topk", "      - metric: a\n        pattern: 'p*'\n        aggregate: max\n        k: 3\n", []string{"c.yml:7:", "modules.app.keys[0].k: k goes with aggregate topk"}},
		{"k without aggregate", "      - metric: a\n        key: k\n        k: 3\n", []string{"c.yml:6:", "k goes with aggregate topk"}},
		{"topk of counters", "      - metric: a_total\n        type: counter\n        pattern: 'p*'\n        aggregate: topk\n        k: 3\n", []string{"c.yml:5:", "modules.app.keys[0].type: the topk of counters is no counter"}},
		{"topk of streams", "      - metric: a\n        pattern: 'p*'\n        measure: stream\n        aggregate: topk\n        k: 3\n", []string{"c.yml:7:", "aggregate must be none"}},
		{"topk group named key", "      - metric: a\n        pattern: 'a:*'\n        key_labels: '^(?P<key>.*)$'\n        aggregate: topk\n        k: 2\n", []string{"c.yml:6:", `label "key" is already set`}},
		{"topk static label key", "      - metric: a\n        pattern: 'a:*'\n        aggregate: topk\n        k: 2\n        labels: {key: x}\n", []string{"modules.app.keys[0].labels.key", "already set"}},
		{"stream entries_added collides", "      - metric: s\n        key: k\n        measure: stream\n      - metric: s_entries_added\n        key: j\n", []string{"c.yml:7:", "modules.app.keys[1].metric", `"s_entries_added" is also the metric of modules.app.keys[0]`}},
		{"stream last entry age collides", "      - metric: s_last_entry_age_seconds\n        key: j\n      - metric: s\n        key: k\n        measure: stream\n", []string{"c.yml:6:", "modules.app.keys[1].metric", `"s_last_entry_age_seconds" is also the metric of modules.app.keys[0]`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := testCatalogue.Parse([]byte(head+tc.rules), "c.yml")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	_, err := testCatalogue.Parse([]byte("modules:\n  app:\n    scripts:\n      - metric: a\n        script: x\n        script_file: /etc/hostname\n"), "c.yml")
	if err == nil || !strings.Contains(err.Error(), "c.yml:4: modules.app.scripts[0]: set exactly one of script and script_file") {
		t.Errorf("script and script_file: %v", err)
	}
}
