package prober

import (
	"bytes"
	"context"
	"hash/maphash"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
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

// Test families for the duplicate checks: key rules' families, so that the
// declared families are left alone.
var (
	tGauge     = ruleFamily("t_gauge", "A gauge.", dto.MetricType_GAUGE, "user", "group")
	tCounter   = ruleFamily("t_total", "A counter.", dto.MetricType_COUNTER)
	tSummary   = ruleFamily("t_latency_seconds", "A summary.", dto.MetricType_SUMMARY, "cmd")
	tHistogram = ruleFamily("t_size_bytes", "A histogram.", dto.MetricType_HISTOGRAM, "cmd")
	tBare      = ruleFamily("t_bare_seconds", "A histogram without labels.", dto.MetricType_HISTOGRAM)
)

// exposition is what e writes.
func exposition(t *testing.T, e *emitter) string {
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
		emit    func(e *emitter)
		want    string
		dropped int
		example string
	}{{
		name: "labels differing only in invalid UTF-8",
		emit: func(e *emitter) {
			e.emit(tGauge, 1, "a\xff", "g")
			e.emit(tGauge, 2, "a\xfe", "g")
			e.emit(tGauge, 3, "a\uFFFD", "g") // what both are written as
		},
		want:    gaugeHead + "t_gauge{group=\"g\",user=\"a\uFFFD\"} 1\n",
		dropped: 2, example: "t_gauge{group=\"g\",user=\"a\uFFFD\"}",
	}, {
		name: "the same series twice",
		emit: func(e *emitter) {
			e.emit(tGauge, 1, "u", "g")
			e.emit(tGauge, 2, "u", "g")
			e.emit(tCounter, 5)
			e.emit(tCounter, 6)
		},
		want: gaugeHead + `t_gauge{group="g",user="u"} 1` + "\n" +
			"# HELP t_total A counter.\n# TYPE t_total counter\nt_total 5\n",
		dropped: 2, example: `t_gauge{group="g",user="u"}`,
	}, {
		name: "distinct series all stay",
		emit: func(e *emitter) {
			e.emit(tGauge, 1, "a", "b")
			e.emit(tGauge, 2, "b", "a")          // values swapped between labels
			e.emit(tGauge, 3, "a ", "b")         // a trailing space
			e.emit(tGauge, 4, "a\n", "b")        // a newline, written \n
			e.emit(tGauge, 5, `a\n`, "b")        // a backslash and n, written \\n
			e.emit(tGauge, 6, `a",group="b`, "") // an injected label stays a value
			e.emit(tGauge, 7, "a", `b",user="a`)
			e.emit(tGauge, 8, "", "")
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
		emit: func(e *emitter) {
			e.emitSummary(tSummary, 3, 1.5, []float64{0.5, 0.99}, []float64{0.1, 0.9}, "get")
			e.emitSummary(tSummary, 4, 2.5, []float64{0.5, 0.99}, []float64{0.2, 0.8}, "get")
			e.emitSummary(tSummary, 5, 3.5, []float64{0.5}, []float64{0.3}, "get\xff")
			e.emitSummary(tSummary, 6, 4.5, []float64{0.5}, []float64{0.4}, "get\xfe")
			e.emitSummary(tSummary, 7, 5.5, nil, nil, "set")
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
		emit: func(e *emitter) {
			e.emitHistogram(tHistogram, 5, 2.5, []float64{1, 2}, []uint64{1, 4}, "get")
			e.emitHistogram(tHistogram, 6, 3.5, []float64{1, 2, 4}, []uint64{2, 3, 6}, "get")
			e.emitHistogram(tHistogram, 1, 0.5, []float64{1}, []uint64{1}, "set")
			e.emitHistogram(tBare, 2, 0.25, []float64{0.5}, []uint64{2})
			e.emitHistogram(tBare, 3, 0.75, []float64{0.5}, []uint64{3})
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
		emit: func(e *emitter) {
			e.emitHistogram(tHistogram, 9, 1, []float64{2, 1, 2, math.Inf(1), math.NaN(), math.NaN(), 0, math.Copysign(0, -1)},
				[]uint64{1, 2, 3, 4, 5, 6, 7, 8}, "get")
			e.emitSummary(tSummary, 2, 1, []float64{0.5, 0.5, 0.9}, []float64{1, 2, 3}, "get")
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
		emit: func(e *emitter) {
			long := strings.Repeat("é", 150) // 300 bytes
			e.emit(tGauge, 1, long, "g")
			e.emit(tGauge, 2, long, "g")
		},
		want:    gaugeHead + `t_gauge{group="g",user="` + strings.Repeat("é", 150) + `"} 1` + "\n",
		dropped: 1, example: `t_gauge{group="g",user="` + strings.Repeat("é", 88),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmitter(&plan{keep: make([]bool, len(families))})
			tc.emit(e)
			if got := exposition(t, e); got != tc.want {
				t.Errorf("exposition:\n%s\nwant:\n%s", got, tc.want)
			}
			n, example := e.duplicates()
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
	e := newEmitter(&plan{keep: make([]bool, len(families))})
	e.emit(tGauge, 1, "a", "g")
	// File a's identity under b's hash, where b's lookup starts.
	h := maphash.String(seriesSeed, `t_gauge{group="g",user="b"}`)
	clear(e.slots)
	e.slots[h&uint64(len(e.slots)-1)] = 1
	e.ids[0].hash = h
	e.emit(tGauge, 2, "b", "g")
	e.emit(tGauge, 3, "b", "g")
	want := "# HELP t_gauge A gauge.\n# TYPE t_gauge gauge\n" +
		`t_gauge{group="g",user="a"} 1` + "\n" + `t_gauge{group="g",user="b"} 2` + "\n"
	if got := exposition(t, e); got != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}
	if n, _ := e.duplicates(); n != 1 {
		t.Errorf("%d dropped, want 1 (b's repeat)", n)
	}
}

// Many labelled series fill and grow the table, and each is still found.
func TestEmitterManySeries(t *testing.T) {
	e := newEmitter(&plan{keep: make([]bool, len(families))})
	for range 2 {
		for i := range 1000 {
			e.emit(tGauge, float64(i), strconv.Itoa(i), "g")
		}
	}
	if n, _ := e.duplicates(); n != 1000 || len(e.ids) != 1000 {
		t.Errorf("%d dropped and %d kept, want 1000 and 1000", n, len(e.ids))
	}
	if got := samples(t, e); len(got) != 1000 || got[`t_gauge{group="g",user="999"}`].value != 999 {
		t.Errorf("%d series parsed, want 1000", len(got))
	}
}

// A declared family filtered out by the module writes nothing and drops
// nothing; one kept is checked like a key rule's.
func TestEmitterDeclaredFamilies(t *testing.T) {
	p := &plan{keep: make([]bool, len(families))}
	e := newEmitter(p)
	e.emit(collectorSuccess, 1, "info")
	if got := exposition(t, e); got != "" {
		t.Errorf("a filtered family was written:\n%s", got)
	}
	p.keep[collectorSuccess.id] = true
	e = newEmitter(p)
	e.emit(collectorSuccess, 1, "info")
	e.emit(collectorSuccess, 0, "info")
	e.emit(collectorSuccess, 1, "info\xff")
	got := samples(t, e)
	if len(got) != 2 || got[`probe_collector_success{collector="info"}`].value != 1 {
		t.Errorf("got %v, want info=1 and info\uFFFD=1", got)
	}
	if n, example := e.duplicates(); n != 1 || example != `probe_collector_success{collector="info"}` {
		t.Errorf("duplicates() = %d, %q", n, example)
	}
}

// Every declared family has a valid name, valid label names that its type
// does not write itself, valid help, and sample names no other family
// writes: names reserved, so that no key rule takes one either.
func TestFamilyNamesValid(t *testing.T) {
	owner := map[string]string{}
	for _, f := range families {
		if !model.IsValidLegacyMetricName(f.name) {
			t.Errorf("%q is not a valid metric name", f.name)
		}
		if f.help == "" || !utf8.ValidString(f.help) {
			t.Errorf("%s: help %q is empty or not UTF-8", f.name, f.help)
		}
		seen := map[string]bool{}
		for _, l := range f.labels {
			switch {
			case !model.LabelName(l).IsValidLegacy(), strings.HasPrefix(l, "__"):
				t.Errorf("%s: %q is not a valid label name", f.name, l)
			case seen[l]:
				t.Errorf("%s: label %q twice", f.name, l)
			case l == "quantile" && f.typ == dto.MetricType_SUMMARY, l == "le" && f.typ == dto.MetricType_HISTOGRAM:
				t.Errorf("%s: label %q is the %s's own", f.name, l, f.typ)
			}
			seen[l] = true
		}
		for _, n := range f.sampleNames() {
			if o, ok := owner[n]; ok {
				t.Errorf("samples named %s come from %s and %s", n, o, f.name)
			}
			owner[n] = f.name
		}
	}
}

// BenchmarkEmitter is the encoder's share of a busy Redis's probe: about a
// thousand lines, most of them labelled by command, into the exposition.
func BenchmarkEmitter(b *testing.B) {
	p := &plan{keep: make([]bool, len(families))}
	for i := range p.keep {
		p.keep[i] = true
	}
	var bare []*family
	for _, f := range families {
		if len(f.labels) == 0 && f.typ != dto.MetricType_SUMMARY && f.typ != dto.MetricType_HISTOGRAM {
			bare = append(bare, f)
		}
	}
	cmds := make([]string, 60)
	for i := range cmds {
		cmds[i] = "command|sub" + strconv.Itoa(i)
	}
	qs, bounds := []float64{0.5, 0.99, 0.999}, []float64{1e-6, 1e-5, 1e-4}
	b.ReportAllocs()
	for b.Loop() {
		e := newEmitter(p)
		for i, f := range bare {
			e.emit(f, float64(i))
		}
		for i, cmd := range cmds {
			v := float64(i)
			e.emit(commandCalls, v, cmd)
			e.emit(commandDuration, v/1e6, cmd)
			e.emit(commandRejected, 0, cmd)
			e.emit(commandFailed, 0, cmd)
			e.emitSummary(commandLatency, uint64(i), v/1e6, qs, []float64{v, v, v}, cmd)
			e.emitHistogram(commandLatencyHistogram, uint64(i), v/1e6, bounds, []uint64{0, 1, 2}, cmd)
		}
		if _, err := e.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// Two consumer groups of a real stream whose names differ only in bytes
// that are not UTF-8 are written alike: the answer keeps the first and the
// probe's log says what it dropped.
func TestRepeatedSeriesFromRedisDropped(t *testing.T) {
	s := redistest.StartRedis(t)
	c := s.Client(t)
	ctx := context.Background()
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "orders", Values: []any{"n", 1}}).Err(); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"workers\xff", "workers\xfe"} {
		if err := c.XGroupCreate(ctx, "orders", g, "0").Err(); err != nil {
			t.Fatal(err)
		}
	}
	h := newTestHandler(t, "modules:\n  default:\n    timeout: 2s\n    keys:\n      - {metric: shop_orders, key: orders, measure: stream}\n")
	body := serveProbe(h, url.Values{"target": {s.Addr()}, "debug": {"true"}}).Body.String()
	metrics := body[strings.Index(body, "Metrics that would have been returned:"):]
	if n := strings.Count(metrics, "shop_orders_group_lag{"); n != 1 {
		t.Errorf("%d shop_orders_group_lag series, want 1:\n%s", n, metrics)
	}
	if !strings.Contains(body, `msg="Dropped series that repeat an earlier one's name and labels"`) || !strings.Contains(body, "count=") {
		t.Errorf("the probe log does not say what it dropped:\n%s", body)
	}
	if !strings.Contains(metrics, "\nprobe_success 1\n") {
		t.Errorf("want probe_success 1:\n%s", metrics)
	}
}

// A label value past maxLabelBytes is cut at a character and ends in "…".
func TestLongLabelValueCut(t *testing.T) {
	f := ruleFamily("t_long_label", "Help.", dto.MetricType_GAUGE, "v")
	e := newEmitter(&plan{keep: make([]bool, len(families))})
	e.emit(f, 1, strings.Repeat("a", maxLabelBytes-1)+"é"+strings.Repeat("b", 5000))
	var b bytes.Buffer
	if _, err := e.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	want := `t_long_label{v="` + strings.Repeat("a", maxLabelBytes-1) + `…"} 1`
	if !strings.Contains(b.String(), want+"\n") {
		t.Errorf("exposition lacks the cut series %q…:\n%.300s", want[:40], b.String())
	}
}
