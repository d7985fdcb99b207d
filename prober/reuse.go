package prober

import (
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/cache"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

// What a probe reuses from earlier probes of its target, auth and module:
// the answers of slow collectors (CONFIG GET, MODULE LIST) for the
// module's refresh_interval, and the results of rules with their own
// (internal/rules). Both are checked against INFO's run_id, so a restarted
// Redis is asked again at once; without INFO ALL in the plan nothing is
// reused.

// keptAnswers are the kept answers to the plan's slow commands that are
// young enough to reuse, by index in p.commands. Whether they came from the
// Redis that answers now is known after the round trip (settle).
func keptAnswers(p *plan, m *modules.Module, memo *cache.Entry, now time.Time) map[int]cache.Value {
	every := m.Refresh()
	if memo == nil || every == 0 || !p.info {
		return nil
	}
	var kept map[int]cache.Value
	for i, k := range p.keys {
		if !p.slow[i] {
			continue
		}
		if v, ok := memo.Get(k); ok && now.Sub(v.At) < every {
			if kept == nil {
				kept = map[int]cache.Value{}
			}
			kept[i] = v
		}
	}
	return kept
}

// settle files the kept answers that came from the Redis run INFO reports
// as this probe's replies, asks again in one more round trip for those
// that did not (Redis restarted), and keeps every slow answer fetched now
// that succeeded.
func (r *replies) settle(p *plan, kept map[int]cache.Value, memo *cache.Entry, every time.Duration, now time.Time, logger log.Logger) {
	if memo == nil || every == 0 || !p.info {
		return
	}
	runID := r.runID()
	var again [][]any
	for i, v := range kept {
		if !v.Fresh(runID, every, now) {
			again = append(again, p.commands[i])
			delete(kept, i)
			continue
		}
		c := redis.NewCmd(r.ctx, p.commands[i]...)
		c.SetVal(v.V)
		r.cmds[p.keys[i]] = c
	}
	if len(again) > 0 {
		logger.Log("msg", "Kept answers came from another Redis run: asking again", "commands", len(again), "run_id", runID)
		for i, c := range r.followUp(again) {
			r.cmds[commandKey(again[i])] = c
		}
	}
	if runID == "" {
		return
	}
	for i, k := range p.keys {
		if _, reused := kept[i]; !reused && p.slow[i] && r.cmds[k].Err() == nil {
			memo.Put(k, cache.Value{V: r.cmds[k].Val(), At: now, RunID: runID})
		}
	}
}

// runID is the run_id INFO ALL reported, "" if it was not asked or failed.
func (r *replies) runID() string {
	return strings.Clone(r.infoField("run_id")) // kept in the cache: not a slice of the whole INFO text
}
