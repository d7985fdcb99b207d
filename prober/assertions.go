package prober

import (
	"fmt"
	"strconv"

	"github.com/go-kit/log"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/internal/info"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

// A module's expect: assertions, checked on the probe's own answers (INFO
// ALL, and CLUSTER INFO for cluster_state), blackbox-style: one that fails
// sets probe_success to 0 while redis_up stays 1, is logged, and is
// exported as probe_assertion_success{assertion}. An assertion whose
// answer is missing (a forbidden or failed command) fails.
var assertionSuccess = gauge("probe_assertion_success", "Whether the module's expect: assertion held (1) or not (0); one that fails sets probe_success to 0 while redis_up stays 1.", "assertion")

// assertionCommands are the commands x's assertions read.
func assertionCommands(x *modules.Expect) [][]any {
	if x == nil {
		return nil
	}
	cmds := [][]any{infoAll}
	if x.ClusterState != "" {
		cmds = append(cmds, clusterInfoCmd)
	}
	return cmds
}

// assert checks each assertion x sets, emits its result, logs each that
// failed, and reports whether all held.
func (r *replies) assert(x *modules.Expect, e *exposition.Emitter, logger log.Logger) bool {
	if x == nil {
		return true
	}
	fields, infoErr := r.infoFields()
	held := true
	check := func(name string, ok bool, want, got string, err error) {
		switch {
		case err != nil:
			ok = false
			logger.Log("msg", "Assertion failed", "assertion", name, "want", want, "err", err)
		case !ok:
			logger.Log("msg", "Assertion failed", "assertion", name, "want", want, "got", got)
		}
		held = held && ok
		e.Emit(assertionSuccess, boolValue(ok), name)
	}
	if x.Role != "" {
		role := r.role()
		check("role", role == x.Role, x.Role, role, infoErr)
	}
	if x.Loading != nil {
		loading := r.infoField("loading") == "1"
		check("loading", loading == *x.Loading, strconv.FormatBool(*x.Loading), strconv.FormatBool(loading), infoErr)
	}
	if x.MasterLink != "" {
		link := r.infoField("master_link_status")
		if link == "" {
			link = "none: not a replica"
		}
		check("master_link", link == x.MasterLink, x.MasterLink, link, infoErr)
	}
	if x.MinReplicas != nil {
		n := onlineReplicas(fields)
		check("min_replicas", n >= *x.MinReplicas, fmt.Sprintf("at least %d online", *x.MinReplicas), strconv.Itoa(n), infoErr)
	}
	if x.ClusterState != "" {
		text, err := r.reply(clusterInfoCmd...).Text()
		state, _ := info.Get(info.Parse(text), "cluster_state")
		if err != nil {
			err = fmt.Errorf("CLUSTER INFO: %w", err)
		}
		check("cluster_state", state == x.ClusterState, x.ClusterState, state, err)
	}
	return held
}

// onlineReplicas counts a master's replicas in state online.
func onlineReplicas(fields []info.Field) int {
	n := 0
	for _, f := range fields {
		if f.Section == "replication" && isReplicaLine(f.Key) {
			info.Pairs(f.Value, func(k, v string) {
				if k == "state" && v == "online" {
					n++
				}
			})
		}
	}
	return n
}
