package prober

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis-probe/redis_probe_exporter/internal/info"
	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

func discoverGroups(t *testing.T, serve func(http.ResponseWriter, *http.Request), params url.Values) (int, []targetGroup, string) {
	t.Helper()
	w := httptest.NewRecorder()
	serve(w, httptest.NewRequest(http.MethodGet, "/discover?"+params.Encode(), nil))
	body := w.Body.String()
	if w.Code != http.StatusOK {
		return w.Code, nil, body
	}
	var groups []targetGroup
	if err := json.Unmarshal([]byte(body), &groups); err != nil {
		t.Fatalf("not http_sd JSON: %v\n%s", err, body)
	}
	return w.Code, groups, body
}

// summary turns groups into "target role module" lines, sorted.
func groupLines(groups []targetGroup, extra ...string) []string {
	var out []string
	for _, g := range groups {
		line := strings.Join(g.Targets, ",") + " " + g.Labels["role"] + " " + g.Labels["module"]
		for _, k := range extra {
			line += " " + g.Labels[k]
		}
		out = append(out, line)
	}
	slices.Sort(out)
	return out
}

func TestDiscoverCluster(t *testing.T) {
	cl := redistest.StartCluster(t, 3, 1)
	h := newTestHandler(t, "modules:\n  default:\n    timeout: 2s\n  cluster:\n    collectors: {cluster: true}\n")
	code, groups, body := discoverGroups(t, h.ServeDiscoverCluster, url.Values{"target": {cl.Masters()[0].Addr()}, "module": {"cluster"}})
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var want []string
	for _, m := range cl.Masters() {
		want = append(want, m.Addr()+" master cluster")
	}
	for _, r := range cl.Replicas() {
		want = append(want, r.Addr()+" slave cluster")
	}
	slices.Sort(want)
	if got := groupLines(groups); !slices.Equal(got, want) {
		t.Errorf("discovered\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, g := range groups {
		if len(g.Labels["cluster_node_id"]) != 40 {
			t.Errorf("%v: cluster_node_id %q", g.Targets, g.Labels["cluster_node_id"])
		}
		if _, ok := g.Labels["auth"]; ok {
			t.Errorf("%v: auth label without an auth", g.Targets)
		}
	}

	// target_module labels the nodes for another module than the seed's.
	_, groups, _ = discoverGroups(t, h.ServeDiscoverCluster, url.Values{"target": {cl.Replicas()[0].Addr()}, "target_module": {"default"}})
	if len(groups) != 6 || groups[0].Labels["module"] != "default" {
		t.Errorf("from a replica with target_module=default: %v", groups)
	}

	// A standalone Redis is no cluster seed; a closed port is unreachable.
	s := redistest.StartRedis(t)
	for _, seed := range []string{s.Addr(), fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))} {
		code, _, body := discoverGroups(t, h.ServeDiscoverCluster, url.Values{"target": {seed}})
		if code != http.StatusBadGateway || !strings.Contains(body, "discovering from "+seed) || strings.Count(strings.TrimSpace(body), "\n") != 0 {
			t.Errorf("seed %s: %d %q, want 502 with a one-line reason", seed, code, body)
		}
	}
}

func TestDiscoverSentinel(t *testing.T) {
	master := redistest.StartRedis(t, "--repl-diskless-sync-delay", "0")
	replica := redistest.StartRedis(t, "--replicaof", "127.0.0.1", fmt.Sprint(master.Port))
	redistest.WaitFor(t, 10*time.Second, func() error {
		text, err := replica.Client(t).Info(context.Background(), "replication").Result()
		if err != nil {
			return err
		}
		if v, _ := info.Get(info.Parse(text), "master_link_status"); v != "up" {
			return fmt.Errorf("link %s", v)
		}
		return nil
	}, nil)
	sentinel := redistest.StartSentinel(t, "mym", master, 1)
	h := newTestHandler(t, `
auths:
  data:
    password: unused-here
modules:
  default:
    timeout: 2s
  sentinel:
    collectors: {sentinel: true, config: false, slowlog: false, latency: false, modules: false}
`)
	code, groups, body := discoverGroups(t, h.ServeDiscoverSentinel, url.Values{
		"target": {sentinel.Addr()}, "module": {"sentinel"}, "target_module": {"default"}, "target_auth": {"data"},
	})
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	want := []string{
		master.Addr() + " master default mym data",
		replica.Addr() + " slave default mym data",
	}
	slices.Sort(want)
	if got := groupLines(groups, "master_name", "auth"); !slices.Equal(got, want) {
		t.Errorf("discovered %v, want %v", got, want)
	}
	if strings.Contains(body, "unused-here") {
		t.Error("a secret reached the discovery answer")
	}

	// A plain Redis is no Sentinel: 502 with the reason.
	code, _, body = discoverGroups(t, h.ServeDiscoverSentinel, url.Values{"target": {master.Addr()}})
	if code != http.StatusBadGateway || !strings.Contains(body, "SENTINEL MASTERS") {
		t.Errorf("plain Redis as a seed: %d %q", code, body)
	}
	// The seed follows the module's allowed_targets like a probe.
	h = newTestHandler(t, "modules:\n  default:\n    allowed_targets: ['10.0.0.0/8']\n")
	code, _, body = discoverGroups(t, h.ServeDiscoverSentinel, url.Values{"target": {sentinel.Addr()}})
	if code != http.StatusForbidden || !strings.Contains(body, "allowed_targets") {
		t.Errorf("seed outside allowed_targets: %d %q", code, body)
	}
}
