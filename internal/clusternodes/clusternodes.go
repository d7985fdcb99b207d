// Package clusternodes parses the text that Redis's CLUSTER NODES command
// returns: one line per node the answering node knows, itself included,
//
//	<id> <ip:port@cport[,hostname[,aux=value]...]> <flags> <master-id|-> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>...
//
// where each slot entry is a range "0-5460", a single slot "5461", or a slot
// being moved: "[5461->-<node-id>]" (migrating) or "[5461-<-<node-id>]"
// (importing).
package clusternodes

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Node is one line of CLUSTER NODES.
type Node struct {
	ID string // the node's 40-character id
	// Addr is "ip:port" (IPv6 in brackets), the address clients use; the
	// cluster bus port after "@" is dropped. A node without a known address
	// (flag noaddr) has an empty ip: ":port".
	Addr     string
	Hostname string            // from cluster-announce-hostname (Redis 7+), "" when unset
	Aux      map[string]string // auxiliary fields after the hostname (Redis 7.2+: shard-id, tls-port, …); nil when none
	Flags    []string          // as listed: myself, master, slave, fail?, fail, handshake, noaddr, nofailover, noflags
	Myself   bool              // the line describes the node that answered
	Role     string            // "master" or "slave" from the flags; "" when neither (a node in handshake)
	MasterID string            // the master a replica replicates; "" for "-"
	// PingSent and PongReceived are Unix times in milliseconds of the last
	// ping sent still unanswered (0 when none) and the last pong received.
	PingSent, PongReceived int64
	ConfigEpoch            uint64
	LinkState              string      // "connected" or "disconnected": the cluster bus link to the node
	Slots                  int         // hash slots the node serves
	SlotRanges             []SlotRange // the ranges it serves, as listed
	Failed                 bool        // flagged fail or fail? (failing as seen by the answering node alone)
}

// SlotRange is the slots from Start to End, both included.
type SlotRange struct{ Start, End int }

// HasFlag tells whether the node has flag f.
func (n *Node) HasFlag(f string) bool { return slices.Contains(n.Flags, f) }

// Parse reads CLUSTER NODES text, LF or CRLF ended, into its nodes in order.
// A line that does not have the fields above is an error.
func Parse(text string) ([]Node, error) {
	var nodes []Node
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		n, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("CLUSTER NODES line %d: %w", i+1, err)
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// Myself is the node that answered, the one whose flags include myself.
func Myself(nodes []Node) (Node, bool) {
	for _, n := range nodes {
		if n.Myself {
			return n, true
		}
	}
	return Node{}, false
}

func parseLine(line string) (Node, error) {
	f := strings.Fields(line)
	if len(f) < 8 {
		return Node{}, fmt.Errorf("%d fields, want at least 8: %q", len(f), line)
	}
	n := Node{ID: f[0], LinkState: f[7]}
	if err := n.parseAddr(f[1]); err != nil {
		return Node{}, err
	}
	n.Flags = strings.Split(f[2], ",")
	for _, fl := range n.Flags {
		switch fl {
		case "myself":
			n.Myself = true
		case "master", "slave":
			n.Role = fl
		case "fail", "fail?":
			n.Failed = true
		}
	}
	if f[3] != "-" {
		n.MasterID = f[3]
	}
	var err error
	if n.PingSent, err = strconv.ParseInt(f[4], 10, 64); err != nil {
		return Node{}, fmt.Errorf("ping-sent %q: %w", f[4], err)
	}
	if n.PongReceived, err = strconv.ParseInt(f[5], 10, 64); err != nil {
		return Node{}, fmt.Errorf("pong-recv %q: %w", f[5], err)
	}
	if n.ConfigEpoch, err = strconv.ParseUint(f[6], 10, 64); err != nil {
		return Node{}, fmt.Errorf("config-epoch %q: %w", f[6], err)
	}
	for _, s := range f[8:] {
		if strings.HasPrefix(s, "[") {
			continue // a slot migrating to or importing from another node
		}
		r, err := parseRange(s)
		if err != nil {
			return Node{}, err
		}
		n.SlotRanges = append(n.SlotRanges, r)
		n.Slots += r.End - r.Start + 1
	}
	return n, nil
}

// parseAddr reads "ip:port@cport[,hostname[,key=value]...]"; Redis before 4
// wrote "ip:port" alone.
func (n *Node) parseAddr(s string) error {
	s, extra, _ := strings.Cut(s, ",")
	hostPort, _, _ := strings.Cut(s, "@")
	i := strings.LastIndexByte(hostPort, ':')
	if i < 0 {
		return fmt.Errorf("address %q has no port", hostPort)
	}
	host, port := hostPort[:i], hostPort[i+1:]
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("address %q: port: %w", hostPort, err)
	}
	// Redis writes IPv6 addresses without brackets.
	n.Addr = net.JoinHostPort(strings.Trim(host, "[]"), port)
	if _, _, err := net.SplitHostPort(n.Addr); err != nil {
		return fmt.Errorf("address %q: %w", hostPort, err) // brackets inside the host
	}
	if extra == "" {
		return nil
	}
	for i, e := range strings.Split(extra, ",") {
		k, v, ok := strings.Cut(e, "=")
		switch {
		case !ok && i == 0:
			n.Hostname = e
		case ok:
			if n.Aux == nil {
				n.Aux = map[string]string{}
			}
			n.Aux[k] = v
		}
	}
	return nil
}

// parseRange reads "0-5460" or "5461".
func parseRange(s string) (SlotRange, error) {
	a, b, isRange := strings.Cut(s, "-")
	start, err := parseSlot(a)
	if err != nil {
		return SlotRange{}, fmt.Errorf("slot range %q: %w", s, err)
	}
	end := start
	if isRange {
		if end, err = parseSlot(b); err != nil {
			return SlotRange{}, fmt.Errorf("slot range %q: %w", s, err)
		}
	}
	if end < start {
		return SlotRange{}, fmt.Errorf("slot range %q ends before it starts", s)
	}
	return SlotRange{start, end}, nil
}

func parseSlot(s string) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if v < 0 || v > 16383 {
		return 0, fmt.Errorf("slot %d out of 0-16383", v)
	}
	return v, nil
}
