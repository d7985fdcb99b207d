package prober

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

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

func samples(t testing.TB, g prometheus.Gatherer) map[string]sample {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]sample{}
	for _, mf := range mfs {
		for _, d := range mf.GetMetric() {
			addSample(t, out, mf.GetName(), d)
		}
	}
	return out
}

func addSample(t testing.TB, out map[string]sample, name string, d *dto.Metric) {
	var labels []string
	for _, lp := range d.GetLabel() {
		labels = append(labels, lp.GetName()+`="`+lp.GetValue()+`"`)
	}
	sort.Strings(labels)
	key := name
	if len(labels) > 0 {
		key += "{" + strings.Join(labels, ",") + "}"
	}
	s := sample{typ: dto.MetricType_GAUGE, value: d.GetGauge().GetValue()}
	if d.Counter != nil {
		s = sample{typ: dto.MetricType_COUNTER, value: d.GetCounter().GetValue()}
	}
	if _, dup := out[key]; dup {
		t.Errorf("duplicate series %s", key)
	}
	out[key] = s
}

// expect checks each series' value; a NaN want only checks presence.
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
	c, err := modules.Parse([]byte("modules:\n  m:\n"+yamlText), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	return c.Modules["m"]
}

// probeTarget probes addr with module m through a fresh pool.
func probeTarget(t testing.TB, addr string, m *modules.Module, auth *modules.Auth) (map[string]sample, bool) {
	t.Helper()
	tg, err := target.Parse(addr)
	if err != nil {
		t.Fatal(err)
	}
	pool := conn.NewPool(4, time.Minute)
	defer pool.Close()
	client, release := pool.Get(tg, "test", auth)
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(m.Timeout))
	defer cancel()
	ms, ok := Probe(ctx, client, m, log.NewNopLogger())
	return samples(t, ms), ok
}
