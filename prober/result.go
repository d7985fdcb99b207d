package prober

import (
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
)

// A family is one metric name with its help, type and label names, declared
// once by the collector that emits it.
type family struct {
	id     int // index in families
	name   string
	help   string
	typ    dto.MetricType
	labels []string
	order  []int // label indexes in name order, as the exposition wants them
}

// families is every family declared, by id.
var families []*family

func newFamily(name, help string, typ dto.MetricType, labels ...string) *family {
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	f := &family{id: len(families), name: name, help: help, typ: typ, labels: labels, order: order}
	families = append(families, f)
	return f
}

func gauge(name, help string, labels ...string) *family {
	return newFamily(name, help, dto.MetricType_GAUGE, labels...)
}

func counter(name, help string, labels ...string) *family {
	return newFamily(name, help, dto.MetricType_COUNTER, labels...)
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
	plan *plan
	out  []*dto.MetricFamily // by family id
}

func newEmitter(p *plan) *emitter {
	return &emitter{plan: p, out: make([]*dto.MetricFamily, len(families))}
}

// point holds a metric and its value in one allocation.
type point struct {
	metric  dto.Metric
	gauge   dto.Gauge
	counter dto.Counter
	value   float64
}

func (e *emitter) emit(f *family, v float64, labels ...string) {
	if !e.plan.keep[f.id] {
		return
	}
	if len(labels) != len(f.labels) {
		panic("prober: " + f.name + " emitted with the wrong number of labels") // a bug, caught by the tests
	}
	mf := e.out[f.id]
	if mf == nil {
		mf = &dto.MetricFamily{Name: &f.name, Help: &f.help, Type: f.typ.Enum()}
		e.out[f.id] = mf
	}
	s := &point{value: v}
	if f.typ == dto.MetricType_COUNTER {
		s.counter.Value = &s.value
		s.metric.Counter = &s.counter
	} else {
		s.gauge.Value = &s.value
		s.metric.Gauge = &s.gauge
	}
	if len(labels) > 0 {
		pairs := make([]dto.LabelPair, len(labels))
		values := make([]string, len(labels))
		s.metric.Label = make([]*dto.LabelPair, len(labels))
		for i, j := range f.order {
			values[i] = labels[j]
			if !utf8.ValidString(values[i]) {
				values[i] = strings.ToValidUTF8(values[i], "\uFFFD")
			}
			pairs[i] = dto.LabelPair{Name: &f.labels[j], Value: &values[i]}
			s.metric.Label[i] = &pairs[i]
		}
	}
	mf.Metric = append(mf.Metric, &s.metric)
}

// Gather returns the probe's metric families sorted by name, so that the
// emitter serves promhttp as a registry would.
func (e *emitter) Gather() ([]*dto.MetricFamily, error) {
	out := make([]*dto.MetricFamily, 0, 64)
	for _, id := range byName() {
		if mf := e.out[id]; mf != nil {
			out = append(out, mf)
		}
	}
	return out, nil
}
