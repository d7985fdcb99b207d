package prober

import (
	"strconv"
	"strings"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/internal/info"
)

// The replication collector reports INFO's replication section: on a master
// each connected replica's offset and lag, on a replica its link to the
// master, and on both the backlog.
var replicationFields = newInfoTable(
	infoGauge("connected_slaves", "redis_connected_slaves", "Replicas connected to this server."),
	infoGauge("master_repl_offset", "redis_master_repl_offset", "This server's replication offset, in bytes."),
	infoGauge("second_repl_offset", "redis_second_repl_offset", "Offset up to which replication IDs are accepted after a failover; -1 when none."),
	infoGauge("repl_backlog_active", "redis_repl_backlog_is_active", "Whether the replication backlog is active (1) or not (0)."),
	infoGauge("repl_backlog_size", "redis_replication_backlog_bytes", "Size of the replication backlog buffer, in bytes."),
	infoGauge("repl_backlog_first_byte_offset", "redis_repl_backlog_first_byte_offset", "Master offset of the backlog's first byte."),
	infoGauge("repl_backlog_histlen", "redis_repl_backlog_history_bytes", "Bytes of data in the replication backlog."),
	infoGauge("master_last_io_seconds_ago", "redis_master_last_io_seconds_ago", "Seconds since the last interaction with the master (replicas only)."),
	infoGauge("master_sync_in_progress", "redis_master_sync_in_progress", "Whether the replica is syncing from its master (1) or not (0)."),
	infoGauge("master_link_down_since_seconds", "redis_master_link_down_since_seconds", "Seconds since the replica's link to its master went down; -1 if it never came up (replicas with the link down only)."),
	infoGauge("master_sync_total_bytes", "redis_master_sync_total_bytes", "Size of the dataset the replica is syncing from its master, in bytes; -1 when unknown (only while syncing)."),
	infoGauge("master_sync_read_bytes", "redis_master_sync_read_bytes", "Bytes of the master's dataset the replica has read (only while syncing)."),
	infoGauge("master_sync_left_bytes", "redis_master_sync_left_bytes", "Bytes of the master's dataset left to read (only while syncing)."),
	infoGauge("master_sync_perc", "redis_master_sync_percent", "Percentage of the master's dataset the replica has read (only while syncing)."),
	infoGauge("master_sync_last_io_seconds_ago", "redis_master_sync_last_io_seconds_ago", "Seconds since the replica last read sync data from its master (only while syncing)."),
	infoGauge("slave_read_repl_offset", "redis_slave_read_repl_offset", "Replication offset the replica has read, in bytes; slave_repl_offset is what it has applied."),
	infoGauge("replicas_repl_buffer_size", "redis_replicas_repl_buffer_bytes", "Bytes of the master's stream a replica buffers while loading its dataset (Valkey 8.0+ dual-channel replication)."),
	infoGauge("replicas_repl_buffer_peak", "redis_replicas_repl_buffer_peak_bytes", "Peak of redis_replicas_repl_buffer_bytes (Valkey 8.0+)."),
	infoGauge("slave_repl_offset", "redis_slave_repl_offset", "The replica's replication offset, in bytes."),
	infoGauge("slave_priority", "redis_slave_priority", "The replica's priority for promotion by Sentinel."),
	infoGauge("slave_expires_tracked_keys", "redis_slave_expires_tracked_keys", "Keys tracked for expiry on a writable replica."),
	infoCounter("sync_full", "redis_replica_resyncs_full_total", "Full resynchronisations with replicas.").was("redis_replica_resyncs_full"),
	infoCounter("sync_partial_ok", "redis_replica_partial_resync_accepted_total", "Partial resynchronisation requests accepted.").was("redis_replica_partial_resync_accepted"),
	infoCounter("sync_partial_err", "redis_replica_partial_resync_denied_total", "Partial resynchronisation requests denied.").was("redis_replica_partial_resync_denied"),
)

var (
	masterLinkUp = gauge("redis_master_link_up", "Whether the replica's link to its master is up (1) or not (0).")
	slaveInfo    = gauge("redis_slave_info", "Always 1 on a replica; the labels name its master.", "master_host", "master_port", "read_only")
	slaveOffset  = gauge("redis_connected_slave_offset_bytes", "Replication offset a connected replica acknowledged, in bytes.", "slave_ip", "slave_port", "slave_state")
	slaveLag     = gauge("redis_connected_slave_lag_seconds", "Seconds since a connected replica last acknowledged.", "slave_ip", "slave_port", "slave_state")
)

func init() {
	register(&collector{
		name:      "replication",
		defaultOn: true,
		commands:  [][]any{infoAll},
		families:  append(replicationFields.families(), masterLinkUp, slaveInfo, slaveOffset, slaveLag),
		collect: func(r *replies, e *exposition.Emitter) error {
			fields, err := r.infoFields()
			if err != nil {
				return err
			}
			replicationFields.emit(fields, e)
			if v, ok := info.Get(fields, "master_link_status"); ok {
				e.Emit(masterLinkUp, boolValue(v == "up"))
				host, _ := info.Get(fields, "master_host")
				port, _ := info.Get(fields, "master_port")
				ro, _ := info.Get(fields, "slave_read_only")
				e.Emit(slaveInfo, 1, host, port, ro)
			}
			for _, f := range fields {
				if f.Section == "replication" && isReplicaLine(f.Key) {
					emitReplica(f.Value, e)
				}
			}
			return nil
		},
	})
}

// isReplicaLine matches the "slave0", "slave1" … lines of a master.
func isReplicaLine(key string) bool {
	n := strings.TrimPrefix(key, "slave")
	_, err := strconv.Atoi(n)
	return n != key && err == nil
}

// emitReplica reads "ip=10.0.0.2,port=6379,state=online,offset=201,lag=1".
func emitReplica(value string, e *exposition.Emitter) {
	var ip, port, state, offset, lag string
	info.Pairs(value, func(k, v string) {
		switch k {
		case "ip":
			ip = v
		case "port":
			port = v
		case "state":
			state = v
		case "offset":
			offset = v
		case "lag":
			lag = v
		}
	})
	if v, err := strconv.ParseFloat(offset, 64); err == nil {
		e.Emit(slaveOffset, v, ip, port, state)
	}
	if v, err := strconv.ParseFloat(lag, 64); err == nil {
		e.Emit(slaveLag, v, ip, port, state)
	}
}
