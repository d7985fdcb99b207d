package examples

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"go.yaml.in/yaml/v3"
)

// ruleFiles are the Prometheus rule files under examples/prometheus.
var ruleFiles = []string{"redis-alerts.yml", "redis-recording.yml"}

// ruleTests is the promtool unit test file of ruleFiles.
const ruleTests = "redis-alerts_test.yml"

// TestPrometheusRules checks the example alerting and recording rules with
// promtool, and runs their unit tests.
func TestPrometheusRules(t *testing.T) {
	promtool := lookPromtool(t)
	dir := "prometheus"

	for _, f := range ruleFiles {
		t.Run("check/"+f, func(t *testing.T) {
			path := filepath.Join(dir, f)
			if out, err := runPromtool(t, promtool, "check", "rules", path); err != nil {
				t.Fatalf("promtool check rules %s: %v\n%s", path, err, out)
			}
		})
	}

	t.Run("test/"+ruleTests, func(t *testing.T) {
		// promtool resolves the test file's rule_files against its directory.
		path := filepath.Join(dir, ruleTests)
		if out, err := runPromtool(t, promtool, "test", "rules", path); err != nil {
			t.Fatalf("promtool test rules %s: %v\n%s", path, err, out)
		}
	})

	t.Run("coverage", func(t *testing.T) { checkRuleCoverage(t, dir) })
}

// checkRuleCoverage fails when an alert lacks a test case where it fires
// or one where it does not, or a recording rule lacks a test of its value.
func checkRuleCoverage(t *testing.T, dir string) {
	var alerts, records []string
	for _, f := range ruleFiles {
		var rf struct {
			Groups []struct {
				Rules []struct {
					Alert  string `yaml:"alert"`
					Record string `yaml:"record"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		readYAML(t, filepath.Join(dir, f), &rf)
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Alert != "" {
					alerts = append(alerts, r.Alert)
				} else {
					records = append(records, r.Record)
				}
			}
		}
	}

	var tf struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
			PromqlExprTest []struct {
				Expr       string `yaml:"expr"`
				ExpSamples []any  `yaml:"exp_samples"`
			} `yaml:"promql_expr_test"`
		} `yaml:"tests"`
	}
	readYAML(t, filepath.Join(dir, ruleTests), &tf)
	fires, quiet := map[string]bool{}, map[string]bool{}
	var exprs []string
	for _, tc := range tf.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
		for _, e := range tc.PromqlExprTest {
			if len(e.ExpSamples) > 0 {
				exprs = append(exprs, e.Expr)
			}
		}
	}
	for _, a := range alerts {
		if !fires[a] {
			t.Errorf("%s: alert %s has no test case where it fires", ruleTests, a)
		}
		if !quiet[a] {
			t.Errorf("%s: alert %s has no test case where it does not fire", ruleTests, a)
		}
	}
	for _, r := range records {
		name := regexp.MustCompile(`(^|[^a-zA-Z0-9_:])` + regexp.QuoteMeta(r) + `($|[^a-zA-Z0-9_:])`)
		tested := false
		for _, e := range exprs {
			tested = tested || name.MatchString(e)
		}
		if !tested {
			t.Errorf("%s: recording rule %s has no promql_expr_test with samples", ruleTests, r)
		}
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
