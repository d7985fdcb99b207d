package prober

import (
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"

	"github.com/redis-probe/redis_probe_exporter/modules"
)

// A family is one metric name with its help, type and label names, declared
// once by the collector that emits it.
type family struct {
	id     int // index in families; -1 for a key rule's, made per module
	name   string
	help   string
	typ    dto.MetricType
	labels []string
	order  []int // label indexes in name order, as the exposition wants them

	formerly string // redis_exporter's name for the same number, when ours differs
}

// was records redis_exporter's name for the family, for docs/metrics.md.
func (f *family) was(name string) *family {
	f.formerly = name
	return f
}

// families is every family declared, by id.
var families []*family

func newFamily(name, help string, typ dto.MetricType, labels ...string) *family {
	f := ruleFamily(name, help, typ, labels...)
	f.id = len(families)
	families = append(families, f)
	modules.ReserveMetricName(name)
	return f
}

// ruleFamily makes a family that is not declared in families: a key rule's,
// whose name comes from the config.
func ruleFamily(name, help string, typ dto.MetricType, labels ...string) *family {
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	return &family{id: -1, name: name, help: help, typ: typ, labels: labels, order: order}
}

func gauge(name, help string, labels ...string) *family {
	return newFamily(name, help, dto.MetricType_GAUGE, labels...)
}

func counter(name, help string, labels ...string) *family {
	return newFamily(name, help, dto.MetricType_COUNTER, labels...)
}

func summary(name, help string, labels ...string) *family {
	return newFamily(name, help, dto.MetricType_SUMMARY, labels...)
}

func histogram(name, help string, labels ...string) *family {
	return newFamily(name, help, dto.MetricType_HISTOGRAM, labels...)
}

// byName is the family ids sorted by name, the order a gatherer returns.
var byName = sync.OnceValue(func() []int {
	ids := make([]int, len(families))
	for i := range ids {
		ids[i] = i
	}
	slices.SortFunc(ids, func(a, b int) int { return strings.Compare(families[a].name, families[b].name) })
	return ids
})

// emitter gathers one probe's metrics straight into the exposition's data
// model, dropping the families the module's filter excludes. It is the
// probe's own registry: built for one request, shared with nothing.
type emitter struct {
	plan  *plan
	out   []*dto.MetricFamily // by family id
	rules []*dto.MetricFamily // key rules' families, in the order they came
	byRef map[*family]*dto.MetricFamily
}

func newEmitter(p *plan) *emitter {
	return &emitter{plan: p, out: make([]*dto.MetricFamily, len(families))}
}

func (e *emitter) emit(f *family, v float64, labels ...string) {
	m := e.metric(f, labels)
	if m == nil {
		return
	}
	if f.typ == dto.MetricType_COUNTER {
		m.Counter = &dto.Counter{Value: &v}
	} else {
		m.Gauge = &dto.Gauge{Value: &v}
	}
}

// emitSummary sends a summary: quantiles[i] is the value at quantile q[i].
func (e *emitter) emitSummary(f *family, count uint64, sum float64, q, quantiles []float64, labels ...string) {
	m := e.metric(f, labels)
	if m == nil {
		return
	}
	s := &dto.Summary{SampleCount: &count, SampleSum: &sum, Quantile: make([]*dto.Quantile, len(q))}
	for i := range q {
		s.Quantile[i] = &dto.Quantile{Quantile: &q[i], Value: &quantiles[i]}
	}
	m.Summary = s
}

// emitHistogram sends a histogram: counts[i] is the cumulative count of
// observations up to bounds[i].
func (e *emitter) emitHistogram(f *family, count uint64, sum float64, bounds []float64, counts []uint64, labels ...string) {
	m := e.metric(f, labels)
	if m == nil {
		return
	}
	h := &dto.Histogram{SampleCount: &count, SampleSum: &sum, Bucket: make([]*dto.Bucket, len(bounds))}
	for i := range bounds {
		h.Bucket[i] = &dto.Bucket{UpperBound: &bounds[i], CumulativeCount: &counts[i]}
	}
	m.Histogram = h
}

// metric adds a metric with labels to f's family, or returns nil when the
// module's filter drops f.
func (e *emitter) metric(f *family, labels []string) *dto.Metric {
	if f.id >= 0 && !e.plan.keep[f.id] {
		return nil
	}
	if len(labels) != len(f.labels) {
		panic("prober: " + f.name + " emitted with the wrong number of labels") // a bug, caught by the tests
	}
	mf := e.familyOf(f)
	m := &dto.Metric{}
	if len(labels) > 0 {
		pairs := make([]dto.LabelPair, len(labels))
		values := make([]string, len(labels))
		m.Label = make([]*dto.LabelPair, len(labels))
		for i, j := range f.order {
			values[i] = labels[j]
			if !utf8.ValidString(values[i]) {
				values[i] = strings.ToValidUTF8(values[i], "\uFFFD")
			}
			pairs[i] = dto.LabelPair{Name: &f.labels[j], Value: &values[i]}
			m.Label[i] = &pairs[i]
		}
	}
	mf.Metric = append(mf.Metric, m)
	return m
}

// familyOf is f's family in this probe's answer, made on first use.
func (e *emitter) familyOf(f *family) *dto.MetricFamily {
	if f.id >= 0 && e.out[f.id] != nil {
		return e.out[f.id]
	}
	if f.id < 0 && e.byRef[f] != nil {
		return e.byRef[f]
	}
	mf := &dto.MetricFamily{Name: &f.name, Help: &f.help, Type: f.typ.Enum()}
	if f.id >= 0 {
		e.out[f.id] = mf
	} else {
		if e.byRef == nil {
			e.byRef = map[*family]*dto.MetricFamily{}
		}
		e.byRef[f] = mf
		e.rules = append(e.rules, mf)
	}
	return mf
}

// Gather returns the probe's metric families sorted by name, so that the
// emitter serves promhttp as a registry would.
func (e *emitter) Gather() ([]*dto.MetricFamily, error) {
	out := make([]*dto.MetricFamily, 0, 64+len(e.rules))
	for _, id := range byName() {
		if mf := e.out[id]; mf != nil {
			out = append(out, mf)
		}
	}
	if len(e.rules) > 0 {
		out = append(out, e.rules...)
		slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	}
	return out, nil
}
