package prober

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
)

// The sentinel collector reports a Redis Sentinel: its own state from the
// Sentinel section of INFO, and for each master it monitors (SENTINEL
// MASTERS) whether the master is up, how many of its replicas and fellow
// Sentinels are reachable, and whether the quorum can be reached. The
// per-master commands (SENTINEL REPLICAS, SENTINEL SENTINELS, SENTINEL
// CKQUORUM) need the master names, so they go in one follow-up round trip.
// The collector is off unless a module turns it on; on a Redis that is not a
// Sentinel, SENTINEL MASTERS fails and so does the collector.
var sentinelFields = newInfoTable(
	infoGauge("sentinel_masters", "redis_sentinel_masters", "Masters this Sentinel monitors."),
	infoGauge("sentinel_tilt", "redis_sentinel_tilt", "Whether this Sentinel is in TILT mode, watching but not acting (1), or not (0)."),
	infoGauge("sentinel_tilt_since_seconds", "redis_sentinel_tilt_since_seconds", "Seconds since this Sentinel entered TILT mode; -1 when it is not in TILT mode."),
	infoGauge("sentinel_running_scripts", "redis_sentinel_running_scripts", "Notification and client-reconfiguration scripts this Sentinel is running."),
	infoGauge("sentinel_scripts_queue_length", "redis_sentinel_scripts_queue_length", "Scripts queued in this Sentinel, waiting to run."),
	infoGauge("sentinel_simulate_failure_flags", "redis_sentinel_simulate_failure_flags", "Failures this Sentinel simulates (SENTINEL SIMULATE-FAILURE), as a bit mask; 0 normally."),
)

var (
	sentinelMasterStatus     = gauge("redis_sentinel_master_status", "Whether this Sentinel sees the master up (1): its flags hold none of s_down, o_down and disconnected; else 0.", "master_name", "master_address")
	sentinelMasterStatusInfo = gauge("redis_sentinel_master_status_info", "Always 1; master_status is the master's flags as SENTINEL MASTERS gives them (master, s_down, o_down, disconnected, failover_in_progress …).", "master_name", "master_address", "master_status")
	sentinelMasterSlaves     = gauge("redis_sentinel_master_slaves", "Replicas of the master this Sentinel knows of (num-slaves), reachable or not.", "master_name", "master_address")
	sentinelMasterOKSlaves   = gauge("redis_sentinel_master_ok_slaves", "Replicas of the master this Sentinel sees up: flags holding none of s_down, o_down and disconnected.", "master_name", "master_address")
	sentinelMasterSentinels  = gauge("redis_sentinel_master_sentinels", "Sentinels monitoring the master, this one included (num-other-sentinels + 1).", "master_name", "master_address")
	sentinelMasterOKSents    = gauge("redis_sentinel_master_ok_sentinels", "Sentinels monitoring the master that this Sentinel sees up, itself included: other Sentinels whose flags hold none of s_down, o_down and disconnected, plus 1.", "master_name", "master_address")
	sentinelMasterQuorum     = gauge("redis_sentinel_master_quorum", "The master's quorum setting: Sentinels that must agree it is down before a failover.", "master_name", "master_address").Was("redis_sentinel_master_setting_ckquorum")
	sentinelMasterCKQuorum   = gauge("redis_sentinel_master_ckquorum", "Whether SENTINEL CKQUORUM finds enough reachable Sentinels for the quorum and for a failover's majority (1) or not (0).", "master_name", "master_address").Was("redis_sentinel_master_ckquorum_status")
)

// sentinelMasterSettings are the numeric fields of a SENTINEL MASTERS entry
// exported as they are (scaled to base units), when the entry has them.
var sentinelMasterSettings = []struct {
	key   string
	f     *exposition.Family
	scale float64
}{
	{"config-epoch", gauge("redis_sentinel_master_config_epoch", "The master's configuration epoch: it rises with each failover, to the epoch of the election that made the new master.", "master_name", "master_address"), 1},
	{"last-ok-ping-reply", gauge("redis_sentinel_master_last_ok_ping_reply_seconds", "Seconds since the master last answered this Sentinel's PING validly.", "master_name", "master_address"), 1e-3},
	{"down-after-milliseconds", gauge("redis_sentinel_master_down_after_seconds", "The master's down-after-milliseconds setting, in seconds: how long it may not answer before this Sentinel sees it down.", "master_name", "master_address").Was("redis_sentinel_master_setting_down_after_milliseconds"), 1e-3},
	{"failover-timeout", gauge("redis_sentinel_master_failover_timeout_seconds", "The master's failover-timeout setting, in seconds.", "master_name", "master_address").Was("redis_sentinel_master_setting_failover_timeout"), 1e-3},
	{"parallel-syncs", gauge("redis_sentinel_master_parallel_syncs", "The master's parallel-syncs setting: replicas reconfigured at once after a failover.", "master_name", "master_address").Was("redis_sentinel_master_setting_parallel_syncs"), 1},
}

var sentinelMasters = []any{"SENTINEL", "MASTERS"}

func init() {
	c := &collector{
		name:      "sentinel",
		defaultOn: false,
		commands:  [][]any{infoAll, sentinelMasters},
		families: append(sentinelFields.families(),
			sentinelMasterStatus, sentinelMasterStatusInfo, sentinelMasterSlaves, sentinelMasterOKSlaves,
			sentinelMasterSentinels, sentinelMasterOKSents, sentinelMasterQuorum, sentinelMasterCKQuorum),
		collect: collectSentinel,
	}
	for _, st := range sentinelMasterSettings {
		c.families = append(c.families, st.f)
	}
	register(c)
}

// sentinelMaster is what the collector learnt of one monitored master.
type sentinelMaster struct {
	entry                  map[string]string // as SENTINEL MASTERS gave it
	name, address, flags   string
	slaves, otherSentinels float64
	quorum                 float64
	okSlaves, okSentinels  float64
	ckquorum               bool
}

func collectSentinel(r *replies, e *exposition.Emitter) error {
	fields, err := r.infoFields()
	if err != nil {
		return err
	}
	entries, err := sentinelEntries(r.reply(sentinelMasters...).Val())
	if err != nil {
		return fmt.Errorf("SENTINEL MASTERS: %w", err)
	}
	masters := make([]sentinelMaster, len(entries))
	for i, m := range entries {
		if m["name"] == "" {
			return fmt.Errorf("SENTINEL MASTERS: entry without a name: %v", m)
		}
		masters[i] = sentinelMaster{entry: m, name: m["name"], address: net.JoinHostPort(m["ip"], m["port"]), flags: m["flags"]}
		for _, n := range []struct {
			key string
			v   *float64
		}{{"num-slaves", &masters[i].slaves}, {"num-other-sentinels", &masters[i].otherSentinels}, {"quorum", &masters[i].quorum}} {
			if *n.v, err = strconv.ParseFloat(m[n.key], 64); err != nil {
				return fmt.Errorf("SENTINEL MASTERS: master %s: %s %q", m["name"], n.key, m[n.key])
			}
		}
	}

	if len(masters) > 0 {
		cmds := make([][]any, 0, 3*len(masters))
		for _, m := range masters {
			cmds = append(cmds,
				[]any{"SENTINEL", "REPLICAS", m.name},
				[]any{"SENTINEL", "SENTINELS", m.name},
				[]any{"SENTINEL", "CKQUORUM", m.name})
		}
		answers := r.followUp(cmds)
		for i := range masters {
			m := &masters[i]
			replicas, sentinels, ckquorum := answers[3*i], answers[3*i+1], answers[3*i+2]
			if m.okSlaves, err = countUp(replicas); err != nil {
				return fmt.Errorf("SENTINEL REPLICAS %s: %w", m.name, err)
			}
			if m.okSentinels, err = countUp(sentinels); err != nil {
				return fmt.Errorf("SENTINEL SENTINELS %s: %w", m.name, err)
			}
			m.okSentinels++ // this Sentinel
			// CKQUORUM answers an error (NOQUORUM …) when the quorum cannot be
			// reached: that is the answer, not a failure. A broken connection
			// or a deadline is.
			err := ckquorum.Err()
			var redisErr redis.Error
			switch {
			case err == nil:
				m.ckquorum = strings.HasPrefix(fmt.Sprint(ckquorum.Val()), "OK")
			case errors.As(err, &redisErr):
				m.ckquorum = false
			default:
				return fmt.Errorf("SENTINEL CKQUORUM %s: %w", m.name, err)
			}
		}
	}

	// Everything parsed: emit, so that a failure above emits nothing.
	sentinelFields.emit(fields, e)
	for _, m := range masters {
		e.Emit(sentinelMasterStatus, boolValue(strings.Contains(","+m.flags+",", ",master,") && !isDown(m.flags)), m.name, m.address)
		e.Emit(sentinelMasterStatusInfo, 1, m.name, m.address, m.flags)
		e.Emit(sentinelMasterSlaves, m.slaves, m.name, m.address)
		e.Emit(sentinelMasterOKSlaves, m.okSlaves, m.name, m.address)
		e.Emit(sentinelMasterSentinels, m.otherSentinels+1, m.name, m.address)
		e.Emit(sentinelMasterOKSents, m.okSentinels, m.name, m.address)
		e.Emit(sentinelMasterQuorum, m.quorum, m.name, m.address)
		e.Emit(sentinelMasterCKQuorum, boolValue(m.ckquorum), m.name, m.address)
		for _, st := range sentinelMasterSettings {
			if v, err := strconv.ParseFloat(m.entry[st.key], 64); err == nil {
				e.Emit(st.f, v*st.scale, m.name, m.address)
			}
		}
	}
	return nil
}

// countUp counts the instances in a SENTINEL REPLICAS or SENTINEL SENTINELS
// reply whose flags say neither down nor disconnected.
func countUp(cmd *redis.Cmd) (float64, error) {
	if err := cmd.Err(); err != nil {
		return 0, err
	}
	entries, err := sentinelEntries(cmd.Val())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, en := range entries {
		if !isDown(en["flags"]) {
			n++
		}
	}
	return float64(n), nil
}

// isDown reports whether comma-separated Sentinel flags such as
// "slave,s_down,disconnected" mark the instance down or unreachable.
func isDown(flags string) bool {
	for f := range strings.SplitSeq(flags, ",") {
		switch f {
		case "s_down", "o_down", "disconnected":
			return true
		}
	}
	return false
}

// sentinelEntries reads the reply of SENTINEL MASTERS, REPLICAS or SENTINELS:
// an array of instances, each a flat name, value, name, value … array
// (RESP2) or a map (RESP3).
func sentinelEntries(v any) ([]map[string]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("unexpected reply %T", v)
	}
	out := make([]map[string]string, 0, len(list))
	for _, item := range list {
		m := map[string]string{}
		switch it := item.(type) {
		case []any:
			if len(it)%2 != 0 {
				return nil, fmt.Errorf("odd number of fields in %v", it)
			}
			for i := 0; i < len(it); i += 2 {
				m[fmt.Sprint(it[i])] = fmt.Sprint(it[i+1])
			}
		case map[any]any:
			for k, v := range it {
				m[fmt.Sprint(k)] = fmt.Sprint(v)
			}
		default:
			return nil, fmt.Errorf("unexpected entry %T", item)
		}
		out = append(out, m)
	}
	return out, nil
}
