package prober

import (
	"strconv"
	"strings"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/internal/info"
)

// infoMetric maps one INFO field to a metric family.
type infoMetric struct {
	key   string // the INFO field
	f     *exposition.Family
	scale float64 // multiplies the value into base units: 1e-3 for ms, 1e-6 for µs
	ok    bool    // the field is a status word: "ok" is 1, anything else 0
}

// infoTable is a collector's INFO fields, looked up by key.
type infoTable map[string]infoMetric

func newInfoTable(ms ...infoMetric) infoTable {
	t := make(infoTable, len(ms))
	for _, m := range ms {
		t[m.key] = m
	}
	return t
}

func (t infoTable) families() []*exposition.Family {
	fs := make([]*exposition.Family, 0, len(t))
	for _, m := range t {
		fs = append(fs, m.f)
	}
	return fs
}

// emit sends each INFO field the table names. A field INFO lacks (an older
// or newer Redis) gives no series; one that does not parse is skipped.
func (t infoTable) emit(fields []info.Field, e *exposition.Emitter) {
	for _, fl := range fields {
		m, ok := t[fl.Key]
		if !ok {
			continue
		}
		if m.ok {
			e.Emit(m.f, boolValue(fl.Value == "ok"))
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSuffix(fl.Value, "%"), 64)
		if err != nil {
			continue
		}
		if m.scale != 0 {
			v *= m.scale
		}
		e.Emit(m.f, v)
	}
}

// eachStat calls fn for each numeric k=v pair of the INFO fields of
// section whose key starts with prefix, naming the field by the rest of its
// key: "cmdstat_get:calls=1,usec=4" gives ("get", "calls", 1) and
// ("get", "usec", 4).
func eachStat(fields []info.Field, section, prefix string, fn func(name, k string, v float64)) {
	for _, f := range fields {
		name, ok := strings.CutPrefix(f.Key, prefix)
		if !ok || f.Section != section {
			continue
		}
		info.Pairs(f.Value, func(k, v string) {
			if n, err := strconv.ParseFloat(v, 64); err == nil {
				fn(name, k, n)
			}
		})
	}
}

// Constructors keep the tables one line per field.
func infoGauge(key, name, help string) infoMetric {
	return infoMetric{key: key, f: gauge(name, help)}
}

func infoCounter(key, name, help string) infoMetric {
	return infoMetric{key: key, f: counter(name, help)}
}

func infoScaled(m infoMetric, scale float64) infoMetric { m.scale = scale; return m }

// was records redis_exporter's name for the metric, for docs/metrics.md.
func (m infoMetric) was(name string) infoMetric { m.f.Was(name); return m }

func infoStatus(key, name, help string) infoMetric {
	return infoMetric{key: key, f: gauge(name, help), ok: true}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
