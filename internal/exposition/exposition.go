// Package exposition writes one probe's metrics straight into the
// Prometheus text format (version 0.0.4): the families a program declares,
// with their names reserved, and an Emitter per request that keeps every
// series to one value and its labels valid, capped and escaped.
//
// A program declares its families once, at init, in a Set; each request
// picks the families it keeps with a Selection and writes through its own
// Emitter. Families made with New (a key rule's, whose name comes from the
// config) are not in any Set and are always kept.
package exposition

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
)

// A Family is one metric name with its help, type and label names, declared
// once by the code that emits it.
type Family struct {
	set    *Set // nil for one made by New
	index  int  // in set.families
	name   string
	help   string
	typ    dto.MetricType
	labels []string
	order  []int // label indexes in name order, as the exposition wants them

	formerly string // another exporter's name for the same number, for docs
}

// New makes a family that belongs to no Set: a key rule's, whose name comes
// from the config. An Emitter always keeps it.
func New(name, help string, typ dto.MetricType, labels ...string) *Family {
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	return &Family{index: -1, name: name, help: help, typ: typ, labels: labels, order: order}
}

// Name is the family's metric name.
func (f *Family) Name() string { return f.name }

// Help is the family's help text, as declared.
func (f *Family) Help() string { return f.help }

// Type is the family's metric type.
func (f *Family) Type() dto.MetricType { return f.typ }

// Labels are the family's label names, in the order Emit takes their values.
func (f *Family) Labels() []string { return f.labels }

// Was records another exporter's name for the same number, for the docs.
func (f *Family) Was(name string) *Family {
	f.formerly = name
	return f
}

// Formerly is the name Was recorded, or "".
func (f *Family) Formerly() string { return f.formerly }

// SampleNames are the names of the samples f writes: its name, and a
// summary's _sum and _count, a histogram's _bucket, _sum and _count.
func (f *Family) SampleNames() []string {
	switch f.typ {
	case dto.MetricType_SUMMARY:
		return []string{f.name, f.name + "_sum", f.name + "_count"}
	case dto.MetricType_HISTOGRAM:
		return []string{f.name, f.name + "_bucket", f.name + "_sum", f.name + "_count"}
	}
	return []string{f.name}
}

// ReservedNames are the names no other family may take beside f: its sample
// names, and the names another format gives the same family. OpenMetrics
// (which Prometheus also scrapes, and into which tools convert this text)
// names a counter "x_total" family "x" with samples x_total and x_created,
// and gives summaries and histograms an x_created sample too; a family
// named like any of those would clash there. A counter not ending in _total
// gets x_total and x_created in OpenMetrics, so those are reserved as well.
func (f *Family) ReservedNames() []string {
	names := f.SampleNames()
	switch f.typ {
	case dto.MetricType_COUNTER:
		if base, ok := strings.CutSuffix(f.name, "_total"); ok {
			names = append(names, base, base+"_created")
		} else {
			names = append(names, f.name+"_total", f.name+"_created")
		}
	case dto.MetricType_SUMMARY, dto.MetricType_HISTOGRAM:
		names = append(names, f.name+"_created")
	}
	return names
}

// A Set is the families a program declares, each once, in one exposition.
// Declare them at init: a Set is read concurrently once its first
// Selection is made, and declaring after that panics.
type Set struct {
	mu       sync.Mutex
	families []*Family
	owner    map[string]*Family // every reserved name -> the family reserving it
	sealed   bool

	byName  []int    // family indexes sorted by name, the order of the exposition
	headers []string // each family's "# HELP" and "# TYPE" lines

	released sync.Pool // *Emitter: what Release returned, for NewEmitter to reuse
}

// Gauge declares a gauge.
func (s *Set) Gauge(name, help string, labels ...string) *Family {
	return s.Declare(name, help, dto.MetricType_GAUGE, labels...)
}

// Counter declares a counter; its name should end in _total.
func (s *Set) Counter(name, help string, labels ...string) *Family {
	return s.Declare(name, help, dto.MetricType_COUNTER, labels...)
}

// Summary declares a summary.
func (s *Set) Summary(name, help string, labels ...string) *Family {
	return s.Declare(name, help, dto.MetricType_SUMMARY, labels...)
}

// Histogram declares a histogram.
func (s *Set) Histogram(name, help string, labels ...string) *Family {
	return s.Declare(name, help, dto.MetricType_HISTOGRAM, labels...)
}

// Declare adds a family to s and reserves its names (ReservedNames). It
// panics when one of them is taken by a family declared before, or when s
// is already in use: both are bugs of the declaring code.
func (s *Set) Declare(name, help string, typ dto.MetricType, labels ...string) *Family {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sealed {
		panic("exposition: " + name + " declared after the set came into use")
	}
	f := New(name, help, typ, labels...)
	f.set, f.index = s, len(s.families)
	if s.owner == nil {
		s.owner = map[string]*Family{}
	}
	for _, n := range f.ReservedNames() {
		if o := s.owner[n]; o != nil {
			panic(fmt.Sprintf("exposition: %s and %s both claim the name %s", o.name, name, n))
		}
	}
	for _, n := range f.ReservedNames() {
		s.owner[n] = f
	}
	s.families = append(s.families, f)
	return f
}

// Families are the declared families, in the order declared.
func (s *Set) Families() []*Family {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.families)
}

// Reserved reports whether name is one of the declared families' reserved
// names (ReservedNames), which no other family may take.
func (s *Set) Reserved(name string) bool {
	s.seal()
	return s.owner[name] != nil
}

// seal ends declaration, and sorts the families and makes their headers
// once.
func (s *Set) seal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sealed {
		return
	}
	s.sealed = true
	s.byName = make([]int, len(s.families))
	s.headers = make([]string, len(s.families))
	for i, f := range s.families {
		s.byName[i] = i
		s.headers[i] = f.header()
	}
	slices.SortFunc(s.byName, func(a, b int) int { return strings.Compare(s.families[a].name, s.families[b].name) })
}

// A Selection is the declared families of a Set that an exposition keeps;
// the rest are dropped as they are emitted. It is built once (per module
// and config, say) and read by any number of Emitters.
type Selection struct {
	set  *Set
	keep []bool // by family index
	// sizes are the bytes of each family's lines in the exposition written
	// last, so that the next one lays them out in one allocation instead
	// of growing each.
	sizes []atomic.Int32
}

// Select starts a selection of s that keeps none of its families.
func (s *Set) Select() *Selection {
	s.seal()
	return &Selection{set: s, keep: make([]bool, len(s.families)), sizes: make([]atomic.Int32, len(s.families))}
}

// Keep sets whether the selection keeps f, a family of its set. Call it
// before the selection is used.
func (sel *Selection) Keep(f *Family, on bool) {
	if f.set != sel.set {
		panic("exposition: " + f.name + " is not a family of the selection's set")
	}
	sel.keep[f.index] = on
}

// Kept reports whether the selection keeps f. A family made by New is
// always kept.
func (sel *Selection) Kept(f *Family) bool {
	return f.index < 0 || f.set == sel.set && sel.keep[f.index]
}

// Emitter writes one probe's metrics straight into the text exposition
// format, a family's lines at a time, dropping the families the module's
// filter excludes. It is the probe's own registry: built for one request,
// shared with nothing. Writing text directly, instead of building protobuf
// families for promhttp to encode, halves the exporter's CPU per probe.
//
// It is also where the exposition is kept to one value per series: a label
// value from the target may repeat, or differ from another only in bytes
// that are not UTF-8 and so be written the same. Every line's series
// identity (its name and rendered labels) is checked against the lines
// written before it, and a repeat is dropped: the first emitted wins. A
// summary's or histogram's lines for one label set go or stay together.
type Emitter struct {
	sel     *Selection
	out     [][]byte        // sample lines by family id
	rules   map[*Family]int // index in ruleOut of a key rule's family
	ruleFam []*Family
	ruleOut [][]byte // sample lines of key rules' families

	arena []byte  // the answer laid out at the sizes of the module's last probe (NewEmitter)
	text  []byte  // the exposition, once built
	start []int32 // where each family's lines start in arena; 0 when not there

	slots   []int32  // the labelled series written: 1 + index in ids, by hash; at most half full
	ids     []series // those series, in the order written
	dropped int      // series dropped as repeats
	example string   // the first dropped series' identity
}

// series locates a written series' identity: its name and labels, the line
// up to the space before the value. For a summary or histogram, the
// identity of its _sum line stands for the whole group.
type series struct {
	hash uint64 // of the identity
	buf  int32  // the lines it is in: a family id, or -1-i for ruleOut[i]
	off  uint32 // where in them
	n    uint32 // and how long
}

// seriesSeed keys the hash of series identities, so that a target cannot
// choose label values that collide. A hash match is confirmed byte for
// byte anyway: a collision costs a compare, never a series.
var seriesSeed = maphash.MakeSeed()

// maxExample caps the dropped series' identity Duplicates reports.
const maxExample = 200

// NewEmitter starts one exposition of sel's set, keeping the families sel
// keeps and every family made by New. It is used by one goroutine.
func NewEmitter(sel *Selection) *Emitter {
	set := sel.set
	set.seal()
	e, _ := set.released.Get().(*Emitter)
	if e == nil {
		e = &Emitter{out: make([][]byte, len(set.families)), start: make([]int32, len(set.families))}
	}
	e.sel = sel
	// One arena, laid out as the answer will be: each family that wrote
	// lines last time gets room for its header and a little more than as
	// many bytes of lines, in name order. The sizes are read once: other
	// probes of the module may store new ones meanwhile.
	snap := e.start
	total := 0
	for i := range sel.sizes {
		if n := sel.sizes[i].Load(); n > 0 {
			snap[i] = n + n/8 + 32 // room for values that grew a digit or two
			total += len(set.headers[i]) + int(snap[i])
		}
	}
	if total == 0 {
		return e
	}
	arena, off := e.arena[:cap(e.arena)], 0
	if len(arena) < total || len(arena) > 4*total { // too small, or a far bigger answer's to let go
		arena = make([]byte, total)
	}
	for _, id := range set.byName {
		n := int(snap[id])
		if n == 0 {
			continue
		}
		off += len(set.headers[id])
		e.out[id] = arena[off : off : off+n]
		snap[id] = int32(off) // from here on: where its lines start
		off += n
	}
	e.arena = arena
	return e
}

// Release gives the Emitter's memory, the exposition Text returned
// included, to the Emitters made after it: neither may be used after. An
// Emitter not released is collected as garbage, as any value.
func (e *Emitter) Release() {
	set := e.sel.set
	clear(e.out)
	clear(e.start)
	clear(e.slots)
	*e = Emitter{out: e.out, start: e.start, arena: e.arena, slots: e.slots, ids: e.ids[:0]}
	set.released.Put(e)
}

// lines is the reference of where f's sample lines go, and false when the
// filter drops f.
func (e *Emitter) lines(f *Family) (int32, bool) {
	if f.index >= 0 {
		return int32(f.index), e.sel.Kept(f)
	}
	i, ok := e.rules[f]
	if !ok {
		if e.rules == nil {
			e.rules = map[*Family]int{}
		}
		i = len(e.ruleOut)
		e.rules[f] = i
		e.ruleFam = append(e.ruleFam, f)
		e.ruleOut = append(e.ruleOut, nil)
	}
	return int32(-1 - i), true
}

// buffer is the lines a reference from lines names.
func (e *Emitter) buffer(ref int32) *[]byte {
	if ref >= 0 {
		return &e.out[ref]
	}
	return &e.ruleOut[-1-ref]
}

// written reports whether the series whose identity is (*b)[off:end], in
// the lines ref of family f, was written before, and records it as written
// if not. start is where the series' lines start: a family without labels
// has one series, written before when its lines do not start at 0. One with
// labels is looked up by the hash of its identity in an open-addressed
// table, where a hash collision only moves on to the next slot.
func (e *Emitter) written(ref int32, f *Family, start, off, end int) bool {
	if len(f.labels) == 0 {
		return start > 0
	}
	id := (*e.buffer(ref))[off:end]
	h := maphash.Bytes(seriesSeed, id)
	if e.slots == nil {
		e.slots, e.ids = make([]int32, 128), make([]series, 0, 64)
	}
	mask := uint64(len(e.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		k := e.slots[i]
		if k == 0 {
			e.ids = append(e.ids, series{hash: h, buf: ref, off: uint32(off), n: uint32(end - off)})
			e.slots[i] = int32(len(e.ids))
			if 2*len(e.ids) > len(e.slots) {
				e.grow()
			}
			return false
		}
		if s := e.ids[k-1]; s.hash == h && bytes.Equal(e.identity(s), id) {
			return true
		}
	}
}

// grow doubles the table of series.
func (e *Emitter) grow() {
	e.slots = make([]int32, 2*len(e.slots))
	mask := uint64(len(e.slots) - 1)
	for k, s := range e.ids {
		i := s.hash & mask
		for e.slots[i] != 0 {
			i = (i + 1) & mask
		}
		e.slots[i] = int32(k + 1)
	}
}

func (e *Emitter) identity(s series) []byte {
	return (*e.buffer(s.buf))[s.off : s.off+s.n]
}

// drop counts n series dropped as repeats; id is the first one's identity.
func (e *Emitter) drop(n int, id []byte) {
	if e.dropped == 0 {
		if len(id) > maxExample {
			cut := maxExample
			for cut > 0 && !utf8.RuneStart(id[cut]) {
				cut--
			}
			id = id[:cut]
		}
		e.example = string(id)
	}
	e.dropped += n
}

// Duplicates is how many series the Emitter dropped because one with the
// same name and labels was emitted before (a summary's or histogram's group
// counting once), and the first one's identity, `name{label="value",…}`,
// cut to about 200 bytes: for the probe's log.
func (e *Emitter) Duplicates() (n int, example string) {
	return e.dropped, e.example
}

// Emit writes a gauge's or counter's sample, labels in the order of
// f.Labels(). A series written before is dropped (see Duplicates).
func (e *Emitter) Emit(f *Family, v float64, labels ...string) {
	ref, ok := e.lines(f)
	if !ok {
		return
	}
	b := e.buffer(ref)
	start := len(*b)
	*b = appendSeries(*b, f.name, "", f, labels, "", 0)
	if e.written(ref, f, start, start, len(*b)) {
		e.drop(1, (*b)[start:])
		*b = (*b)[:start]
		return
	}
	*b = appendValue(*b, v)
}

// EmitSummary writes a summary: quantiles[i] is the value at quantile q[i].
// A quantile given twice is written once, with its first value.
func (e *Emitter) EmitSummary(f *Family, count uint64, sum float64, q, quantiles []float64, labels ...string) {
	ref, ok := e.lines(f)
	if !ok {
		return
	}
	b := e.buffer(ref)
	start := len(*b)
	repeat := repeats(q, false)
	for i := range q {
		if repeat == nil || !repeat[i] {
			*b = appendSeries(*b, f.name, "", f, labels, "quantile", q[i])
			*b = appendValue(*b, quantiles[i])
		}
	}
	e.endGroup(ref, f, start, sum, count, labels, "quantile", q, repeat)
}

// EmitHistogram writes a histogram: counts[i] is the cumulative count of
// observations up to bounds[i]. A bound given twice, or +Inf (which is
// count's), is written once, with its first count.
func (e *Emitter) EmitHistogram(f *Family, count uint64, sum float64, bounds []float64, counts []uint64, labels ...string) {
	ref, ok := e.lines(f)
	if !ok {
		return
	}
	b := e.buffer(ref)
	start := len(*b)
	repeat := repeats(bounds, true)
	for i := range bounds {
		if repeat == nil || !repeat[i] {
			*b = appendSeries(*b, f.name, "_bucket", f, labels, "le", bounds[i])
			*b = appendValue(*b, float64(counts[i]))
		}
	}
	*b = appendSeries(*b, f.name, "_bucket", f, labels, "le", math.Inf(1))
	*b = appendValue(*b, float64(count))
	e.endGroup(ref, f, start, sum, count, labels, "le", bounds, repeat)
}

// endGroup writes a summary's or histogram's _sum and _count lines after its
// quantiles or buckets, which start at start, and keeps the group only when
// its label set is new to f. extra, at and repeat are the quantile or le
// label, its values and which of them repeat an earlier one.
func (e *Emitter) endGroup(ref int32, f *Family, start int, sum float64, count uint64, labels []string, extra string, at []float64, repeat []bool) {
	b := e.buffer(ref)
	off := len(*b)
	*b = appendSeries(*b, f.name, "_sum", f, labels, "", 0)
	end := len(*b)
	if e.written(ref, f, start, off, end) {
		id := (*b)[off:end]
		if e.dropped == 0 { // name it as the family's series
			id = append([]byte(f.name), id[len(f.name)+len("_sum"):]...)
		}
		e.drop(1, id)
		*b = (*b)[:start]
		return
	}
	*b = appendValue(*b, sum)
	*b = appendSeries(*b, f.name, "_count", f, labels, "", 0)
	*b = appendValue(*b, float64(count))
	if repeat != nil {
		n, first := 0, -1
		for i, r := range repeat {
			if r {
				n++
				if first < 0 {
					first = i
				}
			}
		}
		suffix := ""
		if extra == "le" {
			suffix = "_bucket"
		}
		var id []byte
		if e.dropped == 0 {
			id = appendSeries(nil, f.name, suffix, f, labels, extra, at[first])
		}
		e.drop(n, id)
	}
}

// repeats reports which of vs render the same as an earlier one, or as
// +Inf when inf is set: nil when none does, as when vs only rises, the
// common case.
func repeats(vs []float64, inf bool) []bool {
	rising := true
	for i := 1; i < len(vs) && rising; i++ {
		rising = vs[i-1] < vs[i]
	}
	if rising && (!inf || len(vs) == 0 || !math.IsInf(vs[len(vs)-1], 1)) {
		return nil
	}
	key := func(v float64) uint64 {
		if v != v {
			return math.Float64bits(math.NaN()) // every NaN is written "NaN"
		}
		return math.Float64bits(v) // 0 and -0 are written apart
	}
	seen := make(map[uint64]bool, len(vs)+1)
	if inf {
		seen[key(math.Inf(1))] = true
	}
	repeat := make([]bool, len(vs))
	some := false
	for i, v := range vs {
		k := key(v)
		repeat[i] = seen[k]
		some = some || repeat[i]
		seen[k] = true
	}
	if !some {
		return nil
	}
	return repeat
}

// appendSeries appends a sample line's series identity, `namesuffix{labels…,
// extra="at"}`, with f's labels in name order and their values escaped and
// valid UTF-8. extra, when set, is a summary's quantile or a histogram's le.
func appendSeries(b []byte, name, suffix string, f *Family, labels []string, extra string, at float64) []byte {
	if len(labels) != len(f.labels) {
		panic("exposition: " + f.name + " emitted with the wrong number of labels") // a bug, caught by the tests
	}
	b = append(b, name...)
	b = append(b, suffix...)
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
			b = append(b, extra...)
			b = append(b, '=', '"')
			b = appendFloat(b, at)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	return b
}

// appendValue ends a sample line: a space, the value and a newline.
func appendValue(b []byte, v float64) []byte {
	b = append(b, ' ')
	b = appendFloat(b, v)
	return append(b, '\n')
}

// MaxLabelBytes caps a label value, which may come from the target (a
// client or consumer group name); longer ones are cut and end in "…".
const MaxLabelBytes = 1024

func appendLabel(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, '=', '"')
	if len(value) > MaxLabelBytes {
		cut := MaxLabelBytes
		for cut > 0 && !utf8.RuneStart(value[cut]) {
			cut--
		}
		value = value[:cut] + "…"
	}
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
	if i := int64(v); float64(i) == v && i < 1e6 && !math.Signbit(v) {
		return strconv.AppendInt(b, i, 10) // what 'g' writes for 0…999999, faster
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

func formatFloat(v float64) string { return string(appendFloat(nil, v)) }

// inArena reports whether the exposition can be built in the arena: no key
// rule's family (those sort among the rest), and every family with lines
// still writing where NewEmitter put it (none outgrew its room).
func (e *Emitter) inArena() bool {
	if e.arena == nil || len(e.ruleOut) > 0 {
		return false
	}
	for id, lines := range e.out {
		if len(lines) > 0 && (e.start[id] == 0 || &lines[0] != &e.arena[e.start[id]]) {
			return false
		}
	}
	return true
}

// helpEscaper escapes help text as the text format wants it.
var helpEscaper = strings.NewReplacer("\\", `\\`, "\n", `\n`)

// header is the family's "# HELP" and "# TYPE" lines, the help escaped and
// valid UTF-8.
func (f *Family) header() string {
	help := helpEscaper.Replace(strings.ToValidUTF8(f.help, "\uFFFD"))
	typ := strings.ToLower(dto.MetricType_name[int32(f.typ)])
	return "# HELP " + f.name + " " + help + "\n# TYPE " + f.name + " " + typ + "\n"
}

// WriteTo writes the exposition (Text), families sorted by name. Call it
// after the last Emit.
func (e *Emitter) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(e.Text())
	return int64(n), err
}

// Text is the exposition, families sorted by name, in one buffer. Call it
// after the last Emit; it is built once.
func (e *Emitter) Text() []byte {
	if e.text != nil {
		return e.text // built in place: the lines it was built from are gone
	}
	e.text = e.build()
	return e.text
}

// build lays the exposition out, in the arena when the lines fit there.
func (e *Emitter) build() []byte {
	for i, lines := range e.out {
		e.sel.sizes[i].Store(int32(len(lines)))
	}
	if e.inArena() {
		// Every family's lines fit where NewEmitter put them: close the
		// gaps, headers first, and the arena is the answer. Each block
		// moves toward the start, so copy's overlap is safe.
		w := 0
		for _, id := range e.sel.set.byName {
			if len(e.out[id]) > 0 {
				w += copy(e.arena[w:], e.sel.set.headers[id])
				w += copy(e.arena[w:], e.out[id])
			}
		}
		return e.arena[:w]
	}
	type block struct {
		name, header string
		lines        []byte
	}
	set := e.sel.set
	n := len(e.ruleOut)
	for _, lines := range e.out {
		if len(lines) > 0 {
			n++
		}
	}
	blocks := make([]block, 0, n)
	size := 0
	for _, id := range set.byName {
		if len(e.out[id]) > 0 {
			blocks = append(blocks, block{set.families[id].name, set.headers[id], e.out[id]})
			size += len(set.headers[id]) + len(e.out[id])
		}
	}
	if len(e.ruleOut) > 0 {
		for i, f := range e.ruleFam {
			if len(e.ruleOut[i]) > 0 {
				blocks = append(blocks, block{f.name, f.header(), e.ruleOut[i]})
				size += len(f.name)*2 + len(f.help) + 32 + len(e.ruleOut[i])
			}
		}
		slices.SortStableFunc(blocks, func(a, b block) int { return strings.Compare(a.name, b.name) })
	}
	buf := make([]byte, 0, size)
	for _, bl := range blocks {
		buf = append(buf, bl.header...)
		buf = append(buf, bl.lines...)
	}
	return buf
}
