package prober

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/conn"
	"github.com/redis-probe/redis_probe_exporter/internal/target"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

// sample is one series: its type and value, keyed by `name{l="v",…}` with
// labels sorted.
type sample struct {
	typ   dto.MetricType
	value float64
}

func samples(t testing.TB, result io.WriterTo) map[string]sample {
	t.Helper()
	mfs := gather(t, result)
	out := map[string]sample{}
	for _, mf := range mfs {
		for _, d := range mf.GetMetric() {
			addSample(t, out, mf.GetName(), d)
		}
	}
	return out
}

// gather parses a probe's exposition back into families, checking it is
// valid text format on the way.
func gather(t testing.TB, result io.WriterTo) []*dto.MetricFamily {
	t.Helper()
	var buf bytes.Buffer
	if _, err := result.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := parser.TextToMetricFamilies(&buf)
	if err != nil {
		t.Fatalf("invalid exposition: %v", err)
	}
	mfs := make([]*dto.MetricFamily, 0, len(byName))
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		mfs = append(mfs, byName[name])
	}
	return mfs
}

// addSample adds d's series: a gauge or counter as itself, a summary or
// histogram as its _sum, _count and quantile or bucket series.
func addSample(t testing.TB, out map[string]sample, name string, d *dto.Metric) {
	t.Helper()
	var labels []string
	for _, lp := range d.GetLabel() {
		labels = append(labels, lp.GetName()+`="`+lp.GetValue()+`"`)
	}
	add := func(name string, typ dto.MetricType, v float64, extra ...string) {
		l := append(slices.Clone(labels), extra...)
		sort.Strings(l)
		key := name
		if len(l) > 0 {
			key += "{" + strings.Join(l, ",") + "}"
		}
		if _, dup := out[key]; dup {
			t.Errorf("duplicate series %s", key)
		}
		out[key] = sample{typ: typ, value: v}
	}
	switch {
	case d.Counter != nil:
		add(name, dto.MetricType_COUNTER, d.GetCounter().GetValue())
	case d.Summary != nil:
		s := d.GetSummary()
		add(name+"_sum", dto.MetricType_SUMMARY, s.GetSampleSum())
		add(name+"_count", dto.MetricType_SUMMARY, float64(s.GetSampleCount()))
		for _, q := range s.GetQuantile() {
			add(name, dto.MetricType_SUMMARY, q.GetValue(), fmt.Sprintf(`quantile="%v"`, q.GetQuantile()))
		}
	case d.Histogram != nil:
		h := d.GetHistogram()
		add(name+"_sum", dto.MetricType_HISTOGRAM, h.GetSampleSum())
		add(name+"_count", dto.MetricType_HISTOGRAM, float64(h.GetSampleCount()))
		for _, b := range h.GetBucket() {
			add(name+"_bucket", dto.MetricType_HISTOGRAM, float64(b.GetCumulativeCount()), fmt.Sprintf(`le="%v"`, b.GetUpperBound()))
		}
	default:
		add(name, dto.MetricType_GAUGE, d.GetGauge().GetValue())
	}
}

func expect(t *testing.T, got map[string]sample, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		s, ok := got[k]
		switch {
		case !ok:
			t.Errorf("missing %s", k)
		case v == v && s.value != v:
			t.Errorf("%s = %v, want %v", k, s.value, v)
		}
	}
}

func mustModule(t testing.TB, yamlText string) *modules.Module {
	t.Helper()
	c, err := Catalogue().Parse([]byte("modules:\n  m:\n"+yamlText), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	return c.Modules["m"]
}

// probeTarget probes addr with module m through a fresh pool.
func probeTarget(t testing.TB, addr string, m *modules.Module, auth *modules.Auth) (map[string]sample, bool) {
	t.Helper()
	got, _, ok := probeRules(t, addr, m, auth)
	return got, ok
}

// probeClient probes through client and returns the series and the type
// of each family.
func probeClient(t testing.TB, client *redis.Client, m *modules.Module) (map[string]sample, map[string]dto.MetricType, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(m.Timeout))
	defer cancel()
	res := Probe(ctx, client, m, log.NewNopLogger())
	g, ok := res.Metrics, res.Success
	mfs := gather(t, g)
	types := map[string]dto.MetricType{}
	for _, mf := range mfs {
		if _, dup := types[mf.GetName()]; dup {
			t.Errorf("family %s gathered twice", mf.GetName())
		}
		types[mf.GetName()] = mf.GetType()
	}
	return samples(t, g), types, ok
}

// probeRules probes addr with m through a fresh pool.
func probeRules(t testing.TB, addr string, m *modules.Module, auth *modules.Auth) (map[string]sample, map[string]dto.MetricType, bool) {
	t.Helper()
	tg, err := target.Parse(addr)
	if err != nil {
		t.Fatal(err)
	}
	pool := conn.NewPool(4, time.Minute, time.Hour)
	defer pool.Close()
	client, release := pool.Get(tg, "test", connAuth(auth, tg), conn.Limits{}, 1)
	defer release()
	return probeClient(t, client, m)
}

// promtoolCheck fails the test unless promtool check metrics is silent on
// the exposition text.
func promtoolCheck(t *testing.T, exposition string) {
	t.Helper()
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = strings.NewReader(exposition)
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
