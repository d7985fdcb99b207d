package prober

import (
	"strconv"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
)

// The info collector maps the server, clients, memory, persistence, stats and
// CPU sections of INFO ALL to typed metrics in base units. Names follow
// redis_exporter's where those are correct Prometheus names; where they were
// not (counters without _total, ms and µs units) they are fixed.
var infoFields = newInfoTable(
	// Server
	infoGauge("uptime_in_seconds", "redis_uptime_in_seconds", "Seconds since the Redis server started."),
	infoGauge("process_id", "redis_process_id", "Process ID of the Redis server."),
	infoGauge("io_threads_active", "redis_io_threads_active", "Whether I/O threads are active (1) or not (0)."),

	// Clients
	infoGauge("connected_clients", "redis_connected_clients", "Client connections, excluding replicas."),
	infoGauge("blocked_clients", "redis_blocked_clients", "Clients pending on a blocking call (BLPOP, BLMOVE, XREAD, WAIT …)."),
	infoGauge("tracking_clients", "redis_tracking_clients", "Clients being tracked for client-side caching."),
	infoGauge("clients_in_timeout_table", "redis_clients_in_timeout_table", "Clients in the blocking clients timeout table."),
	infoGauge("maxclients", "redis_max_clients", "The maxclients setting: the most client connections Redis accepts."),
	infoGauge("cluster_connections", "redis_cluster_connections", "Sockets used by the cluster bus."),
	infoGauge("client_recent_max_input_buffer", "redis_client_recent_max_input_buffer_bytes", "Largest input buffer among current client connections, in bytes."),
	infoGauge("client_recent_max_output_buffer", "redis_client_recent_max_output_buffer_bytes", "Largest output buffer among current client connections, in bytes."),
	infoGauge("pubsub_clients", "redis_pubsub_clients", "Clients in pub/sub mode (Redis 7.2+, Valkey 7.2+)."),
	infoGauge("watching_clients", "redis_watching_clients", "Clients in WATCH mode (Redis 7.2+, Valkey 7.2+)."),
	infoGauge("total_watched_keys", "redis_watched_keys", "Keys watched by clients (Redis 7.2+, Valkey 7.2+)."),
	infoGauge("total_blocking_keys", "redis_blocking_keys", "Keys clients are blocked on (Redis 7.2+, Valkey 7.2+)."),
	infoGauge("total_blocking_keys_on_nokey", "redis_blocking_keys_on_nokey", "Keys clients are blocked on that may also unblock when the key is deleted (Redis 7.2+, Valkey 7.2+)."),

	// Memory
	infoGauge("used_memory", "redis_memory_used_bytes", "Bytes allocated by Redis's allocator."),
	infoGauge("used_memory_rss", "redis_memory_used_rss_bytes", "Bytes of memory the operating system sees Redis use (resident set size)."),
	infoGauge("used_memory_peak", "redis_memory_used_peak_bytes", "Peak of redis_memory_used_bytes since start, in bytes."),
	infoGauge("used_memory_overhead", "redis_memory_used_overhead_bytes", "Bytes Redis uses to manage its internal data structures."),
	infoGauge("used_memory_startup", "redis_memory_used_startup_bytes", "Bytes Redis used at startup."),
	infoGauge("used_memory_dataset", "redis_memory_used_dataset_bytes", "Bytes used by the dataset: used memory less overhead."),
	infoGauge("used_memory_lua", "redis_memory_used_lua_bytes", "Bytes used by the Lua engine for EVAL scripts."),
	infoGauge("used_memory_vm_eval", "redis_memory_used_vm_eval_bytes", "Bytes used by the script VM engine for EVAL."),
	infoGauge("used_memory_vm_functions", "redis_memory_used_vm_functions_bytes", "Bytes used by the script VM engine for functions."),
	infoGauge("used_memory_vm_total", "redis_memory_used_vm_total_bytes", "Bytes used by all script VM engines."),
	infoGauge("used_memory_scripts", "redis_memory_used_scripts_bytes", "Bytes used by cached scripts and functions' overhead."),
	infoGauge("used_memory_scripts_eval", "redis_memory_used_scripts_eval_bytes", "Bytes of overhead used by EVAL scripts."),
	infoGauge("used_memory_functions", "redis_memory_used_functions_bytes", "Bytes of overhead used by functions."),
	infoGauge("number_of_cached_scripts", "redis_number_of_cached_scripts", "EVAL scripts cached by the server."),
	infoGauge("number_of_functions", "redis_number_of_functions", "Functions loaded."),
	infoGauge("number_of_libraries", "redis_number_of_libraries", "Function libraries loaded."),
	infoGauge("maxmemory", "redis_memory_max_bytes", "The maxmemory setting in bytes; 0 means no limit."),
	infoGauge("total_system_memory", "redis_total_system_memory_bytes", "Memory of the host Redis runs on, in bytes."),
	infoGauge("allocator_allocated", "redis_allocator_allocated_bytes", "Bytes allocated by the allocator, including internal fragmentation."),
	infoGauge("allocator_active", "redis_allocator_active_bytes", "Bytes in the allocator's active pages, including external fragmentation."),
	infoGauge("allocator_resident", "redis_allocator_resident_bytes", "Bytes resident in the allocator, including pages it could release."),
	infoGauge("allocator_frag_ratio", "redis_allocator_frag_ratio", "Ratio of allocator_active to allocator_allocated: external fragmentation."),
	infoGauge("allocator_frag_bytes", "redis_allocator_frag_bytes", "allocator_active less allocator_allocated, in bytes."),
	infoGauge("allocator_rss_ratio", "redis_allocator_rss_ratio", "Ratio of allocator_resident to allocator_active."),
	infoGauge("allocator_rss_bytes", "redis_allocator_rss_bytes", "allocator_resident less allocator_active, in bytes."),
	infoGauge("rss_overhead_ratio", "redis_rss_overhead_ratio", "Ratio of used_memory_rss to allocator_resident."),
	infoGauge("rss_overhead_bytes", "redis_rss_overhead_bytes", "used_memory_rss less allocator_resident, in bytes."),
	infoGauge("mem_fragmentation_ratio", "redis_mem_fragmentation_ratio", "Ratio of used_memory_rss to used_memory."),
	infoGauge("mem_fragmentation_bytes", "redis_mem_fragmentation_bytes", "used_memory_rss less used_memory, in bytes."),
	infoGauge("mem_not_counted_for_evict", "redis_mem_not_counted_for_eviction_bytes", "Bytes of used memory not counted toward maxmemory eviction."),
	infoGauge("mem_replication_backlog", "redis_mem_replication_backlog_bytes", "Bytes used by the replication backlog."),
	infoGauge("mem_total_replication_buffers", "redis_mem_total_replication_buffers_bytes", "Bytes used by replication buffers."),
	infoGauge("mem_clients_slaves", "redis_mem_clients_slaves_bytes", "Bytes used by replica clients.").was("redis_mem_clients_slaves"),
	infoGauge("mem_clients_normal", "redis_mem_clients_normal_bytes", "Bytes used by normal clients.").was("redis_mem_clients_normal"),
	infoGauge("mem_cluster_links", "redis_mem_cluster_links_bytes", "Bytes used by cluster bus links."),
	infoGauge("mem_aof_buffer", "redis_mem_aof_buffer_bytes", "Bytes used by the AOF buffers."),
	infoGauge("active_defrag_running", "redis_active_defrag_running", "Whether active defragmentation is running (1) or not (0)."),
	infoGauge("lazyfree_pending_objects", "redis_lazyfree_pending_objects", "Objects waiting to be freed by the lazyfree thread."),
	infoCounter("lazyfreed_objects", "redis_lazyfreed_objects_total", "Objects freed lazily.").was("redis_lazyfreed_objects"),

	// Persistence
	infoGauge("loading", "redis_loading_dump_file", "Whether a dump file is loading (1) or not (0)."),
	infoGauge("loading_start_time", "redis_loading_start_timestamp_seconds", "Unix time the running load of the dataset started (only while loading)."),
	infoGauge("loading_total_bytes", "redis_loading_total_bytes", "Size of the file being loaded, in bytes (only while loading)."),
	infoGauge("loading_rdb_used_mem", "redis_loading_rdb_used_memory_bytes", "Memory the server that made the RDB file used, in bytes (only while loading)."),
	infoGauge("loading_loaded_bytes", "redis_loading_loaded_bytes", "Bytes loaded so far (only while loading)."),
	infoGauge("loading_loaded_perc", "redis_loading_loaded_percent", "Percentage of the dataset loaded so far (only while loading)."),
	infoGauge("loading_eta_seconds", "redis_loading_eta_seconds", "Seconds Redis expects the load to take still (only while loading)."),
	infoGauge("async_loading", "redis_async_loading", "Whether a replication dataset loads asynchronously while serving old data (1) or not (0)."),
	infoGauge("current_cow_peak", "redis_current_cow_peak_bytes", "Peak copy-on-write bytes of the running fork (save or rewrite); 0 when none runs."),
	infoGauge("current_cow_size", "redis_current_cow_size_bytes", "Copy-on-write bytes of the running fork; 0 when none runs."),
	infoGauge("current_cow_size_age", "redis_current_cow_size_age_seconds", "Seconds since redis_current_cow_size_bytes was measured."),
	infoGauge("current_fork_perc", "redis_current_fork_percent", "Progress of the running fork (save or rewrite), in percent; 0 when none runs."),
	infoGauge("current_save_keys_processed", "redis_current_save_keys_processed", "Keys the running save has written."),
	infoGauge("current_save_keys_total", "redis_current_save_keys", "Keys the running save will write in all."),
	infoGauge("rdb_last_load_keys_expired", "redis_rdb_last_load_keys_expired", "Keys found expired, and dropped, by the last RDB load."),
	infoGauge("rdb_last_load_keys_loaded", "redis_rdb_last_load_keys_loaded", "Keys loaded by the last RDB load."),
	infoGauge("rdb_changes_since_last_save", "redis_rdb_changes_since_last_save", "Changes since the last RDB save."),
	infoGauge("rdb_bgsave_in_progress", "redis_rdb_bgsave_in_progress", "Whether an RDB save is in progress (1) or not (0)."),
	infoGauge("rdb_last_save_time", "redis_rdb_last_save_timestamp_seconds", "Unix time of the last successful RDB save."),
	infoStatus("rdb_last_bgsave_status", "redis_rdb_last_bgsave_status", "Whether the last RDB save succeeded (1) or failed (0)."),
	infoGauge("rdb_last_bgsave_time_sec", "redis_rdb_last_bgsave_duration_seconds", "Duration of the last RDB save in seconds; -1 before the first.").was("redis_rdb_last_bgsave_duration_sec"),
	infoGauge("rdb_current_bgsave_time_sec", "redis_rdb_current_bgsave_duration_seconds", "Duration of the running RDB save in seconds; -1 when none runs.").was("redis_rdb_current_bgsave_duration_sec"),
	infoCounter("rdb_saves", "redis_rdb_saves_total", "RDB snapshots taken since start."),
	infoGauge("rdb_last_cow_size", "redis_rdb_last_cow_size_bytes", "Copy-on-write bytes of the last RDB save."),
	infoGauge("aof_enabled", "redis_aof_enabled", "Whether AOF is enabled (1) or not (0)."),
	infoGauge("aof_rewrite_in_progress", "redis_aof_rewrite_in_progress", "Whether an AOF rewrite is in progress (1) or not (0)."),
	infoGauge("aof_rewrite_scheduled", "redis_aof_rewrite_scheduled", "Whether an AOF rewrite waits for an RDB save to end (1) or not (0)."),
	infoGauge("aof_last_rewrite_time_sec", "redis_aof_last_rewrite_duration_seconds", "Duration of the last AOF rewrite in seconds; -1 before the first.").was("redis_aof_last_rewrite_duration_sec"),
	infoGauge("aof_current_rewrite_time_sec", "redis_aof_current_rewrite_duration_seconds", "Duration of the running AOF rewrite in seconds; -1 when none runs.").was("redis_aof_current_rewrite_duration_sec"),
	infoStatus("aof_last_bgrewrite_status", "redis_aof_last_bgrewrite_status", "Whether the last AOF rewrite succeeded (1) or failed (0)."),
	infoStatus("aof_last_write_status", "redis_aof_last_write_status", "Whether the last AOF write succeeded (1) or failed (0)."),
	infoGauge("aof_last_cow_size", "redis_aof_last_cow_size_bytes", "Copy-on-write bytes of the last AOF rewrite."),
	infoCounter("aof_rewrites", "redis_aof_rewrites_total", "AOF rewrites since start."),
	infoGauge("aof_rewrites_consecutive_failures", "redis_aof_rewrites_consecutive_failures", "AOF rewrites that failed in a row."),
	infoGauge("aof_current_size", "redis_aof_current_size_bytes", "Current AOF size in bytes."),
	infoGauge("aof_base_size", "redis_aof_base_size_bytes", "AOF size at the last start or rewrite, in bytes."),
	infoGauge("aof_buffer_length", "redis_aof_buffer_length_bytes", "Bytes in the AOF buffer.").was("redis_aof_buffer_length"),
	infoGauge("aof_pending_bio_fsync", "redis_aof_pending_bio_fsync", "fsync jobs pending in the background I/O queue."),
	infoCounter("aof_delayed_fsync", "redis_aof_delayed_fsync_total", "Delayed fsync operations.").was("redis_aof_delayed_fsync"),
	infoGauge("module_fork_in_progress", "redis_module_fork_in_progress", "Whether a module fork is in progress (1) or not (0)."),
	infoGauge("module_fork_last_cow_size", "redis_module_fork_last_cow_size_bytes", "Copy-on-write bytes of the last module fork.").was("redis_module_fork_last_cow_size"),

	// Stats
	infoCounter("total_connections_received", "redis_connections_received_total", "Connections accepted by the server."),
	infoCounter("total_commands_processed", "redis_commands_processed_total", "Commands processed by the server."),
	infoGauge("instantaneous_ops_per_sec", "redis_instantaneous_ops_per_second", "Commands processed per second, as Redis samples it; prefer rate(redis_commands_processed_total).").was("redis_instantaneous_ops_per_sec"),
	infoCounter("total_net_input_bytes", "redis_net_input_bytes_total", "Bytes read from the network."),
	infoScaled(infoGauge("instantaneous_input_kbps", "redis_instantaneous_input_bytes_per_second", "Network read rate, as Redis samples it, in bytes per second; prefer rate(redis_net_input_bytes_total)."), 1024),
	infoScaled(infoGauge("instantaneous_output_kbps", "redis_instantaneous_output_bytes_per_second", "Network write rate, as Redis samples it, in bytes per second; prefer rate(redis_net_output_bytes_total)."), 1024),
	infoScaled(infoGauge("instantaneous_input_repl_kbps", "redis_instantaneous_input_repl_bytes_per_second", "Replication read rate, as Redis samples it, in bytes per second."), 1024),
	infoScaled(infoGauge("instantaneous_output_repl_kbps", "redis_instantaneous_output_repl_bytes_per_second", "Replication write rate, as Redis samples it, in bytes per second."), 1024),
	infoCounter("total_net_output_bytes", "redis_net_output_bytes_total", "Bytes written to the network."),
	infoCounter("total_net_repl_input_bytes", "redis_net_repl_input_bytes_total", "Bytes read from the network for replication."),
	infoCounter("total_net_repl_output_bytes", "redis_net_repl_output_bytes_total", "Bytes written to the network for replication."),
	infoCounter("rejected_connections", "redis_rejected_connections_total", "Connections rejected because of the maxclients limit."),
	infoCounter("expired_keys", "redis_expired_keys_total", "Keys deleted because their time to live ran out."),
	infoGauge("expired_stale_perc", "redis_expired_stale_percentage", "Estimated percentage of keys that are expired but not yet deleted."),
	infoCounter("expired_time_cap_reached_count", "redis_expired_time_cap_reached_total", "Active expire cycles that stopped early at their time limit."),
	infoScaled(infoCounter("expire_cycle_cpu_milliseconds", "redis_expire_cycle_cpu_seconds_total", "CPU seconds spent on active expiry cycles."), 1e-3).was("redis_expire_cycle_cpu_time_ms_total"),
	infoCounter("evicted_keys", "redis_evicted_keys_total", "Keys evicted because of the maxmemory limit."),
	infoCounter("evicted_clients", "redis_evicted_clients_total", "Clients evicted because of the maxmemory-clients limit."),
	infoCounter("evicted_scripts", "redis_evicted_scripts_total", "EVAL scripts evicted from the script cache (Redis 7.4+, Valkey 8.0+)."),
	infoCounter("expired_subkeys", "redis_expired_subkeys_total", "Hash fields deleted because their time to live ran out (Redis 8.0+)."),
	infoScaled(infoCounter("total_eviction_exceeded_time", "redis_eviction_exceeded_time_seconds_total", "Seconds used_memory spent above maxmemory."), 1e-3).was("redis_eviction_exceeded_time_ms_total"),
	infoScaled(infoGauge("current_eviction_exceeded_time", "redis_current_eviction_exceeded_time_seconds", "Seconds since used_memory last went above maxmemory; 0 when below."), 1e-3).was("redis_current_eviction_exceeded_time_ms"),
	infoCounter("keyspace_hits", "redis_keyspace_hits_total", "Successful lookups of keys in the main dictionary."),
	infoCounter("keyspace_misses", "redis_keyspace_misses_total", "Failed lookups of keys in the main dictionary."),
	infoGauge("pubsub_channels", "redis_pubsub_channels", "Pub/sub channels with client subscriptions."),
	infoGauge("pubsub_patterns", "redis_pubsub_patterns", "Pub/sub patterns with client subscriptions."),
	infoGauge("pubsubshard_channels", "redis_pubsubshard_channels", "Sharded pub/sub channels with client subscriptions."),
	infoScaled(infoGauge("latest_fork_usec", "redis_latest_fork_seconds", "Duration of the latest fork, in seconds."), 1e-6).was("redis_latest_fork_usec"),
	infoCounter("total_forks", "redis_forks_total", "Fork operations since start."),
	infoGauge("migrate_cached_sockets", "redis_migrate_cached_sockets", "Sockets open for MIGRATE.").was("redis_migrate_cached_sockets_total"),
	infoCounter("active_defrag_hits", "redis_defrag_hits_total", "Value reallocations performed by active defragmentation.").was("redis_defrag_hits"),
	infoCounter("active_defrag_misses", "redis_defrag_misses_total", "Aborted value reallocations started by active defragmentation.").was("redis_defrag_misses"),
	infoCounter("active_defrag_key_hits", "redis_defrag_key_hits_total", "Keys actively defragmented.").was("redis_defrag_key_hits"),
	infoCounter("active_defrag_key_misses", "redis_defrag_key_misses_total", "Keys skipped by active defragmentation.").was("redis_defrag_key_misses"),
	infoScaled(infoCounter("total_active_defrag_time", "redis_active_defrag_seconds_total", "Seconds memory fragmentation was over the limit and active defragmentation ran."), 1e-3),
	infoScaled(infoGauge("current_active_defrag_time", "redis_current_active_defrag_seconds", "Seconds since memory fragmentation went over the limit, while it is; 0 otherwise."), 1e-3),
	infoCounter("io_threaded_freed_objects", "redis_io_threaded_freed_objects_total", "Objects freed by I/O threads (Valkey 8.0+)."),
	infoGauge("tracking_total_keys", "redis_tracking_total_keys", "Keys tracked for client-side caching."),
	infoGauge("tracking_total_items", "redis_tracking_total_items", "Items (client and key pairs) tracked for client-side caching."),
	infoGauge("tracking_total_prefixes", "redis_tracking_total_prefixes", "Prefixes tracked for client-side caching in broadcast mode."),
	infoCounter("unexpected_error_replies", "redis_unexpected_error_replies_total", "Unexpected error replies: errors from AOF load or replication.").was("redis_unexpected_error_replies"),
	infoCounter("total_error_replies", "redis_error_replies_total", "Error replies sent, both rejected and failed commands.").was("redis_total_error_replies"),
	infoCounter("dump_payload_sanitizations", "redis_dump_payload_sanitizations_total", "Deep integrity checks of DUMP payloads.").was("redis_dump_payload_sanitizations"),
	infoCounter("total_reads_processed", "redis_reads_processed_total", "Read events processed.").was("redis_total_reads_processed"),
	infoCounter("total_writes_processed", "redis_writes_processed_total", "Write events processed.").was("redis_total_writes_processed"),
	infoCounter("io_threaded_reads_processed", "redis_io_threaded_reads_processed_total", "Read events processed by I/O threads.").was("redis_io_threaded_reads_processed"),
	infoCounter("io_threaded_writes_processed", "redis_io_threaded_writes_processed_total", "Write events processed by I/O threads.").was("redis_io_threaded_writes_processed"),
	infoCounter("reply_buffer_shrinks", "redis_reply_buffer_shrinks_total", "Times output buffers shrank."),
	infoCounter("reply_buffer_expands", "redis_reply_buffer_expands_total", "Times output buffers expanded."),
	infoCounter("eventloop_cycles", "redis_eventloop_cycles_total", "Event loop cycles (Redis 7.2+, Valkey 7.2+)."),
	infoScaled(infoCounter("eventloop_duration_sum", "redis_eventloop_duration_seconds_total", "Seconds spent in the event loop, I/O and commands included (Redis 7.2+, Valkey 7.2+)."), 1e-6),
	infoScaled(infoCounter("eventloop_duration_cmd_sum", "redis_eventloop_duration_cmd_seconds_total", "Seconds the event loop spent running commands (Redis 7.2+, Valkey 7.2+)."), 1e-6),
	infoGauge("instantaneous_eventloop_cycles_per_sec", "redis_instantaneous_eventloop_cycles_per_second", "Event loop cycles per second, as Redis samples it; prefer rate(redis_eventloop_cycles_total)."),
	infoScaled(infoGauge("instantaneous_eventloop_duration_usec", "redis_instantaneous_eventloop_duration_seconds", "Mean duration of an event loop cycle, as Redis samples it, in seconds."), 1e-6),
	infoCounter("acl_access_denied_auth", "redis_acl_access_denied_auth_total", "Authentication failures."),
	infoCounter("acl_access_denied_cmd", "redis_acl_access_denied_cmd_total", "Commands refused because of the ACL."),
	infoCounter("acl_access_denied_key", "redis_acl_access_denied_key_total", "Commands refused because of key access in the ACL."),
	infoCounter("acl_access_denied_channel", "redis_acl_access_denied_channel_total", "Commands refused because of channel access in the ACL."),
	infoCounter("client_query_buffer_limit_disconnections", "redis_client_query_buffer_limit_disconnections_total", "Clients disconnected for exceeding the query buffer limit."),
	infoCounter("client_output_buffer_limit_disconnections", "redis_client_output_buffer_limit_disconnections_total", "Clients disconnected for exceeding the output buffer limit."),

	// CPU
	infoCounter("used_cpu_sys", "redis_cpu_sys_seconds_total", "System CPU seconds consumed by the Redis server."),
	infoCounter("used_cpu_user", "redis_cpu_user_seconds_total", "User CPU seconds consumed by the Redis server."),
	infoCounter("used_cpu_sys_children", "redis_cpu_sys_children_seconds_total", "System CPU seconds consumed by background processes."),
	infoCounter("used_cpu_user_children", "redis_cpu_user_children_seconds_total", "User CPU seconds consumed by background processes."),
	infoCounter("used_cpu_sys_main_thread", "redis_cpu_sys_main_thread_seconds_total", "System CPU seconds consumed by the main thread."),
	infoCounter("used_cpu_user_main_thread", "redis_cpu_user_main_thread_seconds_total", "User CPU seconds consumed by the main thread."),

	// Cluster
	infoGauge("cluster_enabled", "redis_cluster_enabled", "Whether Redis runs in cluster mode (1) or not (0)."),
)

var (
	instanceInfo = gauge("redis_instance_info", "Always 1; the labels describe the Redis server. redis_mode is Valkey's server_mode where that is what INFO says; server_name and valkey_version are Valkey's (empty on Redis).",
		"role", "redis_version", "redis_build_id", "redis_mode", "os", "maxmemory_policy", "run_id", "tcp_port", "server_name", "valkey_version")
	startTime = gauge("redis_start_time_seconds", "Unix time the Redis server started.")
)

func init() {
	register(&collector{
		name:      "info",
		defaultOn: true,
		commands:  [][]any{infoAll},
		families:  append(infoFields.families(), instanceInfo, startTime),
		collect: func(r *replies, e *exposition.Emitter) error {
			fields, err := r.infoFields()
			if err != nil {
				return err
			}
			infoFields.emit(fields, e)
			v := map[string]string{} // the fields below, read in one pass
			for _, f := range fields {
				switch f.Key {
				case "role", "redis_version", "redis_build_id", "redis_mode", "os", "maxmemory_policy", "run_id", "tcp_port", "server_time_usec", "uptime_in_seconds",
					"server_name", "valkey_version":
					v[f.Key] = f.Value
				case "server_mode": // Valkey 8+, unless extended-redis-compatibility
					v["redis_mode"] = f.Value
				}
			}
			e.Emit(instanceInfo, 1, v["role"], v["redis_version"], v["redis_build_id"], v["redis_mode"],
				v["os"], v["maxmemory_policy"], v["run_id"], v["tcp_port"], v["server_name"], v["valkey_version"])
			now, err1 := strconv.ParseFloat(v["server_time_usec"], 64)
			up, err2 := strconv.ParseFloat(v["uptime_in_seconds"], 64)
			if err1 == nil && err2 == nil {
				e.Emit(startTime, float64(int64(now/1e6-up)))
			}
			return nil
		},
	})
}
