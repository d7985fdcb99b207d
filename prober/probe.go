// Package prober probes one Redis: it sends every enabled collector's fixed
// commands in one pipelined round trip, turns the replies into metrics, and
// serves the result on /probe.
package prober

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/cache"
	"github.com/redis-probe/redis_probe_exporter/internal/conn"
	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

// Result is what one probe found.
type Result struct {
	Metrics *exposition.Emitter
	Success bool
	Retries int // round trips retried after a connection failure
}

// Probe collects the metrics of the Redis that client reaches, as module m
// asks. It ends by ctx's deadline. PING goes first in the pipeline: its
// answer is what redis_up and probe_success report, so that a forbidden or
// failing collector command never marks a healthy Redis down. A reply that
// breaks the module's limits fails the probe, as does a failed expect:
// assertion. memo, if not nil, keeps what
// probes of this target, auth and module may reuse (see reuse.go).
func Probe(ctx context.Context, client *redis.Client, m *modules.Module, memo *cache.Entry, logger log.Logger) Result {
	start := time.Now()
	p := planFor(m)
	e := exposition.NewEmitter(p.keep)

	kept := keptAnswers(p, m, memo, start)
	t := roundTrip(ctx, client, p, kept, m.Retries, logger)
	r := &replies{ctx: ctx, client: client, module: m, cmds: t.cmds}
	defer r.release()

	// A connection that failed to open or authenticate leaves the commands
	// unanswered and without errors: only PONG proves Redis served us, or
	// the LOADING error of a Redis loading its dataset, which answers INFO
	// (and so its loading progress) but refuses PING and most commands.
	isLoading := loading(t.ping.Err())
	up := t.ping.Val() == "PONG" || isLoading
	asserted := true // the module's expect: held, or it has none
	broken := limitBroken(t.ping, r.cmds)
	if up && broken == nil {
		logger.Log("msg", "Round trip done", "commands", len(p.commands)+1-len(kept), "kept_answers", len(kept), "duration_seconds", t.took.Seconds())
		r.settle(p, kept, memo, m.Refresh(), start, logger)
		broken = limitBroken(t.ping, r.cmds) // the answers asked again, if any
	}
	if up && broken == nil {
		for _, st := range p.steps {
			err := r.failed(st.keys)
			if err == nil {
				err = st.c.collect(r, e)
			}
			if err != nil {
				logger.Log("msg", "Collector failed", "collector", st.c.name, "err", err)
			}
			e.Emit(collectorSuccess, boolValue(err == nil), st.c.name)
		}
		asserted = r.assert(m.Expect, e, logger)
		if p.rules.Len() > 0 {
			broken = p.rules.Run(ctx, client, r.rulesOptions(ctx, memo, t.took), e, logger)
		}
	}
	switch {
	case broken != nil:
		logger.Log("msg", "Reply refused: connection closed", "err", broken)
	case !up:
		err := t.ping.Err()
		if err == nil {
			err = t.err
		}
		logger.Log("msg", "Redis did not answer PING", "err", err)
	}
	if isLoading {
		logger.Log("msg", "Redis is loading its dataset: it answers INFO but no other command yet")
	}
	ok := up && broken == nil && asserted && !isLoading // up, not yet serving

	if n, example := e.Duplicates(); n > 0 {
		logger.Log("msg", "Dropped series that repeat an earlier one's name and labels", "count", n, "first", example)
	}
	d := time.Since(start).Seconds()
	e.Emit(redisUp, boolValue(up))
	e.Emit(probeSuccess, boolValue(ok))
	e.Emit(probeDuration, d)
	if ok {
		logger.Log("msg", "Probe succeeded", "duration_seconds", d)
	} else {
		logger.Log("msg", "Probe failed", "duration_seconds", d)
	}
	return Result{Metrics: e, Success: ok, Retries: t.retries}
}

// roundTrip sends PING and the plan's commands, but for those kept, in one
// pipeline. When the
// connection fails before PONG came back (see retryable), the round trip
// is sent again on another connection, after an exponential backoff with
// jitter, as long as the module's attempts and the deadline allow. A
// connection that idled gets 1/attempts of the time left to start
// answering (conn.Guard), so that one a middlebox silently dropped, whose
// reads would hang, leaves time for the next attempt; once Redis answers,
// the round trip has the whole deadline and is never sent twice.
func roundTrip(ctx context.Context, client *redis.Client, p *plan, kept map[int]cache.Value, rt modules.Retries, logger log.Logger) (t trip) {
	for attempt := 1; ; attempt++ {
		start := time.Now()
		pipe := client.Pipeline()
		t.ping = pipe.Ping(ctx)
		t.cmds = make(map[string]*redis.Cmd, len(p.commands))
		for i, args := range p.commands {
			if _, ok := kept[i]; !ok {
				t.cmds[p.keys[i]] = pipe.Do(ctx, args...)
			}
		}
		_, t.err = pipe.Exec(ctx) // each command that was sent keeps its own error
		t.took = time.Since(start)
		if attempt >= rt.Attempts || t.ping.Val() == "PONG" || !retryable(ctx, t.ping.Err()) {
			return t
		}
		delay := backoff(time.Duration(rt.BaseDelay), attempt)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < 2*delay {
			return t // too little time left to try again
		}
		logger.Log("msg", "Round trip failed on the connection: retrying", "attempt", attempt, "err", t.ping.Err(), "delay_seconds", delay.Seconds())
		select {
		case <-ctx.Done():
			return t
		case <-time.After(delay):
		}
		t.retries++
	}
}

// trip is what roundTrip got: PING's and each sent command's answer, the
// pipeline's error, the retries it took, and how long the last attempt
// took (a dial included, when it made one).
type trip struct {
	ping    *redis.StatusCmd
	cmds    map[string]*redis.Cmd
	err     error
	retries int
	took    time.Duration
}

// backoff is the wait before retry n (1-based): base·2ⁿ⁻¹, less up to half
// of it at random, so that probes that failed together do not retry
// together.
func backoff(base time.Duration, n int) time.Duration {
	d := base << (n - 1)
	return d - rand.N(d/2+1)
}

// retryable reports whether err is a failure of a pooled connection that
// had idled, before Redis answered: a reset, an EOF, a broken pipe, or no
// answer within its share of the deadline (conn.IdleConnError). Another
// connection may not have it. A dial that failed, a fresh connection that
// failed, an error reply, a refused reply, or the probe's own deadline or
// cancellation are final.
func retryable(ctx context.Context, err error) bool {
	var idle *conn.IdleConnError
	return ctx.Err() == nil && errors.As(err, &idle) && !conn.Refused(err)
}

// loading reports whether err is the answer of a Redis loading its
// dataset.
func loading(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "LOADING ")
}

// limitBroken returns the first reply that broke the module's limits or
// the protocol's framing.
func limitBroken(ping *redis.StatusCmd, cmds map[string]*redis.Cmd) error {
	if conn.Refused(ping.Err()) {
		return ping.Err()
	}
	for _, c := range cmds {
		if conn.Refused(c.Err()) {
			return c.Err()
		}
	}
	return nil
}

// softDeadline is when key rules stop starting round trips: a tenth of the
// time left before the probe's deadline stays for the answer.
func softDeadline(ctx context.Context) time.Time {
	dl, ok := ctx.Deadline()
	if !ok {
		return time.Now().Add(modules.DefaultTimeout)
	}
	return dl.Add(-time.Until(dl) / 10)
}
