package clusternodes

import (
	"cmp"
	"fmt"
	"maps"
	"net"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzParse guards Parse against whatever a Redis target, or something posing
// as one, answers to CLUSTER NODES. For any text it must not panic and must be
// deterministic; an error must name the line and come without nodes;
// otherwise there is at most one node per line, every string field is a piece
// of the text and Addr a host:port no longer than it, Myself, Role and Failed
// agree with the flags, Slots is what the ranges add up to, each range within
// 0-16383, and writing the nodes back as CLUSTER NODES text parses to the same
// nodes.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"cluster_nodes.txt", "cluster_nodes_pfail.txt", "cluster_info_pfail.txt"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
		f.Add(strings.ReplaceAll(string(data), "\n", "\r\n"))
	}
	const id = "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca"
	for _, s := range []string{
		"", "\r\n", " \n\t\r\n", "a b c d e f g h",
		id + " 127.0.0.1 master - 0 0 1 connected\n", // an address without ':'
		id + " ::1:30001@40001,,tls-port=0,shard-id=5a2d,=,x,a=b=c myself,master - 0 0 1 connected 0-16383\n",
		id + " [::1]:65535@0,host myself,,slave,fail? " + id + " 0 0 1 connected 5 [5->-" + id + "] 7-7\n",
		id + " :0@0 noaddr,handshake - 9223372036854775807 -9223372036854775808 18446744073709551615 disconnected\n",
		id + " 1.2.3.4:65536@1 master - 0 0 1 connected\n",
		id + " 1.2.3.4:1 master - 99999999999999999999 0 1 connected\n",
		id + " 1.2.3.4:1 master - 0 0 1 connected 0-16383 0-16383 +1-+2 16384\n",
		id + " \xff\xfe:1@2,\xc3\x28 m\x00ster - 0 0 1 c\x00nnected\n",
		id + " 1.2.3.4:1,h" + strings.Repeat("o", 1<<12) + " master - 0 0 1 connected\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		nodes, err := Parse(text)
		again, err2 := Parse(text)
		if !reflect.DeepEqual(nodes, again) || fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Fatal("Parse is not deterministic")
		}
		if err != nil {
			if nodes != nil || !strings.HasPrefix(err.Error(), "CLUSTER NODES line ") {
				t.Fatalf("error %q with %d nodes", err, len(nodes))
			}
			return
		}
		if lines := strings.Count(text, "\n") + 1; len(nodes) > lines {
			t.Fatalf("%d nodes from %d lines", len(nodes), lines)
		}
		for i, n := range nodes {
			checkNode(t, text, n)
			if t.Failed() {
				t.Fatalf("node %d: %+v", i, n)
			}
		}
		if again, err := Parse(format(nodes)); err != nil || !reflect.DeepEqual(again, nodes) {
			t.Fatalf("nodes written back parse differently (%v):\n got %+v\nwant %+v", err, again, nodes)
		}
	})
}

// checkNode checks one node Parse read from text.
func checkNode(t *testing.T, text string, n Node) {
	t.Helper()
	pieces := append([]string{n.ID, n.Hostname, n.MasterID, n.LinkState}, n.Flags...)
	for k, v := range n.Aux {
		pieces = append(pieces, k+"="+v)
	}
	for _, s := range pieces {
		if !strings.Contains(text, s) {
			t.Errorf("%q is not in the text", s)
		}
	}
	i := strings.LastIndexByte(n.Addr, ':')
	if i < 0 || len(n.Addr) > len(text) {
		t.Fatalf("Addr %q: no port, or longer than the text", n.Addr)
	}
	if _, err := strconv.ParseUint(n.Addr[i+1:], 10, 16); err != nil {
		t.Errorf("Addr %q: port: %v", n.Addr, err)
	}
	if _, _, err := net.SplitHostPort(n.Addr); err != nil {
		t.Errorf("Addr %q: %v", n.Addr, err)
	}
	if n.Myself != n.HasFlag("myself") || n.Failed != (n.HasFlag("fail") || n.HasFlag("fail?")) ||
		(n.Role != "" && !n.HasFlag(n.Role)) || (n.Role == "" && (n.HasFlag("master") || n.HasFlag("slave"))) {
		t.Errorf("Myself %v, Role %q, Failed %v disagree with flags %q", n.Myself, n.Role, n.Failed, n.Flags)
	}
	slots := 0
	for _, r := range n.SlotRanges {
		if r.Start < 0 || r.Start > r.End || r.End > 16383 {
			t.Errorf("slot range %v", r)
		}
		slots += r.End - r.Start + 1
	}
	if slots != n.Slots {
		t.Errorf("Slots %d, ranges add up to %d", n.Slots, slots)
	}
}

// format writes nodes back as CLUSTER NODES lines, with the address as Redis
// writes it: "ip:port@cport[,hostname[,key=value]...]", IPv6 unbracketed.
func format(nodes []Node) string {
	var b strings.Builder
	for _, n := range nodes {
		i := strings.LastIndexByte(n.Addr, ':')
		addr := strings.Trim(n.Addr[:i], "[]") + n.Addr[i:] + "@0"
		if n.Hostname != "" || n.Aux != nil {
			addr += "," + n.Hostname
			for _, k := range slices.Sorted(maps.Keys(n.Aux)) {
				addr += "," + k + "=" + n.Aux[k]
			}
		}
		master := cmp.Or(n.MasterID, "-")
		fmt.Fprintf(&b, "%s %s %s %s %d %d %d %s", n.ID, addr, strings.Join(n.Flags, ","), master, n.PingSent, n.PongReceived, n.ConfigEpoch, n.LinkState)
		for _, r := range n.SlotRanges {
			fmt.Fprintf(&b, " %d-%d", r.Start, r.End)
		}
		b.WriteString("\n")
	}
	return b.String()
}
