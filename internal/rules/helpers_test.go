package rules

import (
	"context"
	"io"
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

// testSet stands for the program's declared families: the rules' status
// alone, so that no rule may take a status name.
var (
	testSet    exposition.Set
	testStatus = Declare(&testSet)
	catalogue  = modules.Catalogue{Reserved: testSet.Reserved}
)

func mustModule(t testing.TB, yamlText string) *modules.Module {
	t.Helper()
	c, err := catalogue.Parse([]byte("modules:\n  m:\n"+yamlText), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	return c.Modules["m"]
}

// keepStatus selects the status families, as a probe of a module with
// rules does.
func keepStatus() *exposition.Selection {
	sel := testSet.Select()
	for _, f := range testStatus.Families() {
		sel.Keep(f, true)
	}
	return sel
}

// runRules runs m's rules on addr through a fresh pool.
func runRules(t testing.TB, addr string, m *modules.Module, auth conn.Auth) (map[string]sample, map[string]dto.MetricType, bool) {
	t.Helper()
	return runClient(t, poolClient(t, addr, auth), m)
}

// poolClient is a client to addr from a pool of its own, as probes get
// theirs: RESP2, every connection guarded. The test's cleanup closes it.
func poolClient(t testing.TB, addr string, auth conn.Auth) *redis.Client {
	t.Helper()
	tg, err := target.Parse(addr)
	if err != nil {
		t.Fatal(err)
	}
	pool := conn.NewPool(4, time.Minute, time.Hour)
	client, release := pool.Get(tg, "test", auth, conn.Limits{}, 1)
	t.Cleanup(func() {
		release()
		pool.Close()
	})
	return client
}

// runClient runs m's rules through client as a probe does: within the
// module's timeout, starting no round trip in its last tenth. It returns
// the series, the type of each family, and whether no reply was refused.
func runClient(t testing.TB, client *redis.Client, m *modules.Module) (map[string]sample, map[string]dto.MetricType, bool) {
	t.Helper()
	text, ok := expose(t, client, m)
	mfs := exptest.Gather(t, strings.NewReader(text))
	types := map[string]dto.MetricType{}
	for _, mf := range mfs {
		if _, dup := types[mf.GetName()]; dup {
			t.Errorf("family %s gathered twice", mf.GetName())
		}
		types[mf.GetName()] = mf.GetType()
	}
	return samples(t, strings.NewReader(text)), types, ok
}

// expose is the exposition text of m's rules run through client, and
// whether no reply was refused.
func expose(t testing.TB, client *redis.Client, m *modules.Module) (string, bool) {
	t.Helper()
	timeout := time.Duration(m.Timeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r := testStatus.Compile(m.Keys, m.Scripts)
	e := exposition.NewEmitter(keepStatus())
	broken := r.Run(ctx, client, Options{Deadline: time.Now().Add(timeout - timeout/10)}, e, log.NewNopLogger())
	if broken != nil {
		t.Logf("a reply was refused: %v", broken)
	}
	var b strings.Builder
	if _, err := e.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.String(), broken == nil
}

// sample and the helpers below read an exposition back through exptest.
type sample = exptest.Sample

var (
	expect        = exptest.Expect
	promtoolCheck = exptest.PromtoolCheck
)

// samples reads text's series; rules make gauges and counters only.
func samples(t testing.TB, text io.Reader) map[string]sample {
	t.Helper()
	out := exptest.Samples(t, text)
	for k, s := range out {
		if s.Typ != dto.MetricType_GAUGE && s.Typ != dto.MetricType_COUNTER {
			t.Errorf("%s is neither a gauge nor a counter", k)
		}
	}
	return out
}
