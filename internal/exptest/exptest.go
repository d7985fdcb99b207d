// Package exptest reads expositions back for tests: it parses the text
// format with Prometheus's own parser (so an invalid answer fails the
// test), flattens it into one value per series, and checks it with
// promtool.
package exptest

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Sample is one series' type and value.
type Sample struct {
	Typ   dto.MetricType
	Value float64
}

// Samples parses text into its series, keyed `name{l="v",…}` with labels
// sorted: a summary or histogram as its _sum, _count and quantile or
// bucket series. A series given twice fails t.
func Samples(t testing.TB, text io.Reader) map[string]Sample {
	t.Helper()
	out := map[string]Sample{}
	for _, mf := range Gather(t, text) {
		for _, d := range mf.GetMetric() {
			add(t, out, mf.GetName(), d)
		}
	}
	return out
}

// Written is what result writes, for Samples and Gather: an Emitter, say.
func Written(t testing.TB, result io.WriterTo) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	if _, err := result.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// Gather parses text into families, sorted by name, failing t when it is
// not valid text format.
func Gather(t testing.TB, text io.Reader) []*dto.MetricFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := parser.TextToMetricFamilies(text)
	if err != nil {
		t.Fatalf("invalid exposition: %v", err)
	}
	mfs := make([]*dto.MetricFamily, 0, len(byName))
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		mfs = append(mfs, byName[name])
	}
	return mfs
}

func add(t testing.TB, out map[string]Sample, name string, d *dto.Metric) {
	t.Helper()
	var labels []string
	for _, lp := range d.GetLabel() {
		labels = append(labels, lp.GetName()+`="`+lp.GetValue()+`"`)
	}
	put := func(name string, typ dto.MetricType, v float64, extra ...string) {
		l := slices.Sorted(slices.Values(append(slices.Clone(labels), extra...)))
		key := name
		if len(l) > 0 {
			key += "{" + strings.Join(l, ",") + "}"
		}
		if _, dup := out[key]; dup {
			t.Errorf("duplicate series %s", key)
		}
		out[key] = Sample{Typ: typ, Value: v}
	}
	switch {
	case d.Counter != nil:
		put(name, dto.MetricType_COUNTER, d.GetCounter().GetValue())
	case d.Summary != nil:
		s := d.GetSummary()
		put(name+"_sum", dto.MetricType_SUMMARY, s.GetSampleSum())
		put(name+"_count", dto.MetricType_SUMMARY, float64(s.GetSampleCount()))
		for _, q := range s.GetQuantile() {
			put(name, dto.MetricType_SUMMARY, q.GetValue(), fmt.Sprintf(`quantile="%v"`, q.GetQuantile()))
		}
	case d.Histogram != nil:
		h := d.GetHistogram()
		put(name+"_sum", dto.MetricType_HISTOGRAM, h.GetSampleSum())
		put(name+"_count", dto.MetricType_HISTOGRAM, float64(h.GetSampleCount()))
		for _, b := range h.GetBucket() {
			put(name+"_bucket", dto.MetricType_HISTOGRAM, float64(b.GetCumulativeCount()), fmt.Sprintf(`le="%v"`, b.GetUpperBound()))
		}
	default:
		put(name, dto.MetricType_GAUGE, d.GetGauge().GetValue())
	}
}

// Expect fails t for each series of want missing from got, or with another
// value; a NaN in want asks only that the series be there.
func Expect(t testing.TB, got map[string]Sample, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		s, ok := got[k]
		switch {
		case !ok:
			t.Errorf("missing %s", k)
		case v == v && s.Value != v:
			t.Errorf("%s = %v, want %v", k, s.Value, v)
		}
	}
}

// PromtoolCheck fails t unless promtool check metrics is silent on text.
func PromtoolCheck(t testing.TB, text string) {
	t.Helper()
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
