package clusternodes

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// Node ids of the recorded clusters.
const (
	idA       = "53550b5c5353e63d7331e56178c75f58f10891fe"
	idB       = "577ff0c1598d6b2a6b33648413dbb17e5005fe5f"
	idC       = "cf3b463c2b59edd69bb5dac0e24333ec10e8f587"
	idReplA   = "c4a9db8e9845793fb400f4c3d50e382627eae19b"
	idReplB   = "b47bef28b10405604eff0f64dd3f41377564dedc"
	idReplC   = "fde3f6f38a2ded2db5763aefa1083eb752131be7"
	idSurvive = "737378b0329550faea170c0f3111b34af9ee1cb7"
	idDown2   = "ee9029c2df4a88f7e22c233ea5a7e2faf9e915fd"
	idDown3   = "3c6464c56e5346b7e0c2a4375aeff176c390ea03"
)

func load(t *testing.T, name string) []Node {
	t.Helper()
	text, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := Parse(string(text))
	if err != nil {
		t.Fatal(err)
	}
	// Redis ends lines with LF; CRLF must parse the same.
	crlf, err := Parse(strings.ReplaceAll(string(text), "\n", "\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(crlf, nodes) {
		t.Errorf("CRLF text parses differently:\n%+v\n%+v", crlf, nodes)
	}
	return nodes
}

func checkNodes(t *testing.T, got, want []Node) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d nodes, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("node %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// testdata/cluster_nodes.txt is CLUSTER NODES from master A of a Redis
// 7.0.15 cluster made by redistest.StartCluster(t, 3, 1), after:
// cluster-announce-hostname node-b.example on master B; slot 16383 moved
// from C to A (so A serves 0-5460 and 16383, C 10923-16382); slot 0 set
// MIGRATING from A to B and slot 10923 IMPORTING into A from C; and C's
// replica killed until A flagged it fail.
func TestParseClusterRecorded(t *testing.T) {
	got := load(t, "cluster_nodes.txt")
	want := []Node{
		{
			ID: idC, Addr: "127.0.0.1:38893", Flags: []string{"master"}, Role: "master",
			PongReceived: 1795620920033, ConfigEpoch: 3, LinkState: "connected",
			Slots: 5460, SlotRanges: []SlotRange{{10923, 16382}},
		},
		{
			ID: idReplA, Addr: "127.0.0.1:34825", Flags: []string{"slave"}, Role: "slave", MasterID: idA,
			PongReceived: 1795620920134, ConfigEpoch: 7, LinkState: "connected",
		},
		{
			ID: idB, Addr: "127.0.0.1:41873", Hostname: "node-b.example", Flags: []string{"master"}, Role: "master",
			PongReceived: 1795620920033, ConfigEpoch: 2, LinkState: "connected",
			Slots: 5462, SlotRanges: []SlotRange{{5461, 10922}},
		},
		{
			ID: idA, Addr: "127.0.0.1:45231", Flags: []string{"myself", "master"}, Myself: true, Role: "master",
			PongReceived: 1795620919000, ConfigEpoch: 7, LinkState: "connected",
			Slots: 5462, SlotRanges: []SlotRange{{0, 5460}, {16383, 16383}},
		},
		{
			ID: idReplC, Addr: "127.0.0.1:44119", Flags: []string{"slave", "fail"}, Role: "slave", MasterID: idC,
			PingSent: 1795620918019, PongReceived: 1795620917514, ConfigEpoch: 3, LinkState: "disconnected", Failed: true,
		},
		{
			ID: idReplB, Addr: "127.0.0.1:38521", Flags: []string{"slave"}, Role: "slave", MasterID: idB,
			PongReceived: 1795620920033, ConfigEpoch: 2, LinkState: "connected",
		},
	}
	checkNodes(t, got, want)

	total := 0
	for _, n := range got {
		total += n.Slots
	}
	if total != 16384 {
		t.Errorf("slots add up to %d, want 16384", total)
	}
	me, ok := Myself(got)
	if !ok || me.ID != idA {
		t.Errorf("Myself = %s, %v; want %s", me.ID, ok, idA)
	}
	if !got[4].HasFlag("fail") || got[4].HasFlag("fail?") || got[4].HasFlag("master") {
		t.Errorf("HasFlag on %v", got[4].Flags)
	}
}

// testdata/cluster_nodes_pfail.txt is CLUSTER NODES from the one master left
// of a Redis 7.0.15 cluster of three masters without replicas, after the
// other two were killed: without a majority it can only suspect them
// (fail?), never agree they failed.
func TestParseClusterRecordedSuspectedFailure(t *testing.T) {
	got := load(t, "cluster_nodes_pfail.txt")
	want := []Node{
		{
			ID: idDown2, Addr: "127.0.0.1:44909", Flags: []string{"master", "fail?"}, Role: "master",
			PingSent: 1795620924254, PongReceived: 1795620923751, ConfigEpoch: 2, LinkState: "disconnected",
			Slots: 5462, SlotRanges: []SlotRange{{5461, 10922}}, Failed: true,
		},
		{
			ID: idSurvive, Addr: "127.0.0.1:37097", Flags: []string{"myself", "master"}, Myself: true, Role: "master",
			PongReceived: 1795620923000, ConfigEpoch: 1, LinkState: "connected",
			Slots: 5461, SlotRanges: []SlotRange{{0, 5460}},
		},
		{
			ID: idDown3, Addr: "127.0.0.1:37535", Flags: []string{"master", "fail?"}, Role: "master",
			PingSent: 1795620924355, PongReceived: 1795620923852, ConfigEpoch: 3, LinkState: "disconnected",
			Slots: 5461, SlotRanges: []SlotRange{{10923, 16383}}, Failed: true,
		},
	}
	checkNodes(t, got, want)
}

// Formats other Redis versions print, written by hand from the Redis
// documentation: IPv6 without brackets, 7.2's auxiliary fields after an
// empty or set hostname, Redis 3's address without the bus port, and a node
// still in handshake, with neither role.
func TestParseClusterOtherFormats(t *testing.T) {
	text := "" +
		"e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca ::1:30001@40001,,tls-port=0,shard-id=5a2d myself,master - 0 0 1 connected 0-16383\n" +
		"67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 10.0.0.2:6379@16379,redis-2.example,shard-id=5a2d slave,nofailover e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238316232 1 connected\n" +
		"292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 10.0.0.3:6379 master - 0 1426238318243 3 connected 1-2 5\n" +
		"824fe116063bc5fcf9f4ffd895bc17aee7731ac3 10.0.0.4:6379@16379 handshake - 1426238317239 0 0 disconnected\n"
	got, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	want := []Node{
		{
			ID: "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca", Addr: "[::1]:30001", Aux: map[string]string{"tls-port": "0", "shard-id": "5a2d"},
			Flags: []string{"myself", "master"}, Myself: true, Role: "master", ConfigEpoch: 1, LinkState: "connected",
			Slots: 16384, SlotRanges: []SlotRange{{0, 16383}},
		},
		{
			ID: "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1", Addr: "10.0.0.2:6379", Hostname: "redis-2.example", Aux: map[string]string{"shard-id": "5a2d"},
			Flags: []string{"slave", "nofailover"}, Role: "slave", MasterID: "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca",
			PongReceived: 1426238316232, ConfigEpoch: 1, LinkState: "connected",
		},
		{
			ID: "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f", Addr: "10.0.0.3:6379", Flags: []string{"master"}, Role: "master",
			PongReceived: 1426238318243, ConfigEpoch: 3, LinkState: "connected",
			Slots: 3, SlotRanges: []SlotRange{{1, 2}, {5, 5}},
		},
		{
			ID: "824fe116063bc5fcf9f4ffd895bc17aee7731ac3", Addr: "10.0.0.4:6379", Flags: []string{"handshake"},
			PingSent: 1426238317239, LinkState: "disconnected",
		},
	}
	checkNodes(t, got, want)
}

func TestParseClusterErrors(t *testing.T) {
	for _, line := range []string{
		"e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 master - 0 0 1", // 7 fields
		"e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1 master - 0 0 1 connected",
		"e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:x@40001 master - 0 0 1 connected",
		"e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 master - x 0 1 connected",
		"e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 master - 0 x 1 connected",
		"e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 master - 0 0 -1 connected",
		"e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 master - 0 0 1 connected 0-x",
		"e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 master - 0 0 1 connected 10-5",
		"e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 master - 0 0 1 connected 16384",
	} {
		if nodes, err := Parse(line + "\n"); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", line, nodes)
		}
	}
	if nodes, err := Parse(""); err != nil || len(nodes) != 0 {
		t.Errorf("Parse(\"\") = %v, %v", nodes, err)
	}
}
