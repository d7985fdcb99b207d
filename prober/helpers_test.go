package prober

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/conn"
	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/internal/target"
	"github.com/redis-probe/redis_probe_exporter/modules"

	"github.com/redis-probe/redis_probe_exporter/internal/exptest"
)

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
	res := Probe(ctx, client, m, nil, log.NewNopLogger())
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

// expectExact is expect, and fails besides on every series of the selected
// families that want does not name, so that an unwanted series fails the
// test. A selector is a declared family's name, which selects its series (a
// summary's or histogram's _sum, _count, quantile and _bucket series
// included), or a sample name such as redis_commands_latency_seconds_count,
// which selects that name alone. A NaN in want asserts that the series is
// there, whatever its value: for values that differ from run to run.
func expectExact(t *testing.T, got map[string]sample, want map[string]float64, selectors ...string) {
	t.Helper()
	if len(selectors) == 0 {
		t.Fatal("expectExact: no family selected")
	}
	names := map[string]bool{}
	for _, s := range selectors {
		names[s] = true
		f := declaredFamily(s)
		if f == nil {
			continue // a sample name, or a family of a key rule
		}
		switch f.Type() {
		case dto.MetricType_SUMMARY:
			names[s+"_sum"], names[s+"_count"] = true, true
		case dto.MetricType_HISTOGRAM:
			names[s+"_sum"], names[s+"_count"], names[s+"_bucket"] = true, true, true
		}
	}
	expect(t, got, want)
	for _, k := range slices.Sorted(maps.Keys(got)) {
		name, _, _ := strings.Cut(k, "{")
		if _, wanted := want[k]; names[name] && !wanted {
			t.Errorf("unexpected %s = %v", k, got[k].Value)
		}
	}
}

// declaredFamily is the declared family called name, or nil.
func declaredFamily(name string) *exposition.Family {
	for _, f := range declared.Families() {
		if f.Name() == name {
			return f
		}
	}
	return nil
}

// familiesOf is the names of the families the collector called name
// declares.
func familiesOf(t testing.TB, name string) []string {
	t.Helper()
	for _, c := range collectors {
		if c.name == name {
			var out []string
			for _, f := range c.families {
				out = append(out, f.Name())
			}
			return out
		}
	}
	t.Fatalf("no collector %s", name)
	return nil
}

// collectorNamed is the registered collector called name.
func collectorNamed(t testing.TB, name string) *collector {
	t.Helper()
	i := slices.IndexFunc(collectors, func(c *collector) bool { return c.name == name })
	if i < 0 {
		t.Fatalf("no collector %s", name)
	}
	return collectors[i]
}

// probeText probes addr with module m through a fresh pool and returns the
// exposition. It takes no testing.T, so a goroutine may call it: a test
// reads its answers on its own goroutine (t.Fatal must not be called
// elsewhere).
func probeText(addr string, m *modules.Module, auth *modules.Auth) (text *bytes.Buffer, ok bool, err error) {
	tg, err := target.Parse(addr)
	if err != nil {
		return nil, false, err
	}
	pool := conn.NewPool(4, time.Minute, time.Hour)
	defer pool.Close()
	client, release := pool.Get(tg, "test", connAuth(auth, tg), conn.Limits{}, 1)
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(m.Timeout))
	defer cancel()
	res := Probe(ctx, client, m, nil, log.NewNopLogger())
	var buf bytes.Buffer
	if _, err := res.Metrics.WriteTo(&buf); err != nil {
		return nil, false, fmt.Errorf("writing the exposition of %s: %w", addr, err)
	}
	return &buf, res.Success, nil
}

// readRESP reads one RESP2 reply as go-redis's Do returns it on a
// connection with Protocol 2: an array as []any, a bulk or simple string as
// string, an integer as int64, a null as nil. It reads replies recorded
// from a real Redis in testdata.
func readRESP(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, fmt.Errorf("empty RESP line")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return nil, fmt.Errorf("error reply %q", line[1:])
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '$', '*':
		n, err := strconv.Atoi(line[1:])
		switch {
		case err != nil:
			return nil, fmt.Errorf("RESP length %q: %w", line, err)
		case n < 0:
			return nil, nil
		case line[0] == '$':
			b := make([]byte, n+2)
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, err
			}
			return string(b[:n]), nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readRESP(r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected RESP line %q", line)
}

// recordedReplies reads the RESP2 replies recorded in testdata/file, in
// the order they were sent.
func recordedReplies(t testing.TB, file string) []any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(bytes.NewReader(b))
	var out []any
	for {
		if _, err := r.Peek(1); err == io.EOF {
			return out
		}
		v, err := readRESP(r)
		if err != nil {
			t.Fatalf("%s: reply %d: %v", file, len(out)+1, err)
		}
		out = append(out, v)
	}
}

// sample and the helpers below read a result back through exptest.
type sample = exptest.Sample

var (
	expect        = exptest.Expect
	promtoolCheck = exptest.PromtoolCheck
)

func samples(t testing.TB, result io.WriterTo) map[string]sample {
	t.Helper()
	return exptest.Samples(t, exptest.Written(t, result))
}

func gather(t testing.TB, result io.WriterTo) []*dto.MetricFamily {
	t.Helper()
	return exptest.Gather(t, exptest.Written(t, result))
}
