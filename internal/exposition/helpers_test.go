package exposition

import (
	"io"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/redis-probe/redis_probe_exporter/internal/exptest"
)

// testSet declares the families the tests treat as a program's own.
var (
	testSet          Set
	collectorSuccess = testSet.Gauge("probe_collector_success", "Whether the collector's Redis commands succeeded and their replies parsed.", "collector")
)

// sample and the helpers below read a result back through exptest.
type sample = exptest.Sample

var promtoolCheck = exptest.PromtoolCheck

func samples(t testing.TB, result io.WriterTo) map[string]sample {
	t.Helper()
	return exptest.Samples(t, exptest.Written(t, result))
}

func gather(t testing.TB, result io.WriterTo) []*dto.MetricFamily {
	t.Helper()
	return exptest.Gather(t, exptest.Written(t, result))
}
