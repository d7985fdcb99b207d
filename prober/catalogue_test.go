package prober

import (
	"strings"
	"testing"
)

// A key rule may not take a name any sample of a declared family writes:
// the histogram's _bucket, _sum and _count, the summary's quantile lines,
// a counter's OpenMetrics names. Each is refused at load with its line.
func TestRuleNamesClashingWithSamplesRefused(t *testing.T) {
	for _, name := range []string{
		"redis_commands_latency_seconds_bucket",
		"redis_commands_latency_seconds_count",
		"redis_latency_percentiles_seconds_sum",
		"redis_latency_percentiles_seconds",
		"redis_up",
	} {
		cfg := "modules:\n  m:\n    keys:\n      - {metric: " + name + ", key: k}\n"
		_, err := Catalogue().Parse([]byte(cfg), "c.yml")
		if err == nil || !strings.Contains(err.Error(), "c.yml:4: modules.m.keys[0]") || !strings.Contains(err.Error(), name) {
			t.Errorf("key rule %s: error %v, want it refused at c.yml:4", name, err)
		}
	}
}

// A counter rule's OpenMetrics names count too: x_total is family x, with
// x_created beside it.
func TestCounterRuleNamesClashRefused(t *testing.T) {
	for name, keys := range map[string]string{
		"an exporter gauge as a counter's base":     "      - {metric: redis_connected_clients_total, key: k, type: counter}\n",
		"a counter and another rule's _total gauge": "      - {metric: app_jobs, key: k, type: counter}\n      - {metric: app_jobs_total, key: k}\n",
	} {
		_, err := Catalogue().Parse([]byte("modules:\n  m:\n    keys:\n"+keys), "c.yml")
		if err == nil || !strings.Contains(err.Error(), "c.yml:") || !strings.Contains(err.Error(), ": modules.m.keys[") {
			t.Errorf("%s: error %v, want the rule refused with its line", name, err)
		}
	}
}
