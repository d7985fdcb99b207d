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
