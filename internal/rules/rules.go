// Package rules runs a module's key and script rules on a probe's
// connection: a key rule walks SCAN (or takes its listed keys) in bounded
// batches and measures each batch in pipelined round trips; a script rule
// runs a read-only Lua script. Each rule writes its own family and its
// status into the probe's exposition; a failed rule leaves the rest of the
// probe standing.
//
// The status families are declared by the program (Declare) in the same
// exposition.Set as its collectors' families, so that their names are
// reserved with the rest and documented with them.
package rules

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/cache"
	"github.com/redis-probe/redis_probe_exporter/internal/conn"
	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

// Status is the families every rule reports beside its own metric (script
// rules: success only).
type Status struct {
	success, keys, truncated, age, skipped, foreign *exposition.Family
}

// Declare declares the status families in s. Call it once, at init, as
// the program declares its other families.
func Declare(s *exposition.Set) *Status {
	return &Status{
		success:   s.Gauge("redis_key_rule_success", "Whether the key or script rule ran without error (1) or not (0); a failed rule leaves the rest of the probe standing.", "rule"),
		keys:      s.Gauge("redis_key_rule_keys", "Keys the rule matched and measured in this probe.", "rule"),
		truncated: s.Gauge("redis_key_rule_truncated", "Whether max_keys or the probe deadline cut the rule short (1) or not (0).", "rule"),
		age:       s.Gauge("redis_key_rule_age_seconds", "Seconds since the rule's result was measured: 0 when this probe ran the rule, more when a result kept under its refresh_interval, or while rules are skipped, is served.", "rule"),
		foreign:   s.Gauge("redis_key_rule_foreign_keys", "Keys the rule skipped because another Redis Cluster node serves them (MOVED or ASK); only on Cluster nodes.", "rule"),
		skipped:   s.Gauge("redis_key_rule_skipped", "Whether the rule was due to run but skipped (1), because Redis was loading its dataset or the probe's round trip took longer than skip_rules_after; its last result, if any, is served.", "rule"),
	}
}

// Families are the status families, in the order of docs/metrics.md.
func (st *Status) Families() []*exposition.Family {
	return []*exposition.Family{st.success, st.keys, st.truncated, st.age, st.skipped, st.foreign}
}

// Rules are a module's key and script rules with their families made:
// compiled once, when the module's config loads, and run by every probe of
// the module.
type Rules struct {
	status  *Status
	keys    []*keyRule
	scripts []*scriptRule
}

// Compile makes the rules of a module's keys: and scripts: entries, which
// config validation has checked.
func (st *Status) Compile(keys []modules.KeyRule, scripts []modules.ScriptRule) *Rules {
	r := &Rules{status: st}
	for i := range keys {
		r.keys = append(r.keys, compileKey(&keys[i]))
	}
	for i := range scripts {
		r.scripts = append(r.scripts, compileScript(&scripts[i]))
	}
	return r
}

// Len is the number of rules.
func (r *Rules) Len() int { return len(r.keys) + len(r.scripts) }

// Options are how one probe runs the rules.
type Options struct {
	Deadline time.Time    // no round trip starts past it
	Cache    *cache.Entry // keeps results between probes; nil keeps none
	RunID    string       // of the Redis probed: a result kept from another run is not served
	Skip     string       // why rules due to run are skipped now; "" runs them
	Role     string       // of the node probed, master or replica ("" unknown): rules whose run_on differs do not run
	Cluster  bool         // the node probed is a Redis Cluster node: keys other nodes serve are skipped and counted
}

// Run runs the rules on client, key rules first, each writing its series
// and status into e. No round trip starts after o.Deadline (a rule it cuts
// short reports itself truncated) or once ctx is done. A rule with a
// refresh_interval serves its last successful result from o.Cache until
// the interval has passed; while o.Skip is set, rules due to run serve
// their last result, if any, instead. Rules return to the client's
// database after each batch, so that a pooled connection is left as it
// was. Run returns the reply the connection guard refused, if one was: the
// probe fails, and no rule after it sends anything.
func (r *Rules) Run(ctx context.Context, client *redis.Client, o Options, e *exposition.Emitter, logger log.Logger) (broken error) {
	x := &runner{ctx: ctx, client: client, db: client.Options().DB, deadline: o.Deadline, status: r.status, cluster: o.Cluster}
	for _, k := range r.keys {
		if x.runsOn(k.RunOn, o.Role, k.Metric, e, logger) {
			x.run(o, k.Metric, time.Duration(k.RefreshInterval), func(out sink) bool { return x.runKey(k, out, logger) }, e, logger)
		}
	}
	for _, s := range r.scripts {
		if x.runsOn(s.RunOn, o.Role, s.Metric, e, logger) {
			x.run(o, s.Metric, time.Duration(s.RefreshInterval), func(out sink) bool { return x.runScript(s, out, logger) }, e, logger)
		}
	}
	return x.broken
}

// runsOn reports whether a rule with run_on runOn runs on a node of role.
// On a node of the other role the rule gives no series at all, as on a
// node it does not concern, and the probe log says so. When the role is
// unknown (INFO failed, or is forbidden by the ACL) only the rules for any
// node run; the others fail, so that they are not silently missing.
func (x *runner) runsOn(runOn, role, name string, e *exposition.Emitter, logger log.Logger) bool {
	switch {
	case runOn == "" || runOn == "any" || runOn == role:
		return true
	case role == "":
		logger.Log("msg", "Rule failed", "rule", name, "err", "run_on "+runOn+": the node's role is unknown (INFO failed)")
		e.Emit(x.status.success, 0, name)
	default:
		logger.Log("msg", "Rule not run on this node", "rule", name, "run_on", runOn, "role", role)
	}
	return false
}

// sink takes a rule's series: the probe's exposition, or a recording.
type sink interface {
	Emit(f *exposition.Family, v float64, labels ...string)
}

// recording is a rule's result, as kept between probes.
type recording []emitted

type emitted struct {
	f      *exposition.Family
	v      float64
	labels []string
}

func (r *recording) Emit(f *exposition.Family, v float64, labels ...string) {
	*r = append(*r, emitted{f, v, slices.Clone(labels)})
}

func (r recording) replay(e sink) {
	for _, s := range r {
		e.Emit(s.f, s.v, s.labels...)
	}
}

// run emits the result of the rule named name: its last whole result
// while younger than every, or while rules are skipped; else a new one
// from measure, kept for the next probes when every is set and measure
// reports it whole (a failed rule, or one the deadline cut short, runs
// again at the next probe). Then the
// result's age, and whether the rule was skipped.
func (x *runner) run(o Options, name string, every time.Duration, measure func(sink) bool, e *exposition.Emitter, logger log.Logger) {
	now := time.Now()
	var kept cache.Value
	have := false
	if o.Cache != nil {
		kept, have = o.Cache.Get("rule:" + name)
		have = have && kept.RunID == o.RunID && o.RunID != ""
	}
	switch {
	case have && (o.Skip != "" || now.Sub(kept.At) < every):
		kept.V.(recording).replay(e)
		e.Emit(x.status.age, now.Sub(kept.At).Seconds(), name)
	case o.Skip != "":
		logger.Log("msg", "Rule skipped", "rule", name, "reason", o.Skip)
	default:
		var rec recording
		ok := measure(&rec)
		rec.replay(e)
		e.Emit(x.status.age, 0, name)
		if ok && every > 0 && o.Cache != nil {
			o.Cache.Put("rule:"+name, cache.Value{V: rec, At: now, RunID: o.RunID})
		}
	}
	due := !have || now.Sub(kept.At) >= every
	e.Emit(x.status.skipped, boolValue(o.Skip != "" && due), name)
}

// runner runs the rules of one probe on one connection pool.
type runner struct {
	ctx      context.Context
	client   *redis.Client
	db       int       // the target's database, which each batch returns to
	deadline time.Time // no new round trip starts past it
	status   *Status
	cluster  bool  // a Cluster node: MOVED and ASK replies skip their key
	broken   error // a reply broke the module's limits: no more round trips
}

// foreignKey reports whether err redirects the key to another Cluster node.
func (x *runner) foreignKey(err error) bool {
	if !x.cluster || err == nil {
		return false
	}
	msg := err.Error()
	return strings.HasPrefix(msg, "MOVED ") || strings.HasPrefix(msg, "ASK ")
}

var errDeadline = errors.New("probe deadline")

// exec sends cmds in one pipelined round trip in database db, returning to
// the target's database after, so that the pooled connection is as it was.
func (x *runner) exec(db int, cmds [][]any) ([]*redis.Cmd, error) {
	if err := x.ctx.Err(); err != nil {
		return nil, err // the client went away, or the deadline passed
	}
	if time.Now().After(x.deadline) {
		return nil, errDeadline
	}
	if x.broken != nil {
		return nil, x.broken
	}
	pipe := x.client.Pipeline()
	var sel *redis.Cmd
	if db != x.db {
		sel = pipe.Do(x.ctx, "SELECT", db)
	}
	out := make([]*redis.Cmd, len(cmds))
	for i, args := range cmds {
		out[i] = pipe.Do(x.ctx, args...)
	}
	if db != x.db {
		pipe.Do(x.ctx, "SELECT", x.db)
	}
	_, err := pipe.Exec(x.ctx)
	for _, c := range out {
		if conn.Refused(c.Err()) {
			x.broken = c.Err()
			return nil, x.broken
		}
	}
	if err != nil && !isRedisError(err) {
		return nil, err // the connection failed: nothing was answered
	}
	if sel != nil && sel.Err() != nil {
		return nil, fmt.Errorf("SELECT %d: %w", db, sel.Err()) // the commands ran in another db
	}
	return out, nil
}

func isRedisError(err error) bool {
	var re redis.Error
	return errors.As(err, &re) || errors.Is(err, redis.Nil)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
