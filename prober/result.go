package prober

import (
	"io"
	"math"
	"slices"
	"strconv"
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

// byName is the family ids sorted by name, the order of the exposition.
var byName = sync.OnceValue(func() []int {
	ids := make([]int, len(families))
	for i := range ids {
		ids[i] = i
	}
	slices.SortFunc(ids, func(a, b int) int { return strings.Compare(families[a].name, families[b].name) })
	return ids
})

// emitter writes one probe's metrics straight into the text exposition
// format, a family's lines at a time, dropping the families the module's
// filter excludes. It is the probe's own registry: built for one request,
// shared with nothing. Writing text directly, instead of building protobuf
// families for promhttp to encode, halves the exporter's CPU per probe.
type emitter struct {
	plan  *plan
	out   [][]byte            // sample lines by family id
	rules map[*family]*[]byte // sample lines of key rules' families
}

func newEmitter(p *plan) *emitter {
	return &emitter{plan: p, out: make([][]byte, len(families))}
}

// lines is where f's sample lines go, or nil when the filter drops f.
func (e *emitter) lines(f *family) *[]byte {
	if f.id >= 0 {
		if !e.plan.keep[f.id] {
			return nil
		}
		return &e.out[f.id]
	}
	if e.rules == nil {
		e.rules = map[*family]*[]byte{}
	}
	b := e.rules[f]
	if b == nil {
		b = new([]byte)
		e.rules[f] = b
	}
	return b
}

func (e *emitter) emit(f *family, v float64, labels ...string) {
	if b := e.lines(f); b != nil {
		*b = appendSample(*b, f.name, f, labels, "", "", v)
	}
}

// emitSummary writes a summary: quantiles[i] is the value at quantile q[i].
func (e *emitter) emitSummary(f *family, count uint64, sum float64, q, quantiles []float64, labels ...string) {
	b := e.lines(f)
	if b == nil {
		return
	}
	for i := range q {
		*b = appendSample(*b, f.name, f, labels, "quantile", formatFloat(q[i]), quantiles[i])
	}
	*b = appendSample(*b, f.name+"_sum", f, labels, "", "", sum)
	*b = appendSample(*b, f.name+"_count", f, labels, "", "", float64(count))
}

// emitHistogram writes a histogram: counts[i] is the cumulative count of
// observations up to bounds[i].
func (e *emitter) emitHistogram(f *family, count uint64, sum float64, bounds []float64, counts []uint64, labels ...string) {
	b := e.lines(f)
	if b == nil {
		return
	}
	for i := range bounds {
		*b = appendSample(*b, f.name+"_bucket", f, labels, "le", formatFloat(bounds[i]), float64(counts[i]))
	}
	*b = appendSample(*b, f.name+"_bucket", f, labels, "le", "+Inf", float64(count))
	*b = appendSample(*b, f.name+"_sum", f, labels, "", "", sum)
	*b = appendSample(*b, f.name+"_count", f, labels, "", "", float64(count))
}

// appendSample appends `name{labels…,extra="value"} v` and a newline, with
// f's labels in name order and their values escaped and valid UTF-8.
func appendSample(b []byte, name string, f *family, labels []string, extra, extraValue string, v float64) []byte {
	if len(labels) != len(f.labels) {
		panic("prober: " + f.name + " emitted with the wrong number of labels") // a bug, caught by the tests
	}
	b = append(b, name...)
	if len(labels) > 0 || extra != "" {
		b = append(b, '{')
		for i, j := range f.order {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendLabel(b, f.labels[j], labels[j])
		}
		if extra != "" {
			if len(labels) > 0 {
				b = append(b, ',')
			}
			b = appendLabel(b, extra, extraValue)
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = appendFloat(b, v)
	return append(b, '\n')
}

func appendLabel(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, '=', '"')
	if !utf8.ValidString(value) {
		value = strings.ToValidUTF8(value, "\uFFFD")
	}
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

func formatFloat(v float64) string { return string(appendFloat(nil, v)) }

// header is the family's "# HELP" and "# TYPE" lines.
func (f *family) header() string {
	help := strings.NewReplacer("\\", `\\`, "\n", `\n`).Replace(f.help)
	typ := strings.ToLower(dto.MetricType_name[int32(f.typ)])
	return "# HELP " + f.name + " " + help + "\n# TYPE " + f.name + " " + typ + "\n"
}

// headers are the declared families' header lines, made once.
var headers = sync.OnceValue(func() []string {
	h := make([]string, len(families))
	for i, f := range families {
		h[i] = f.header()
	}
	return h
})

// WriteTo writes the exposition, families sorted by name.
func (e *emitter) WriteTo(w io.Writer) (int64, error) {
	type block struct {
		name, header string
		lines        []byte
	}
	blocks := make([]block, 0, 96+len(e.rules))
	size := 0
	for _, id := range byName() {
		if len(e.out[id]) > 0 {
			blocks = append(blocks, block{families[id].name, headers()[id], e.out[id]})
			size += len(headers()[id]) + len(e.out[id])
		}
	}
	if len(e.rules) > 0 {
		for f, lines := range e.rules {
			blocks = append(blocks, block{f.name, f.header(), *lines})
			size += len(f.name)*2 + len(f.help) + 32 + len(*lines)
		}
		slices.SortFunc(blocks, func(a, b block) int { return strings.Compare(a.name, b.name) })
	}
	buf := make([]byte, 0, size)
	for _, bl := range blocks {
		buf = append(buf, bl.header...)
		buf = append(buf, bl.lines...)
	}
	n, err := w.Write(buf)
	return int64(n), err
}
