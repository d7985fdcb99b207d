package prober

import (
	"net/url"
	"strings"
	"testing"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// A replica probed with a module that expects a master: Redis is up, the
// probe fails, and the log and probe_assertion_success say which
// assertion. The same replica passes a replica module's assertions, and
// its master passes min_replicas.
func TestAssertions(t *testing.T) {
	master := redistest.StartRedis(t, "--repl-diskless-sync-delay", "0")
	replica := startReplica(t, master)
	h := newTestHandler(t, `modules:
  primary:
    timeout: 2s
    expect: {role: master, loading: false, min_replicas: 1}
  secondary:
    timeout: 2s
    expect: {role: replica, master_link: up, loading: false}
  clustered:
    timeout: 2s
    expect: {cluster_state: ok}
`)
	probe := func(addr, module string) (map[string]sample, string) {
		t.Helper()
		w := serveProbe(h, url.Values{"target": {addr}, "module": {module}, "debug": {"true"}})
		body := w.Body.String()
		metrics := body[strings.Index(body, "Metrics that would have been returned:\n")+len("Metrics that would have been returned:\n"):]
		metrics = metrics[:strings.Index(metrics, "\n\nModule configuration:")]
		return samples(t, strings.NewReader(metrics)), body
	}

	got, log := probe(replica.Addr(), "primary")
	expectExact(t, got, map[string]float64{
		`probe_assertion_success{assertion="role"}`:         0,
		`probe_assertion_success{assertion="loading"}`:      1,
		`probe_assertion_success{assertion="min_replicas"}`: 0,
	}, "probe_assertion_success")
	expect(t, got, map[string]float64{"probe_success": 0, "redis_up": 1})
	for _, want := range []string{`msg="Assertion failed" assertion=role want=master got=replica`, `msg="Assertion failed" assertion=min_replicas`} {
		if !strings.Contains(log, want) {
			t.Errorf("the probe log lacks %s:\n%s", want, log)
		}
	}

	got, _ = probe(replica.Addr(), "secondary")
	expect(t, got, map[string]float64{
		"probe_success": 1, `probe_assertion_success{assertion="role"}`: 1, `probe_assertion_success{assertion="master_link"}`: 1,
	})
	got, _ = probe(master.Addr(), "primary")
	expect(t, got, map[string]float64{"probe_success": 1, `probe_assertion_success{assertion="min_replicas"}`: 1})

	// Not a cluster node: CLUSTER INFO is refused, so cluster_state fails.
	got, log = probe(master.Addr(), "clustered")
	expect(t, got, map[string]float64{"probe_success": 0, "redis_up": 1, `probe_assertion_success{assertion="cluster_state"}`: 0})
	if !strings.Contains(log, "assertion=cluster_state want=ok err=") {
		t.Errorf("the probe log does not say why cluster_state failed:\n%s", log)
	}
}

// A module without expect: exports no assertion and its probe_success is
// PING's answer alone.
func TestNoAssertions(t *testing.T) {
	s := redistest.StartRedis(t, "--replicaof", "127.0.0.1", "1")
	got, ok := probeTarget(t, s.Addr(), mustModule(t, "    timeout: 2s\n"), nil)
	if !ok || got["probe_success"].Value != 1 {
		t.Fatal("probe failed")
	}
	for k := range got {
		if strings.HasPrefix(k, "probe_assertion_success") {
			t.Errorf("a module without expect: exports %s", k)
		}
	}
}
