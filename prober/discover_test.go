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

// clusterWant is the lines groupLines gives for cl's nodes at their
// addresses, labelled with module.
func clusterWant(cl *redistest.Cluster, module string) []string {
	var want []string
	for _, m := range cl.Masters() {
		want = append(want, m.Addr()+" master "+module)
	}
	for _, r := range cl.Replicas() {
		want = append(want, r.Addr()+" slave "+module)
	}
	slices.Sort(want)
	return want
}

func TestDiscoverClusterSeeds(t *testing.T) {
	cl := redistest.StartCluster(t, 3, 1)
	h := newTestHandler(t, "modules:\n  default:\n    timeout: 2s\n")
	want := clusterWant(cl, "default")
	dead1 := fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))
	dead2 := fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))
	standalone := redistest.StartRedis(t).Addr()
	silent := redistest.StartHostile(t, redistest.Silent)

	// The first seed that answers is used: a dead one, a Redis that is no
	// cluster node, one that never answers (it gets its share of the
	// deadline, not all of it), a repeated seed asked once.
	for _, seeds := range [][]string{
		{cl.Nodes[0].Addr()},
		{dead1, cl.Nodes[1].Addr()},
		{dead1, standalone, cl.Replicas()[0].Addr()},
		{silent, cl.Nodes[2].Addr()},
		{dead1, dead1, dead2, cl.Nodes[0].Addr(), dead2},
	} {
		start := time.Now()
		code, groups, body := discoverGroups(t, h.ServeDiscoverCluster, url.Values{"target": seeds})
		if code != http.StatusOK {
			t.Errorf("seeds %v: status %d: %s", seeds, code, body)
			continue
		}
		if got := groupLines(groups); !slices.Equal(got, want) {
			t.Errorf("seeds %v: discovered\n%s\nwant\n%s", seeds, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if took := time.Since(start); took > 1900*time.Millisecond {
			t.Errorf("seeds %v: took %s, more than the deadline", seeds, took)
		}
	}

	// No seed answers: 502 naming each seed, in order, with its reason.
	code, _, body := discoverGroups(t, h.ServeDiscoverCluster, url.Values{"target": {dead1, standalone, dead2}})
	wantBody := "discovering from " + dead1 + ": CLUSTER NODES: dial tcp " + dead1 + ": connect: connection refused; " +
		"discovering from " + standalone + ": CLUSTER NODES: ERR This instance has cluster support disabled; " +
		"discovering from " + dead2 + ": CLUSTER NODES: dial tcp " + dead2 + ": connect: connection refused\n"
	if code != http.StatusBadGateway || body != wantBody {
		t.Errorf("all seeds failing: %d\n%q\nwant 502\n%q", code, body, wantBody)
	}
	// The last seed has what is left of the deadline once the others failed.
	start := time.Now()
	code, _, body = discoverGroups(t, h.ServeDiscoverCluster, url.Values{"target": {dead1, silent}})
	took := time.Since(start)
	wantBody = "discovering from " + dead1 + ": CLUSTER NODES: dial tcp " + dead1 + ": connect: connection refused; " +
		"discovering from " + silent + ": CLUSTER NODES: i/o timeout\n"
	if code != http.StatusBadGateway || body != wantBody || took < 1500*time.Millisecond || took > 2500*time.Millisecond {
		t.Errorf("a dead seed, then a silent one: %d in %s\n%q\nwant 502 in about 2s\n%q", code, took, body, wantBody)
	}
}

func TestDiscoverSeedChecks(t *testing.T) {
	h := newTestHandler(t, `
auths:
  narrow:
    password: unused-here
    allowed_targets: ['127.0.0.1:7000']
modules:
  default:
    timeout: 2s
    allowed_targets: ['127.0.0.0/8']
`)
	many := make([]string, 17)
	for i := range many {
		many[i] = fmt.Sprintf("127.0.0.1:%d", 7000+i)
	}
	for _, tc := range []struct {
		params url.Values
		code   int
		body   string
	}{
		{url.Values{"target": many}, http.StatusBadRequest, "17 target= seeds: at most 16\n"},
		{url.Values{"target": {"127.0.0.1:7000", "10.0.0.1:7000"}}, http.StatusForbidden,
			"target 10.0.0.1:7000 is not in module \"default\"'s allowed_targets\n"},
		{url.Values{"target": {"127.0.0.1:7000", "127.0.0.1:7001"}, "auth": {"narrow"}}, http.StatusForbidden,
			"target 127.0.0.1:7001 is not in auth \"narrow\"'s allowed_targets\n"},
		{url.Values{"target": {"127.0.0.1:7000", "127.0.0.1:99999"}}, http.StatusBadRequest,
			"target= seed 2: invalid port \"99999\" in target\n"},
		{url.Values{"target": {"127.0.0.1:7000", ""}}, http.StatusBadRequest,
			"target= seed 2: missing target parameter\n"},
		{url.Values{"target": {"127.0.0.1:7000", "redis://u:p@127.0.0.1:7001"}}, http.StatusBadRequest,
			"target= seed 2: target must not carry credentials: name an entry of the config's auths: with auth= instead\n"},
		{url.Values{"target": {"10.0.0.1:7000", "127.0.0.1:7000"}}, http.StatusForbidden,
			"target 10.0.0.1:7000 is not in module \"default\"'s allowed_targets\n"},
	} {
		for _, serve := range []func(http.ResponseWriter, *http.Request){h.ServeDiscoverCluster, h.ServeDiscoverSentinel} {
			code, _, body := discoverGroups(t, serve, tc.params)
			if code != tc.code || body != tc.body {
				t.Errorf("%s: %d %q, want %d %q", tc.params.Encode(), code, body, tc.code, tc.body)
			}
		}
	}
	// Any method but GET is refused before a seed is read.
	w := httptest.NewRecorder()
	h.ServeDiscoverCluster(w, httptest.NewRequest(http.MethodPost, "/discover/cluster?target=127.0.0.1:7000&target=10.0.0.1:7000", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d %q", w.Code, w.Body.String())
	}
}

func TestDiscoverClusterHostnames(t *testing.T) {
	cl := redistest.StartCluster(t, 3, 1)
	h := newTestHandler(t, "modules:\n  default:\n    timeout: 2s\n")
	// Every node but the last announces a hostname.
	names := map[string]string{}
	for i, n := range cl.Nodes[:len(cl.Nodes)-1] {
		names[n.Addr()] = fmt.Sprintf("node%d.redis.test", i)
		if err := n.Client(t).ConfigSet(context.Background(), "cluster-announce-hostname", names[n.Addr()]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	seed := cl.Nodes[len(cl.Nodes)-1]
	redistest.WaitFor(t, 10*time.Second, func() error {
		text, err := seed.Client(t).ClusterNodes(context.Background()).Result()
		if err != nil {
			return err
		}
		if c := strings.Count(text, ".redis.test "); c != len(names) {
			return fmt.Errorf("%d hostnames in CLUSTER NODES:\n%s", c, text)
		}
		return nil
	}, nil)

	code, groups, body := discoverGroups(t, h.ServeDiscoverCluster, url.Values{"target": {seed.Addr()}})
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var want []string
	for _, n := range cl.Nodes {
		role := "master"
		if cl.MasterOf(n) != nil {
			role = "slave"
		}
		if name := names[n.Addr()]; name != "" {
			want = append(want, fmt.Sprintf("%s:%d %s default 127.0.0.1", name, n.Port, role))
		} else {
			want = append(want, n.Addr()+" "+role+" default ")
		}
	}
	slices.Sort(want)
	if got := groupLines(groups, nodeIPLabel); !slices.Equal(got, want) {
		t.Errorf("discovered\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, g := range groups {
		if _, ok := g.Labels[nodeIPLabel]; ok != strings.Contains(g.Targets[0], ".redis.test:") {
			t.Errorf("%v: labels %v", g.Targets, g.Labels)
		}
	}
	if !strings.Contains(body, `"__meta_redis_cluster_node_ip":"127.0.0.1"`) {
		t.Errorf("no IP label in %s", body)
	}

	// Probes by a module whose allowed_targets admit the IPs and not the
	// names would be refused: such nodes are discovered by their IP.
	byIP := newTestHandler(t, "modules:\n  default:\n    timeout: 2s\n    allowed_targets: [127.0.0.0/8]\n")
	code, groups, body = discoverGroups(t, byIP.ServeDiscoverCluster, url.Values{"target": {seed.Addr()}})
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	for _, g := range groups {
		if !strings.HasPrefix(g.Targets[0], "127.0.0.1:") {
			t.Errorf("discovered %v, which the module's allowed_targets refuse", g.Targets)
		}
	}
}

func TestDiscoverHostnameValid(t *testing.T) {
	for h, want := range map[string]bool{
		"node-0.redis.svc.cluster.local": true,
		"Redis_1":                        true,
		"":                               false,
		"a:b":                            false,
		"a/b":                            false,
		"a b":                            false,
		"ä":                              false,
		strings.Repeat("a", 253):         true,
		strings.Repeat("a", 254):         false,
	} {
		if got := validHostname(h); got != want {
			t.Errorf("validHostname(%q) = %v", h, got)
		}
	}
}
