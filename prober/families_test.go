package prober

import (
	"context"
	"io"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// Every declared family has a valid name, valid label names that its type
// does not write itself, valid help, and sample names no other family
// writes: names reserved, so that no key rule takes one either.
func TestFamilyNamesValid(t *testing.T) {
	owner := map[string]string{}
	for _, f := range declared.Families() {
		if !model.LegacyValidation.IsValidMetricName(f.Name()) {
			t.Errorf("%q is not a valid metric name", f.Name())
		}
		if f.Help() == "" || !utf8.ValidString(f.Help()) {
			t.Errorf("%s: help %q is empty or not UTF-8", f.Name(), f.Help())
		}
		seen := map[string]bool{}
		for _, l := range f.Labels() {
			switch {
			case !model.LegacyValidation.IsValidLabelName(l), strings.HasPrefix(l, "__"):
				t.Errorf("%s: %q is not a valid label name", f.Name(), l)
			case seen[l]:
				t.Errorf("%s: label %q twice", f.Name(), l)
			case l == "quantile" && f.Type() == dto.MetricType_SUMMARY, l == "le" && f.Type() == dto.MetricType_HISTOGRAM:
				t.Errorf("%s: label %q is the %s's own", f.Name(), l, f.Type())
			}
			seen[l] = true
		}
		for _, n := range f.ReservedNames() {
			if o, ok := owner[n]; ok {
				t.Errorf("the name %s is reserved by %s and %s", n, o, f.Name())
			}
			owner[n] = f.Name()
			if !declared.Reserved(n) {
				t.Errorf("%s's name %s is not reserved", f.Name(), n)
			}
		}
	}
}

// BenchmarkEmitter is the encoder's share of a busy Redis's probe: about a
// thousand lines, most of them labelled by command, into the exposition.
func BenchmarkEmitter(b *testing.B) {
	sel := declared.Select()
	var bare []*exposition.Family
	for _, f := range declared.Families() {
		sel.Keep(f, true)
		if len(f.Labels()) == 0 && f.Type() != dto.MetricType_SUMMARY && f.Type() != dto.MetricType_HISTOGRAM {
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
		e := exposition.NewEmitter(sel)
		for i, f := range bare {
			e.Emit(f, float64(i))
		}
		for i, cmd := range cmds {
			v := float64(i)
			e.Emit(commandCalls, v, cmd)
			e.Emit(commandDuration, v/1e6, cmd)
			e.Emit(commandRejected, 0, cmd)
			e.Emit(commandFailed, 0, cmd)
			e.EmitSummary(commandLatency, uint64(i), v/1e6, qs, []float64{v, v, v}, cmd)
			e.EmitHistogram(commandLatencyHistogram, uint64(i), v/1e6, bounds, []uint64{0, 1, 2}, cmd)
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

// A module's plan is compiled when its config loads and kept with it: a
// probe of a module of the new config never sees the old one's.
func TestPlanBelongsToConfig(t *testing.T) {
	const cfg = "modules:\n  m:\n    timeout: 1s\n"
	a, err := Catalogue().Parse([]byte(cfg), "a.yml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Catalogue().Parse([]byte(cfg), "b.yml")
	if err != nil {
		t.Fatal(err)
	}
	pa, ok := a.Modules["m"].Plan().(*plan)
	if !ok || planFor(a.Modules["m"]) != pa {
		t.Fatalf("the plan is not compiled at load: %T", a.Modules["m"].Plan())
	}
	if planFor(b.Modules["m"]) == pa {
		t.Error("two loads share one plan")
	}
}
