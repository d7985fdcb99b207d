package prober

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/redis-probe/redis_probe_exporter/internal/clusternodes"
	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/internal/info"
)

// The cluster collector reports CLUSTER INFO, and from CLUSTER NODES this
// node's slots and role and how many nodes the cluster knows, by role and
// link state. A Redis not in cluster mode answers both commands with an
// error, which counts in its error stats, so the collector is off unless a
// module turns it on (collectors: {cluster: true}).
var clusterInfoFields = newInfoTable(
	infoStatus("cluster_state", "redis_cluster_state", "Whether this node sees the cluster state as ok (1) or fail (0)."),
	infoGauge("cluster_slots_assigned", "redis_cluster_slots_assigned", "Hash slots assigned to some node, of 16384."),
	infoGauge("cluster_slots_ok", "redis_cluster_slots_ok", "Hash slots whose node is neither failing nor suspected to be."),
	infoGauge("cluster_slots_pfail", "redis_cluster_slots_pfail", "Hash slots whose node this node suspects is failing (PFAIL): it has not heard from it within the node timeout."),
	infoGauge("cluster_slots_fail", "redis_cluster_slots_fail", "Hash slots whose node the cluster agreed has failed (FAIL)."),
	infoGauge("cluster_known_nodes", "redis_cluster_known_nodes", "Nodes this node knows in the cluster, itself and nodes in handshake included."),
	infoGauge("cluster_size", "redis_cluster_size", "Masters that serve at least one hash slot."),
	infoGauge("cluster_current_epoch", "redis_cluster_current_epoch", "The cluster's current epoch, as this node knows it."),
	infoGauge("cluster_my_epoch", "redis_cluster_my_epoch", "The config epoch of this node, or of its master when it is a replica."),
	infoCounter("cluster_stats_messages_sent", "redis_cluster_messages_sent_total", "Messages this node sent on the cluster bus."),
	infoCounter("cluster_stats_messages_received", "redis_cluster_messages_received_total", "Messages this node received on the cluster bus."),
)

var (
	clusterMessages = counter("redis_cluster_stats_messages_total", "Cluster bus messages this node sent or received, by direction and message type (ping, pong, meet, fail, publish, update, …).", "direction", "type")

	clusterNodeSlots  = gauge("redis_cluster_node_slots", "Hash slots this node serves; 0 on a replica.")
	clusterNodeInfo   = gauge("redis_cluster_node_info", "Always 1; the labels give this node's cluster id, its role (master or slave) and, on a replica, its master's id.", "node_id", "role", "master_id")
	clusterNodes      = gauge("redis_cluster_nodes", "Nodes this node knows in the cluster, itself included, by role (master, slave, or unknown for a node in handshake) and cluster bus link state (connected or disconnected).", "role", "link_state")
	clusterNodeFailed = gauge("redis_cluster_node_failed_nodes", "Nodes this node knows that are flagged as failing: fail (agreed by the cluster) or fail? (suspected by this node alone).")
)

var (
	clusterInfoCmd  = []any{"CLUSTER", "INFO"}
	clusterNodesCmd = []any{"CLUSTER", "NODES"}
)

func init() {
	register(&collector{
		name:      "cluster",
		defaultOn: false,
		commands:  [][]any{clusterInfoCmd, clusterNodesCmd},
		families:  append(clusterInfoFields.families(), clusterMessages, clusterNodeSlots, clusterNodeInfo, clusterNodes, clusterNodeFailed),
		collect: func(r *replies, e *exposition.Emitter) error {
			infoCmd, nodesCmd := r.reply(clusterInfoCmd...), r.reply(clusterNodesCmd...)
			infoText, err := infoCmd.Text()
			if err != nil {
				return fmt.Errorf("CLUSTER INFO: %w", err)
			}
			nodesText, err := nodesCmd.Text()
			if err != nil {
				return fmt.Errorf("CLUSTER NODES: %w", err)
			}
			nodes, err := clusternodes.Parse(nodesText)
			if err != nil {
				return err
			}
			me, ok := clusternodes.Myself(nodes)
			if !ok {
				return fmt.Errorf("CLUSTER NODES: no line for myself")
			}
			fields := info.Parse(infoText)
			clusterInfoFields.emit(fields, e)
			emitClusterMessages(fields, e)
			emitClusterNodes(me, nodes, e)
			return nil
		},
	})
}

// emitClusterMessages reads the per-type counts such as
// "cluster_stats_messages_ping_sent:48"; the totals,
// cluster_stats_messages_sent and _received, are in the table.
func emitClusterMessages(fields []info.Field, e *exposition.Emitter) {
	for _, f := range fields {
		rest, ok := strings.CutPrefix(f.Key, "cluster_stats_messages_")
		if !ok {
			continue
		}
		for _, dir := range []string{"sent", "received"} {
			typ, ok := strings.CutSuffix(rest, "_"+dir)
			if !ok || typ == "" {
				continue
			}
			if v, err := strconv.ParseFloat(f.Value, 64); err == nil {
				e.Emit(clusterMessages, v, dir, typ)
			}
		}
	}
}

// emitClusterNodes reports this node and counts the nodes it knows. The
// master and slave series for both link states are always there, so that an
// alert on disconnected replicas sees 0 rather than nothing.
func emitClusterNodes(me clusternodes.Node, nodes []clusternodes.Node, e *exposition.Emitter) {
	e.Emit(clusterNodeSlots, float64(me.Slots))
	e.Emit(clusterNodeInfo, 1, me.ID, roleLabel(me.Role), me.MasterID)

	type key struct{ role, link string }
	counts := map[key]int{}
	var order []key
	for _, role := range []string{"master", "slave"} {
		for _, link := range []string{"connected", "disconnected"} {
			k := key{role, link}
			counts[k] = 0
			order = append(order, k)
		}
	}
	failed := 0
	for _, n := range nodes {
		k := key{roleLabel(n.Role), n.LinkState}
		if _, seen := counts[k]; !seen {
			order = append(order, k)
		}
		counts[k]++
		if n.Failed {
			failed++
		}
	}
	for _, k := range order {
		e.Emit(clusterNodes, float64(counts[k]), k.role, k.link)
	}
	e.Emit(clusterNodeFailed, float64(failed))
}

func roleLabel(role string) string {
	if role == "" {
		return "unknown"
	}
	return role
}
