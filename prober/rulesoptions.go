package prober

import (
	"context"
	"fmt"
	"time"

	"github.com/redis-probe/redis_probe_exporter/internal/cache"
	"github.com/redis-probe/redis_probe_exporter/internal/info"
	"github.com/redis-probe/redis_probe_exporter/internal/rules"
)

// rulesOptions is how the probe runs its rules, from its own answers: the
// deadline for their round trips, what they may reuse, whether they are
// skipped (loading, a slow round trip), and the node's role for run_on.
func (r *replies) rulesOptions(ctx context.Context, memo *cache.Entry, roundTrip time.Duration) rules.Options {
	return rules.Options{Deadline: softDeadline(ctx), Cache: memo, RunID: r.runID(), Skip: r.skipRules(roundTrip), Role: r.role(), Cluster: r.infoField("cluster_enabled") == "1"}
}

// infoField is a field of INFO ALL, "" when INFO was not asked or failed.
func (r *replies) infoField(key string) string {
	if r.cmds[infoAllKey] == nil {
		return ""
	}
	fields, err := r.infoFields()
	if err != nil {
		return ""
	}
	v, _ := info.Get(fields, key)
	return v
}

// role is the node's role from INFO ALL, master or replica; "" when INFO
// was not asked or failed.
func (r *replies) role() string {
	switch r.infoField("role") {
	case "master":
		return "master"
	case "slave":
		return "replica"
	}
	return ""
}

// skipRules is why the probe's rules due to run are skipped, "" if they
// are not: Redis is loading its dataset, or the round trip took longer
// than the module's skip_rules_after.
func (r *replies) skipRules(roundTrip time.Duration) string {
	if r.infoField("loading") == "1" {
		return "Redis is loading its dataset"
	}
	if limit := time.Duration(r.module.SkipRulesAfter); limit > 0 && roundTrip > limit {
		return fmt.Sprintf("the round trip took %s, over skip_rules_after %s", roundTrip.Round(time.Millisecond), limit)
	}
	return ""
}
