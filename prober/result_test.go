package prober

import (
	"bytes"
	"math"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// The emitter's text parses back to the same values, whatever the label
// values hold, and names every family once with its help and type.
func TestEmitterWritesValidText(t *testing.T) {
	f := ruleFamily("t_value", "Help with a \\ backslash\nand a newline.", dto.MetricType_GAUGE, "z", "a")
	s := ruleFamily("t_latency_seconds", "Latency of a command.", dto.MetricType_SUMMARY, "cmd")
	h := ruleFamily("t_size_bytes", "Sizes of things.", dto.MetricType_HISTOGRAM)
	e := newEmitter(&plan{keep: make([]bool, len(families))})
	e.emit(f, 1.5, `quote " back \ nl`+"\n", "bad\xffutf8")
	e.emit(f, math.Inf(1), "inf", "x")
	e.emit(f, math.NaN(), "nan", "x")
	e.emit(f, -2e-7, "small", "x")
	e.emitSummary(s, 3, 1.25, []float64{0.5, 0.999}, []float64{0.1, 0.9}, "get")
	e.emitHistogram(h, 5, 2.5, []float64{0.001, 0.002}, []uint64{1, 4})

	got := samples(t, e)
	for k, want := range map[string]float64{
		// the parser hands back label values unescaped
		`t_value{a="bad` + "\uFFFD" + `utf8",z="quote " back \ nl` + "\n" + `"}`: 1.5,
		`t_value{a="x",z="inf"}`:                        math.Inf(1),
		`t_value{a="x",z="small"}`:                      -2e-7,
		`t_latency_seconds{cmd="get",quantile="0.999"}`: 0.9,
		`t_latency_seconds_sum{cmd="get"}`:              1.25,
		`t_latency_seconds_count{cmd="get"}`:            3,
		`t_size_bytes_bucket{le="0.002"}`:               4,
		`t_size_bytes_count`:                            5,
		`t_size_bytes_sum`:                              2.5,
	} {
		if g, ok := got[k]; !ok || g.value != want {
			t.Errorf("%s = %v (present %v), want %v", k, g.value, ok, want)
		}
	}
	if v := got[`t_value{a="x",z="nan"}`].value; !math.IsNaN(v) {
		t.Errorf("NaN came back as %v", v)
	}
	var buf bytes.Buffer
	if _, err := e.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{
		"# HELP t_value Help with a \\\\ backslash\\nand a newline.\n# TYPE t_value gauge\n",
		"# TYPE t_latency_seconds summary\n", "# TYPE t_size_bytes histogram\n",
		`t_size_bytes_bucket{le="+Inf"} 5`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("exposition lacks %q:\n%s", want, text)
		}
	}
	if i, j := strings.Index(text, "t_size_bytes"), strings.Index(text, "t_value"); i > j {
		t.Error("families are not sorted by name")
	}
	promtoolCheck(t, text)
}
