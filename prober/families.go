package prober

import (
	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/internal/rules"
)

// declared is every family the collectors and rules declare: the names
// no key rule may take, and the rows of docs/metrics.md.
var declared exposition.Set

// The status every key and script rule reports beside its own metric
// (internal/rules), declared with the collectors' families.
var (
	ruleStatus   = rules.Declare(&declared)
	ruleFamilies = ruleStatus.Families()
)

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
