package prober

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

const clusterModule = "    timeout: 2s\n    collectors: {cluster: true}\n"

// clusterNodeID is the node's CLUSTER MYID.
func clusterNodeID(t *testing.T, s *redistest.Server) string {
	t.Helper()
	id, err := s.Client(t).Do(context.Background(), "CLUSTER", "MYID").Text()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// clusterSeries are the names of got's series of the cluster collector's
// families, sorted. (The info collector reports redis_cluster_enabled.)
func clusterSeries(got map[string]sample) []string {
	i := slices.IndexFunc(collectors, func(c *collector) bool { return c.name == "cluster" })
	var out []string
	for k := range got {
		name, _, _ := strings.Cut(k, "{")
		if slices.ContainsFunc(collectors[i].families, func(f *exposition.Family) bool { return f.Name() == name }) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func nodeInfoKey(id, role, masterID string) string {
	return fmt.Sprintf(`redis_cluster_node_info{master_id=%q,node_id=%q,role=%q}`, masterID, id, role)
}

// checkNodeInfo asserts got has one redis_cluster_node_info series, key.
func checkNodeInfo(t *testing.T, got map[string]sample, key string) {
	t.Helper()
	var infos []string
	for _, k := range clusterSeries(got) {
		if strings.HasPrefix(k, "redis_cluster_node_info{") {
			infos = append(infos, k)
		}
	}
	if len(infos) != 1 || infos[0] != key || got[key].Value != 1 {
		t.Errorf("node info series %v, want %s = 1", infos, key)
	}
}

func TestClusterCollector(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t, 3, 1)
	m := mustModule(t, clusterModule)
	probe := func(s *redistest.Server) map[string]sample {
		t.Helper()
		got, ok := probeTarget(t, s.Addr(), m, nil)
		if !ok {
			t.Fatalf("probe of %s failed", s.Addr())
		}
		return got
	}
	masters := c.Masters()
	ids := map[*redistest.Server]string{}
	for _, s := range c.Nodes {
		ids[s] = clusterNodeID(t, s)
	}
	// A healthy cluster node passes expect: cluster_state ok.
	healthy, ok := probeTarget(t, masters[0].Addr(), mustModule(t, "    timeout: 2s\n    expect: {cluster_state: ok, role: master}\n"), nil)
	if !ok {
		t.Error("a healthy cluster master failed expect: {cluster_state: ok, role: master}")
	}
	expect(t, healthy, map[string]float64{`probe_assertion_success{assertion="cluster_state"}`: 1})

	// A healthy cluster, from each master: every series of the collector
	// but the per-type message counts, whose types vary with the gossip.
	nan := math.NaN()
	exact := slices.DeleteFunc(familiesOf(t, "cluster"), func(f string) bool { return f == "redis_cluster_stats_messages_total" })
	sum := 0.0
	slotsOf := map[*redistest.Server]float64{}
	for _, s := range masters {
		got := probe(s)
		expect(t, got, map[string]float64{
			"probe_success": 1,
			`probe_collector_success{collector="cluster"}`: 1,
		})
		expectExact(t, got, map[string]float64{
			"redis_cluster_state":                                          1,
			"redis_cluster_slots_assigned":                                 16384,
			"redis_cluster_slots_ok":                                       16384,
			"redis_cluster_slots_pfail":                                    0,
			"redis_cluster_slots_fail":                                     0,
			"redis_cluster_known_nodes":                                    6,
			"redis_cluster_size":                                           3,
			`redis_cluster_nodes{link_state="connected",role="master"}`:    3,
			`redis_cluster_nodes{link_state="connected",role="slave"}`:     3,
			`redis_cluster_nodes{link_state="disconnected",role="master"}`: 0,
			`redis_cluster_nodes{link_state="disconnected",role="slave"}`:  0,
			"redis_cluster_node_failed_nodes":                              0,
			"redis_cluster_current_epoch":                                  nan,
			"redis_cluster_my_epoch":                                       nan,
			"redis_cluster_messages_sent_total":                            nan,
			"redis_cluster_messages_received_total":                        nan,
			"redis_cluster_node_slots":                                     nan,
			nodeInfoKey(ids[s], "master", ""):                              1,
		}, exact...)
		checkNodeInfo(t, got, nodeInfoKey(ids[s], "master", ""))
		slots := got["redis_cluster_node_slots"].Value
		if slots != 5461 && slots != 5462 {
			t.Errorf("master %s serves %v slots, want 5461 or 5462", s.Addr(), slots)
		}
		slotsOf[s] = slots
		sum += slots
		if e := got["redis_cluster_current_epoch"].Value; e < 3 || got["redis_cluster_my_epoch"].Value < 1 {
			t.Errorf("current epoch %v, my epoch %v", e, got["redis_cluster_my_epoch"].Value)
		}
		// Nodes gossip several times a second; the totals add up the types.
		for _, dir := range []string{"sent", "received"} {
			total := got["redis_cluster_messages_"+dir+"_total"]
			if total.Value <= 0 || total.Typ.String() != "COUNTER" {
				t.Errorf("redis_cluster_messages_%s_total = %+v", dir, total)
			}
			var byType float64
			for _, k := range clusterSeries(got) {
				if strings.HasPrefix(k, fmt.Sprintf(`redis_cluster_stats_messages_total{direction=%q,type=`, dir)) {
					byType += got[k].Value
				}
			}
			if byType != total.Value {
				t.Errorf("%s messages by type add up to %v, total %v", dir, byType, total.Value)
			}
		}
		for _, k := range []string{`redis_cluster_stats_messages_total{direction="sent",type="ping"}`, `redis_cluster_stats_messages_total{direction="received",type="pong"}`} {
			if got[k].Value <= 0 {
				t.Errorf("%s = %v, want > 0", k, got[k].Value)
			}
		}
	}
	if sum != 16384 {
		t.Errorf("masters serve %v slots together, want 16384", sum)
	}

	// Each replica: no slots, and its master's id.
	for _, r := range c.Replicas() {
		got := probe(r)
		expect(t, got, map[string]float64{
			`probe_collector_success{collector="cluster"}`: 1,
			"redis_cluster_state":                          1,
			"redis_cluster_node_slots":                     0,
			"redis_cluster_known_nodes":                    6,
		})
		checkNodeInfo(t, got, nodeInfoKey(ids[r], "slave", ids[c.MasterOf(r)]))
	}

	// The default module leaves the collector off.
	got, ok := probeTarget(t, masters[0].Addr(), mustModule(t, "    timeout: 2s\n"), nil)
	if !ok {
		t.Fatal("probe failed")
	}
	if _, on := got[`probe_collector_success{collector="cluster"}`]; on {
		t.Error("the cluster collector runs by default")
	}
	if s := clusterSeries(got); len(s) > 0 {
		t.Errorf("the default module reports %v", s)
	}

	// A replica dies: the survivors flag it and see its link down, while
	// the cluster stays ok.
	survivor := masters[2]
	deadReplica := c.ReplicasOf(masters[1])[0]
	deadReplica.Stop()
	redistest.WaitFor(t, 15*time.Second, func() error {
		got := probe(survivor)
		if got["redis_cluster_state"].Value != 1 {
			t.Errorf("cluster_state %v after a replica died", got["redis_cluster_state"].Value)
		}
		return wantSeries(got, map[string]float64{
			"redis_cluster_node_failed_nodes":                              1,
			`redis_cluster_nodes{link_state="disconnected",role="slave"}`:  1,
			`redis_cluster_nodes{link_state="connected",role="slave"}`:     2,
			`redis_cluster_nodes{link_state="connected",role="master"}`:    3,
			`redis_cluster_nodes{link_state="disconnected",role="master"}`: 0,
			"redis_cluster_known_nodes":                                    6,
			"redis_cluster_slots_ok":                                       16384,
		})
	}, nil)

	// promtool accepts the exposition, the failed node's series included.
	out := probeExposition(t, "modules:\n  default:\n"+clusterModule, survivor.Addr())
	if !strings.Contains(out, `redis_cluster_nodes{link_state="disconnected",role="slave"} 1`) {
		t.Errorf("exposition lacks the disconnected replica:\n%s", out)
	}
	promtoolCheck(t, out)

	// A master dies: its replica takes over its slots.
	oldMaster := masters[0]
	promoted := c.ReplicasOf(oldMaster)[0]
	oldMaster.Stop()
	redistest.WaitFor(t, 20*time.Second, func() error {
		got := probe(promoted)
		if err := wantSeries(got, map[string]float64{
			"redis_cluster_state":                    1,
			"redis_cluster_node_slots":               slotsOf[oldMaster],
			nodeInfoKey(ids[promoted], "master", ""): 1,
		}); err != nil {
			return fmt.Errorf("promoted replica %s: %w", promoted.Addr(), err)
		}
		got = probe(survivor)
		if err := wantSeries(got, map[string]float64{
			"redis_cluster_state":    1,
			"redis_cluster_slots_ok": 16384,
			`redis_cluster_nodes{link_state="connected",role="master"}`: 3,
			"redis_cluster_node_failed_nodes":                           2,
		}); err != nil {
			return fmt.Errorf("survivor %s: %w", survivor.Addr(), err)
		}
		return nil
	}, func() string { return clusterNodesText(t, survivor) })
}

// wantSeries says which of want's series got lacks or has another value.
func wantSeries(got map[string]sample, want map[string]float64) error {
	var bad []string
	for k, v := range want {
		if s, ok := got[k]; !ok {
			bad = append(bad, "missing "+k)
		} else if s.Value != v {
			bad = append(bad, fmt.Sprintf("%s = %v, want %v", k, s.Value, v))
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return nil
}

func clusterNodesText(t *testing.T, s *redistest.Server) string {
	text, err := s.Client(t).ClusterNodes(context.Background()).Result()
	if err != nil {
		return err.Error()
	}
	return "CLUSTER NODES from " + s.Addr() + ":\n" + text
}

// A standalone Redis refuses CLUSTER commands: the collector fails, the
// probe stands.
func TestClusterCollectorStandalone(t *testing.T) {
	t.Parallel()
	s := redistest.StartRedis(t)
	got, ok := probeTarget(t, s.Addr(), mustModule(t, clusterModule), nil)
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{
		"probe_success": 1,
		"redis_up":      1,
		`probe_collector_success{collector="cluster"}`: 0,
		`probe_collector_success{collector="info"}`:    1,
	})
	// A standalone Redis reports none of the collector's series.
	expectExact(t, got, nil, familiesOf(t, "cluster")...)
}

// The collector on CLUSTER INFO and CLUSTER NODES recorded from the one
// master left of a three-master cluster whose other two masters were killed
// (see internal/clusternodes): it suspects both (fail?) and the cluster is
// down.
func TestClusterCollectorRecordedSuspectedFailure(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("../internal/clusternodes/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	ctx := context.Background()
	r := &replies{ctx: ctx, cmds: map[string]*redis.Cmd{}}
	for args, text := range map[string]string{"INFO": read("cluster_info_pfail.txt"), "NODES": read("cluster_nodes_pfail.txt")} {
		cmd := redis.NewCmd(ctx, "CLUSTER", args)
		cmd.SetVal(text)
		r.cmds[commandKey([]any{"CLUSTER", args})] = cmd
	}
	e := exposition.NewEmitter(planFor(mustModule(t, clusterModule)).keep)
	i := slices.IndexFunc(collectors, func(c *collector) bool { return c.name == "cluster" })
	if err := collectors[i].collect(r, e); err != nil {
		t.Fatal(err)
	}
	got := samples(t, e)
	want := map[string]float64{
		"redis_cluster_state":                                                  0,
		"redis_cluster_slots_assigned":                                         16384,
		"redis_cluster_slots_ok":                                               5461,
		"redis_cluster_slots_pfail":                                            10923,
		"redis_cluster_slots_fail":                                             0,
		"redis_cluster_known_nodes":                                            3,
		"redis_cluster_size":                                                   3,
		"redis_cluster_current_epoch":                                          3,
		"redis_cluster_my_epoch":                                               1,
		"redis_cluster_messages_sent_total":                                    20,
		"redis_cluster_messages_received_total":                                18,
		`redis_cluster_stats_messages_total{direction="sent",type="ping"}`:     11,
		`redis_cluster_stats_messages_total{direction="sent",type="pong"}`:     9,
		`redis_cluster_stats_messages_total{direction="received",type="ping"}`: 7,
		`redis_cluster_stats_messages_total{direction="received",type="pong"}`: 9,
		`redis_cluster_stats_messages_total{direction="received",type="meet"}`: 2,
		"redis_cluster_node_slots":                                             5461,
		nodeInfoKey("737378b0329550faea170c0f3111b34af9ee1cb7", "master", ""):  1,
		`redis_cluster_nodes{link_state="connected",role="master"}`:            1,
		`redis_cluster_nodes{link_state="disconnected",role="master"}`:         2,
		`redis_cluster_nodes{link_state="connected",role="slave"}`:             0,
		`redis_cluster_nodes{link_state="disconnected",role="slave"}`:          0,
		"redis_cluster_node_failed_nodes":                                      2,
	}
	expectExact(t, got, want, familiesOf(t, "cluster")...)
	for k, s := range got {
		if strings.HasSuffix(strings.SplitN(k, "{", 2)[0], "_total") != (s.Typ.String() == "COUNTER") {
			t.Errorf("%s is a %s", k, s.Typ)
		}
	}
}

// On a Cluster node, a key rule skips the listed keys another node serves
// (MOVED) and counts them, instead of failing: each master reports the
// keys it holds, and the fleet counts each key once.
func TestKeyRuleSkipsForeignKeys(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t, 3, 0)
	cc := c.ClusterClient(t)
	ctx := context.Background()
	var keys []string
	for i := range 30 {
		k := fmt.Sprintf("k%d", i)
		keys = append(keys, `"`+k+`"`)
		if err := cc.Set(ctx, k, i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	m := mustModule(t, "    timeout: 5s\n    keys:\n      - {metric: r_sum, keys: ["+strings.Join(keys, ", ")+"], aggregate: sum}\n      - {metric: r_len, keys: ["+strings.Join(keys, ", ")+"], measure: length, aggregate: count}\n")
	total, held := 0.0, 0.0
	for _, s := range c.Masters() {
		// What this node holds, asked of it directly: a foreign key is MOVED.
		own, sum := 0, 0
		for i := range 30 {
			v, err := s.Client(t).Get(ctx, fmt.Sprintf("k%d", i)).Int()
			if err == nil {
				own, sum = own+1, sum+v
			}
		}
		got, ok := probeTarget(t, s.Addr(), m, nil)
		if !ok {
			t.Fatalf("probe of %s failed", s.Addr())
		}
		expect(t, got, map[string]float64{
			"r_sum": float64(sum), "r_len": float64(own),
			`redis_key_rule_success{rule="r_sum"}`:      1,
			`redis_key_rule_keys{rule="r_sum"}`:         float64(own),
			`redis_key_rule_foreign_keys{rule="r_sum"}`: float64(30 - own),
			`redis_key_rule_foreign_keys{rule="r_len"}`: float64(30 - own),
		})
		total += got["r_sum"].Value
		held += float64(own)
	}
	if total != 435 || held != 30 { // 0+1+…+29
		t.Errorf("the masters' sums add up to %v over %v keys, want 435 over 30", total, held)
	}
}
