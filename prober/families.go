package prober

import (
	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
)

// declared is every family the collectors and rules declare: the names
// no key rule may take, and the rows of docs/metrics.md.
var declared exposition.Set

func gauge(name, help string, labels ...string) *exposition.Family {
	return declared.Gauge(name, help, labels...)
}

func counter(name, help string, labels ...string) *exposition.Family {
	return declared.Counter(name, help, labels...)
}

func summary(name, help string, labels ...string) *exposition.Family {
	return declared.Summary(name, help, labels...)
}

func histogram(name, help string, labels ...string) *exposition.Family {
	return declared.Histogram(name, help, labels...)
}
