package exposition

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
)

// The emitter's text parses back to the same values, whatever the label
// values hold, and names every family once with its help and type.
func TestEmitterWritesValidText(t *testing.T) {
	f := New("t_value", "Help with a \\ backslash\nand a newline.", dto.MetricType_GAUGE, "z", "a")
	s := New("t_latency_seconds", "Latency of a command.", dto.MetricType_SUMMARY, "cmd")
	h := New("t_size_bytes", "Sizes of things.", dto.MetricType_HISTOGRAM)
	e := NewEmitter(testSet.Select())
	e.Emit(f, 1.5, `quote " back \ nl`+"\n", "bad\xffutf8")
	e.Emit(f, math.Inf(1), "inf", "x")
	e.Emit(f, math.NaN(), "nan", "x")
	e.Emit(f, -2e-7, "small", "x")
	e.EmitSummary(s, 3, 1.25, []float64{0.5, 0.999}, []float64{0.1, 0.9}, "get")
	e.EmitHistogram(h, 5, 2.5, []float64{0.001, 0.002}, []uint64{1, 4})

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
		if g, ok := got[k]; !ok || g.Value != want {
			t.Errorf("%s = %v (present %v), want %v", k, g.Value, ok, want)
		}
	}
	if v := got[`t_value{a="x",z="nan"}`].Value; !math.IsNaN(v) {
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

// Test families for the duplicate checks: key rules' families, so that the
// declared families are left alone.
var (
	tGauge     = New("t_gauge", "A gauge.", dto.MetricType_GAUGE, "user", "group")
	tCounter   = New("t_total", "A counter.", dto.MetricType_COUNTER)
	tSummary   = New("t_latency_seconds", "A summary.", dto.MetricType_SUMMARY, "cmd")
	tHistogram = New("t_size_bytes", "A histogram.", dto.MetricType_HISTOGRAM, "cmd")
	tBare      = New("t_bare_seconds", "A histogram without labels.", dto.MetricType_HISTOGRAM)
)

// exposition is what e writes.
func exposition(t *testing.T, e *Emitter) string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := e.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// The exposition never has two lines for one name and label set: the first
// emitted wins, a summary's or histogram's lines go or stay together, and
// duplicates says what was dropped.
func TestEmitterDropsRepeatedSeries(t *testing.T) {
	const (
		gaugeHead = "# HELP t_gauge A gauge.\n# TYPE t_gauge gauge\n"
		sumHead   = "# HELP t_latency_seconds A summary.\n# TYPE t_latency_seconds summary\n"
		histHead  = "# HELP t_size_bytes A histogram.\n# TYPE t_size_bytes histogram\n"
		bareHead  = "# HELP t_bare_seconds A histogram without labels.\n# TYPE t_bare_seconds histogram\n"
	)
	for _, tc := range []struct {
		name    string
		emit    func(e *Emitter)
		want    string
		dropped int
		example string
	}{{
		name: "labels differing only in invalid UTF-8",
		emit: func(e *Emitter) {
			e.Emit(tGauge, 1, "a\xff", "g")
			e.Emit(tGauge, 2, "a\xfe", "g")
			e.Emit(tGauge, 3, "a\uFFFD", "g") // what both are written as
		},
		want:    gaugeHead + "t_gauge{group=\"g\",user=\"a\uFFFD\"} 1\n",
		dropped: 2, example: "t_gauge{group=\"g\",user=\"a\uFFFD\"}",
	}, {
		name: "the same series twice",
		emit: func(e *Emitter) {
			e.Emit(tGauge, 1, "u", "g")
			e.Emit(tGauge, 2, "u", "g")
			e.Emit(tCounter, 5)
			e.Emit(tCounter, 6)
		},
		want: gaugeHead + `t_gauge{group="g",user="u"} 1` + "\n" +
			"# HELP t_total A counter.\n# TYPE t_total counter\nt_total 5\n",
		dropped: 2, example: `t_gauge{group="g",user="u"}`,
	}, {
		name: "distinct series all stay",
		emit: func(e *Emitter) {
			e.Emit(tGauge, 1, "a", "b")
			e.Emit(tGauge, 2, "b", "a")          // values swapped between labels
			e.Emit(tGauge, 3, "a ", "b")         // a trailing space
			e.Emit(tGauge, 4, "a\n", "b")        // a newline, written \n
			e.Emit(tGauge, 5, `a\n`, "b")        // a backslash and n, written \\n
			e.Emit(tGauge, 6, `a",group="b`, "") // an injected label stays a value
			e.Emit(tGauge, 7, "a", `b",user="a`)
			e.Emit(tGauge, 8, "", "")
		},
		want: gaugeHead +
			`t_gauge{group="b",user="a"} 1` + "\n" +
			`t_gauge{group="a",user="b"} 2` + "\n" +
			`t_gauge{group="b",user="a "} 3` + "\n" +
			`t_gauge{group="b",user="a\n"} 4` + "\n" +
			`t_gauge{group="b",user="a\\n"} 5` + "\n" +
			`t_gauge{group="",user="a\",group=\"b"} 6` + "\n" +
			`t_gauge{group="b\",user=\"a",user="a"} 7` + "\n" +
			`t_gauge{group="",user=""} 8` + "\n",
	}, {
		name: "a summary group twice",
		emit: func(e *Emitter) {
			e.EmitSummary(tSummary, 3, 1.5, []float64{0.5, 0.99}, []float64{0.1, 0.9}, "get")
			e.EmitSummary(tSummary, 4, 2.5, []float64{0.5, 0.99}, []float64{0.2, 0.8}, "get")
			e.EmitSummary(tSummary, 5, 3.5, []float64{0.5}, []float64{0.3}, "get\xff")
			e.EmitSummary(tSummary, 6, 4.5, []float64{0.5}, []float64{0.4}, "get\xfe")
			e.EmitSummary(tSummary, 7, 5.5, nil, nil, "set")
		},
		want: sumHead +
			`t_latency_seconds{cmd="get",quantile="0.5"} 0.1` + "\n" +
			`t_latency_seconds{cmd="get",quantile="0.99"} 0.9` + "\n" +
			`t_latency_seconds_sum{cmd="get"} 1.5` + "\n" +
			`t_latency_seconds_count{cmd="get"} 3` + "\n" +
			"t_latency_seconds{cmd=\"get\uFFFD\",quantile=\"0.5\"} 0.3\n" +
			"t_latency_seconds_sum{cmd=\"get\uFFFD\"} 3.5\n" +
			"t_latency_seconds_count{cmd=\"get\uFFFD\"} 5\n" +
			`t_latency_seconds_sum{cmd="set"} 5.5` + "\n" +
			`t_latency_seconds_count{cmd="set"} 7` + "\n",
		dropped: 2, example: `t_latency_seconds{cmd="get"}`,
	}, {
		name: "a histogram group twice",
		emit: func(e *Emitter) {
			e.EmitHistogram(tHistogram, 5, 2.5, []float64{1, 2}, []uint64{1, 4}, "get")
			e.EmitHistogram(tHistogram, 6, 3.5, []float64{1, 2, 4}, []uint64{2, 3, 6}, "get")
			e.EmitHistogram(tHistogram, 1, 0.5, []float64{1}, []uint64{1}, "set")
			e.EmitHistogram(tBare, 2, 0.25, []float64{0.5}, []uint64{2})
			e.EmitHistogram(tBare, 3, 0.75, []float64{0.5}, []uint64{3})
		},
		want: bareHead +
			`t_bare_seconds_bucket{le="0.5"} 2` + "\n" +
			`t_bare_seconds_bucket{le="+Inf"} 2` + "\n" +
			"t_bare_seconds_sum 0.25\n" +
			"t_bare_seconds_count 2\n" +
			histHead +
			`t_size_bytes_bucket{cmd="get",le="1"} 1` + "\n" +
			`t_size_bytes_bucket{cmd="get",le="2"} 4` + "\n" +
			`t_size_bytes_bucket{cmd="get",le="+Inf"} 5` + "\n" +
			`t_size_bytes_sum{cmd="get"} 2.5` + "\n" +
			`t_size_bytes_count{cmd="get"} 5` + "\n" +
			`t_size_bytes_bucket{cmd="set",le="1"} 1` + "\n" +
			`t_size_bytes_bucket{cmd="set",le="+Inf"} 1` + "\n" +
			`t_size_bytes_sum{cmd="set"} 0.5` + "\n" +
			`t_size_bytes_count{cmd="set"} 1` + "\n",
		dropped: 2, example: `t_size_bytes{cmd="get"}`,
	}, {
		name: "bounds and quantiles repeated within a group",
		emit: func(e *Emitter) {
			e.EmitHistogram(tHistogram, 9, 1, []float64{2, 1, 2, math.Inf(1), math.NaN(), math.NaN(), 0, math.Copysign(0, -1)},
				[]uint64{1, 2, 3, 4, 5, 6, 7, 8}, "get")
			e.EmitSummary(tSummary, 2, 1, []float64{0.5, 0.5, 0.9}, []float64{1, 2, 3}, "get")
		},
		want: sumHead +
			`t_latency_seconds{cmd="get",quantile="0.5"} 1` + "\n" +
			`t_latency_seconds{cmd="get",quantile="0.9"} 3` + "\n" +
			`t_latency_seconds_sum{cmd="get"} 1` + "\n" +
			`t_latency_seconds_count{cmd="get"} 2` + "\n" +
			histHead +
			`t_size_bytes_bucket{cmd="get",le="2"} 1` + "\n" +
			`t_size_bytes_bucket{cmd="get",le="1"} 2` + "\n" +
			`t_size_bytes_bucket{cmd="get",le="NaN"} 5` + "\n" +
			`t_size_bytes_bucket{cmd="get",le="0"} 7` + "\n" +
			`t_size_bytes_bucket{cmd="get",le="-0"} 8` + "\n" +
			`t_size_bytes_bucket{cmd="get",le="+Inf"} 9` + "\n" +
			`t_size_bytes_sum{cmd="get"} 1` + "\n" +
			`t_size_bytes_count{cmd="get"} 9` + "\n",
		dropped: 4, example: `t_size_bytes_bucket{cmd="get",le="2"}`,
	}, {
		name: "a long repeat is cut for the log, at a whole character",
		emit: func(e *Emitter) {
			long := strings.Repeat("é", 150) // 300 bytes
			e.Emit(tGauge, 1, long, "g")
			e.Emit(tGauge, 2, long, "g")
		},
		want:    gaugeHead + `t_gauge{group="g",user="` + strings.Repeat("é", 150) + `"} 1` + "\n",
		dropped: 1, example: `t_gauge{group="g",user="` + strings.Repeat("é", 88),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEmitter(testSet.Select())
			tc.emit(e)
			if got := exposition(t, e); got != tc.want {
				t.Errorf("exposition:\n%s\nwant:\n%s", got, tc.want)
			}
			n, example := e.Duplicates()
			if n != tc.dropped || example != tc.example {
				t.Errorf("duplicates() = %d, %q; want %d, %q", n, example, tc.dropped, tc.example)
			}
			if len(example) > maxExample || !utf8.ValidString(example) {
				t.Errorf("example %q is longer than %d bytes or not UTF-8", example, maxExample)
			}
			gather(t, e) // and it parses
		})
	}
}

// Two identities whose hashes collide are both kept, and the second is
// still found when repeated: a hash match is confirmed byte for byte.
func TestEmitterHashCollision(t *testing.T) {
	e := NewEmitter(testSet.Select())
	e.Emit(tGauge, 1, "a", "g")
	// File a's identity under b's hash, where b's lookup starts.
	h := maphash.String(seriesSeed, `t_gauge{group="g",user="b"}`)
	clear(e.slots)
	e.slots[h&uint64(len(e.slots)-1)] = 1
	e.ids[0].hash = h
	e.Emit(tGauge, 2, "b", "g")
	e.Emit(tGauge, 3, "b", "g")
	want := "# HELP t_gauge A gauge.\n# TYPE t_gauge gauge\n" +
		`t_gauge{group="g",user="a"} 1` + "\n" + `t_gauge{group="g",user="b"} 2` + "\n"
	if got := exposition(t, e); got != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}
	if n, _ := e.Duplicates(); n != 1 {
		t.Errorf("%d dropped, want 1 (b's repeat)", n)
	}
}

// Many labelled series fill and grow the table, and each is still found.
func TestEmitterManySeries(t *testing.T) {
	e := NewEmitter(testSet.Select())
	for range 2 {
		for i := range 1000 {
			e.Emit(tGauge, float64(i), strconv.Itoa(i), "g")
		}
	}
	if n, _ := e.Duplicates(); n != 1000 || len(e.ids) != 1000 {
		t.Errorf("%d dropped and %d kept, want 1000 and 1000", n, len(e.ids))
	}
	if got := samples(t, e); len(got) != 1000 || got[`t_gauge{group="g",user="999"}`].Value != 999 {
		t.Errorf("%d series parsed, want 1000", len(got))
	}
}

// A declared family filtered out by the module writes nothing and drops
// nothing; one kept is checked like a key rule's.
func TestEmitterDeclaredFamilies(t *testing.T) {
	sel := testSet.Select()
	e := NewEmitter(sel)
	e.Emit(collectorSuccess, 1, "info")
	if got := exposition(t, e); got != "" {
		t.Errorf("a filtered family was written:\n%s", got)
	}
	sel.Keep(collectorSuccess, true)
	e = NewEmitter(sel)
	e.Emit(collectorSuccess, 1, "info")
	e.Emit(collectorSuccess, 0, "info")
	e.Emit(collectorSuccess, 1, "info\xff")
	got := samples(t, e)
	if len(got) != 2 || got[`probe_collector_success{collector="info"}`].Value != 1 {
		t.Errorf("got %v, want info=1 and info\uFFFD=1", got)
	}
	if n, example := e.Duplicates(); n != 1 || example != `probe_collector_success{collector="info"}` {
		t.Errorf("duplicates() = %d, %q", n, example)
	}
}

// A label value past MaxLabelBytes is cut at a character and ends in "…".
func TestLongLabelValueCut(t *testing.T) {
	f := New("t_long_label", "Help.", dto.MetricType_GAUGE, "v")
	e := NewEmitter(testSet.Select())
	e.Emit(f, 1, strings.Repeat("a", MaxLabelBytes-1)+"é"+strings.Repeat("b", 5000))
	var b bytes.Buffer
	if _, err := e.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	want := `t_long_label{v="` + strings.Repeat("a", MaxLabelBytes-1) + `…"} 1`
	if !strings.Contains(b.String(), want+"\n") {
		t.Errorf("exposition lacks the cut series %q…:\n%.300s", want[:40], b.String())
	}
}

// A family reserves every name its samples take, in this text format and
// in OpenMetrics; a second family claiming one of them is a bug that
// Declare refuses.
func TestReservedNames(t *testing.T) {
	var s Set
	s.Counter("r_requests_total", "Requests.")
	s.Counter("r_errors", "Errors, named without _total.")
	s.Gauge("r_up", "Up.")
	s.Summary("r_latency_seconds", "Latency.")
	s.Histogram("r_size_bytes", "Sizes.")
	for name, want := range map[string]bool{
		"r_requests_total": true, "r_requests": true, "r_requests_created": true,
		"r_errors": true, "r_errors_total": true, "r_errors_created": true,
		"r_up": true, "r_up_total": false, "r_up_created": false,
		"r_latency_seconds": true, "r_latency_seconds_sum": true, "r_latency_seconds_count": true, "r_latency_seconds_created": true, "r_latency_seconds_bucket": false,
		"r_size_bytes": true, "r_size_bytes_bucket": true, "r_size_bytes_sum": true, "r_size_bytes_count": true, "r_size_bytes_created": true,
		"r_other": false,
	} {
		if got := s.Reserved(name); got != want {
			t.Errorf("Reserved(%q) = %v, want %v", name, got, want)
		}
	}
	for _, tc := range []struct {
		name string
		decl func(s *Set)
	}{
		{"a gauge on a counter's base name", func(s *Set) { s.Counter("c_total", "C."); s.Gauge("c", "G.") }},
		{"a counter over a gauge", func(s *Set) { s.Gauge("c", "G."); s.Counter("c_total", "C.") }},
		{"a gauge on a summary's _count", func(s *Set) { s.Summary("s", "S."); s.Gauge("s_count", "G.") }},
		{"a histogram over a gauge's name as _bucket", func(s *Set) { s.Gauge("h_bucket", "G."); s.Histogram("h", "H.") }},
		{"one name twice", func(s *Set) { s.Gauge("g", "G."); s.Gauge("g", "G.") }},
		{"after use", func(s *Set) { s.Gauge("g", "G."); s.Select(); s.Gauge("h", "H.") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Declare did not panic")
				}
			}()
			tc.decl(&Set{})
		})
	}
}

// A family of another set is never written through a selection; one made
// by New always is.
func TestSelectionKeeps(t *testing.T) {
	var other Set
	g := other.Gauge("o_gauge", "Another set's.")
	sel := testSet.Select()
	if sel.Kept(g) || sel.Kept(collectorSuccess) || !sel.Kept(New("r", "R.", dto.MetricType_GAUGE)) {
		t.Error("Kept: want false, false, true")
	}
	defer func() {
		if recover() == nil {
			t.Error("Keep of another set's family did not panic")
		}
	}()
	sel.Keep(g, true)
}

// The fast path for small whole numbers writes what 'g' writes.
func TestAppendFloatMatchesG(t *testing.T) {
	values := []float64{0, math.Copysign(0, -1), 1, -1, 999999, 1e6, -999999, 0.5, 123456.5, 1e21, math.MaxInt64, math.MinInt64}
	for i := range 2000 {
		values = append(values, float64(i*i*7), float64(i)/3)
	}
	for _, v := range values {
		if got, want := formatFloat(v), strconv.FormatFloat(v, 'g', -1, 64); got != want {
			t.Errorf("formatFloat(%v) = %q, want %q", v, got, want)
		}
	}
}

// Emitters of one selection lay out their buffers from the sizes the last
// one wrote, while others store new ones, and reuse the memory of those
// released: each still writes exactly its own series, however the sizes
// change under it.
func TestEmittersShareSizesSafely(t *testing.T) {
	sel := testSet.Select()
	sel.Keep(collectorSuccess, true)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				n := 1 + (g+i)%3*40 // 1, 41 or 81 series
				e := NewEmitter(sel)
				want := collectorSuccess.header()
				for j := range n {
					v := float64(g*1000 + j)
					e.Emit(collectorSuccess, v, strconv.Itoa(j))
					want += fmt.Sprintf("probe_collector_success{collector=\"%d\"} %v\n", j, v)
				}
				if got := string(e.Text()); got != want {
					errs <- fmt.Sprintf("wrote\n%s\nwant\n%s", got, want)
					return
				}
				if i%2 == 0 {
					e.Release()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
