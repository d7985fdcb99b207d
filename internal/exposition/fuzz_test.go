package exposition

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var (
	fzGauge     = New("fz_gauge", "A gauge with two labels.", dto.MetricType_GAUGE, "user", "group")
	fzCounter   = New("fz_total", "A counter with \\ and \n in its help.", dto.MetricType_COUNTER)
	fzSummary   = New("fz_latency_seconds", "A summary.", dto.MetricType_SUMMARY, "cmd")
	fzHistogram = New("fz_size_bytes", "A histogram.", dto.MetricType_HISTOGRAM, "cmd", "db")
)

// FuzzEmitter emits series with label values and values the fuzzer picks,
// repeats among them, and checks that the exposition parses, has one value
// per name and label set, keeps every distinct series with its first value,
// and that duplicates counts what it dropped.
func FuzzEmitter(f *testing.F) {
	f.Add("a\xff", "a\xfe", `q"b\n`+"\n", 1.5, math.NaN(), []byte{0, 1, 2, 0, 1, 2, 1, 3, 3, 2, 4, 4, 3, 5, 6, 3, 5, 6})
	f.Add("", "\uFFFD", `\`, math.Inf(-1), math.Copysign(0, -1), []byte{0, 0, 0, 0, 0, 0, 4, 1, 1, 8, 2, 2, 7, 9, 9})
	f.Add("get", "get\xff", "set", 0.001, 0.002, []byte{2, 0, 0, 2, 1, 1, 3, 0, 255, 3, 1, 255, 5, 0, 0})
	f.Add("\xd57b", "Z", "2", math.Inf(-1), 0.0, []byte("\x002\x00\x00\x00\x00\x04$X\b\x02B000")) // a NaN bucket, which expfmt skips
	f.Fuzz(func(t *testing.T, l0, l1, l2 string, v0, v1 float64, script []byte) {
		labels := []string{l0, l1, l2, l0 + l1, ""}
		values := []float64{v0, v1, math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 1}
		label := func(b byte) string { return labels[int(b)%len(labels)] }
		value := func(b byte) float64 { return values[int(b)%len(values)] }
		// pick is up to three of values, chosen by b's bits.
		pick := func(b byte) []float64 {
			var out []float64
			for i := range int(b>>6) % 4 {
				out = append(out, value(b>>(2*i)))
			}
			return out
		}
		sel := testSet.Select()
		sel.Keep(collectorSuccess, true) // a declared family too
		e := NewEmitter(sel)

		// The model: each series' first value, by its name and labels as
		// written (valid UTF-8), and how many repeats were emitted.
		first := map[string]float64{}
		repeats := 0
		series := func(name string, v float64, kv ...string) bool {
			for i := 1; i < len(kv); i += 2 {
				kv[i] = strings.ToValidUTF8(kv[i], "\uFFFD")
			}
			k := name + fmt.Sprintf("%q", kv)
			if _, ok := first[k]; ok {
				repeats++
				return false
			}
			first[k] = v
			return true
		}
		// group is a summary's or histogram's series: all of them new, or none.
		group := func(name, extra string, at []float64, count uint64, sum float64, inf bool, kv ...string) {
			if !series(name+"_sum", sum, kv...) {
				return
			}
			series(name+"_count", float64(count), kv...)
			if inf {
				at = append(slices.Clone(at), math.Inf(1))
			}
			for i, a := range at {
				x := formatFloat(a)
				if inf && i < len(at)-1 && x == "+Inf" {
					repeats++ // count's, given as a bound
					continue
				}
				series(name, float64(i), append(slices.Clone(kv), extra, x)...)
			}
		}

		for i := 0; i+2 < len(script) && i < 3*100; i += 3 {
			op, x, y := script[i], script[i+1], script[i+2]
			switch op % 5 {
			case 0:
				e.Emit(fzGauge, value(op>>3), label(x), label(y))
				series("fz_gauge", value(op>>3), "group", label(y), "user", label(x))
			case 1:
				e.Emit(fzCounter, value(x))
				series("fz_total", value(x))
			case 2:
				q := pick(y)
				e.EmitSummary(fzSummary, uint64(x), value(op>>3), q, make([]float64, len(q)), label(x))
				group("fz_latency_seconds", "quantile", q, uint64(x), value(op>>3), false, "cmd", label(x))
			case 3:
				bounds := pick(y)
				counts := make([]uint64, len(bounds))
				e.EmitHistogram(fzHistogram, uint64(op), value(y), bounds, counts, label(x), label(x>>4))
				group("fz_size_bytes_bucket", "le", bounds, uint64(op), value(y), true, "cmd", label(x), "db", label(x>>4))
			case 4:
				e.Emit(collectorSuccess, value(y), label(x))
				series("probe_collector_success", value(y), "collector", label(x))
			}
		}

		var buf bytes.Buffer
		if _, err := e.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		text := buf.String()

		// One line per name and label set, each distinct series emitted
		// written.
		ids := map[string]bool{}
		for line := range strings.Lines(text) {
			if strings.HasPrefix(line, "#") {
				continue
			}
			id := line[:strings.LastIndexByte(line, ' ')]
			if ids[id] {
				t.Errorf("%s written twice in\n%s", id, text)
			}
			ids[id] = true
		}
		if len(ids) != len(first) {
			t.Errorf("%d series written, want the %d distinct ones emitted:\n%s", len(ids), len(first), text)
		}

		parser := expfmt.NewTextParser(model.UTF8Validation)
		mfs, err := parser.TextToMetricFamilies(strings.NewReader(text))
		if err != nil {
			t.Fatalf("invalid exposition: %v\n%s", err, text)
		}
		// One metric per label set, one bucket or quantile per bound (the
		// parser skips a NaN one), gauges and counters at their first value.
		for name, mf := range mfs {
			sets := map[string]bool{}
			for _, m := range mf.GetMetric() {
				var kv []string
				for _, lp := range m.GetLabel() {
					kv = append(kv, lp.GetName(), lp.GetValue())
				}
				set := fmt.Sprintf("%q", kv)
				if sets[set] {
					t.Errorf("%s%s parsed twice from\n%s", name, set, text)
				}
				sets[set] = true
				var at []float64
				switch mf.GetType() {
				case dto.MetricType_SUMMARY:
					for _, q := range m.GetSummary().GetQuantile() {
						at = append(at, q.GetQuantile())
					}
				case dto.MetricType_HISTOGRAM:
					for _, b := range m.GetHistogram().GetBucket() {
						at = append(at, b.GetUpperBound())
					}
				default:
					want := first[name+set]
					if v := m.GetGauge().GetValue() + m.GetCounter().GetValue(); v != want && !(v != v && want != want) {
						t.Errorf("%s%s = %v, want the first value %v", name, set, v, want)
					}
				}
				bounds := map[string]bool{}
				for _, a := range at {
					s := strconv.FormatFloat(a, 'g', -1, 64)
					if bounds[s] {
						t.Errorf("%s%s has %s twice in\n%s", name, set, s, text)
					}
					bounds[s] = true
				}
			}
		}
		if n, _ := e.Duplicates(); n != repeats {
			t.Errorf("duplicates() = %d, want %d", n, repeats)
		}
	})
}
