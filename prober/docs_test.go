package prober

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
)

var update = flag.Bool("update", false, "rewrite docs/metrics.md from the collectors")

const metricsDoc = "../docs/metrics.md"

// docs/metrics.md is written from the collectors' own declarations; this
// test fails when it differs. Regenerate with:
//
//	go test ./prober -run TestMetricsDoc -update
func TestMetricsDoc(t *testing.T) {
	want := writeMetricsDoc()
	if *update {
		if err := os.WriteFile(metricsDoc, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./prober -run TestMetricsDoc -update", metricsDoc)
	}
}

func writeMetricsDoc() []byte {
	var b bytes.Buffer
	b.WriteString("# Metrics\n\nWritten by `go test ./prober -run TestMetricsDoc -update` from the collectors' declarations; a test fails when this file is stale.\n\n")
	b.WriteString("A module turns collectors on or off with `collectors: {name: true|false}`; `probe_collector_success{collector}` tells whether each one's commands worked. A collector whose command fails emits nothing else; the probe stands.\n\n")
	b.WriteString("## Every probe\n\n| metric | type | unit | labels | help |\n|---|---|---|---|---|\n")
	for _, f := range append(slices.Clone(probeFamilies), collectorSuccess) {
		docRow(&b, f)
	}
	for _, c := range collectors {
		on := "off by default"
		if c.defaultOn {
			on = "on by default"
		}
		var cmds []string
		for _, args := range c.commands {
			cmds = append(cmds, "`"+commandKey(args)+"`")
		}
		if c.moduleCommands != nil {
			cmds = append(cmds, "per module")
		}
		fmt.Fprintf(&b, "\n## %s\n\n%s; commands: %s.\n\n| metric | type | unit | labels | help |\n|---|---|---|---|---|\n", c.name, on, strings.Join(cmds, ", "))
		fs := slices.Clone(c.families)
		slices.SortFunc(fs, func(a, b *exposition.Family) int { return strings.Compare(a.Name(), b.Name()) })
		for _, f := range fs {
			docRow(&b, f)
		}
	}
	b.WriteString("\n## Key and script rules\n\nEvery rule of a module's `keys:` and `scripts:` reports these beside its own metric (scripts: success only).\n\n| metric | type | unit | labels | help |\n|---|---|---|---|---|\n")
	for _, f := range ruleFamilies {
		docRow(&b, f)
	}
	b.WriteString("\n## Names that differ from redis_exporter's\n\nThe same numbers under names that follow Prometheus conventions.\n\n| redis_exporter | here | why |\n|---|---|---|\n")
	var renamed []*exposition.Family
	for _, f := range declared.Families() {
		if f.Formerly() != "" {
			renamed = append(renamed, f)
		}
	}
	slices.SortFunc(renamed, func(a, b *exposition.Family) int { return strings.Compare(a.Formerly(), b.Formerly()) })
	for _, f := range renamed {
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", f.Formerly(), f.Name(), renameReason(f.Formerly(), f.Name()))
	}
	return b.Bytes()
}

func docRow(b *bytes.Buffer, f *exposition.Family) {
	typ := strings.ToLower(dto.MetricType_name[int32(f.Type())])
	unit := ""
	for _, u := range []string{"seconds", "bytes", "ratio", "percentage"} {
		if strings.HasSuffix(strings.TrimSuffix(f.Name(), "_total"), "_"+u) {
			unit = u
		}
	}
	fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s |\n", f.Name(), typ, unit, strings.Join(f.Labels(), ", "), strings.ReplaceAll(f.Help(), "|", "\\|"))
}

func renameReason(old, name string) string {
	switch {
	case strings.HasSuffix(old, "_per_sec"):
		return "no abbreviated unit (promtool)"
	case strings.HasSuffix(old, "_usec"), strings.HasSuffix(old, "_sec"), strings.Contains(old, "_ms"):
		return "unit: seconds, the base unit"
	case strings.HasSuffix(name, "_total") && !strings.HasSuffix(old, "_total"):
		return "a counter: ends in `_total`"
	case strings.HasSuffix(old, "_total") && !strings.HasSuffix(name, "_total"):
		return "a gauge: `_total` is for counters"
	case strings.HasSuffix(name, "_bytes"):
		return "unit suffix: `_bytes`"
	default:
		return "says what the value is: a Unix time in seconds"
	}
}
