// Package prober probes one Redis: it sends every enabled collector's fixed
// commands in one pipelined round trip, turns the replies into metrics, and
// serves the result on /probe.
package prober

import (
	"context"
	"io"
	"time"

	"github.com/go-kit/log"
	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/modules"
)

// Probe collects the metrics of the Redis that client reaches, as module m
// asks. It ends by ctx's deadline. PING goes first in the pipeline: its
// answer is what redis_up and probe_success report, so that a forbidden or
// failing collector command never marks a healthy Redis down.
func Probe(ctx context.Context, client *redis.Client, m *modules.Module, logger log.Logger) (io.WriterTo, bool) {
	start := time.Now()
	p := planFor(m)
	e := newEmitter(p)

	pipe := client.Pipeline()
	ping := pipe.Ping(ctx)
	r := &replies{ctx: ctx, client: client, module: m, cmds: make(map[string]*redis.Cmd, len(p.commands))}
	for i, args := range p.commands {
		r.cmds[p.keys[i]] = pipe.Do(ctx, args...)
	}
	_, execErr := pipe.Exec(ctx) // each command that was sent keeps its own error

	// A connection that failed to open or authenticate leaves the commands
	// unanswered and without errors: only PONG proves Redis served us.
	up := ping.Val() == "PONG"
	if up {
		logger.Log("msg", "Round trip done", "commands", len(p.commands)+1, "duration_seconds", time.Since(start).Seconds())
		for _, st := range p.steps {
			err := r.failed(st.keys)
			if err == nil {
				err = st.c.collect(r, e)
			}
			if err != nil {
				logger.Log("msg", "Collector failed", "collector", st.c.name, "err", err)
			}
			e.emit(collectorSuccess, boolValue(err == nil), st.c.name)
		}
		if len(p.keyRules)+len(p.scripts) > 0 {
			x := &rules{ctx: ctx, client: client, db: client.Options().DB, deadline: softDeadline(ctx)}
			for _, kr := range p.keyRules {
				x.run(kr, e, logger)
			}
			for _, sr := range p.scripts {
				x.runScript(sr, e, logger)
			}
		}
	} else {
		err := ping.Err()
		if err == nil {
			err = execErr
		}
		logger.Log("msg", "Redis did not answer PING", "err", err)
	}

	d := time.Since(start).Seconds()
	e.emit(redisUp, boolValue(up))
	e.emit(probeSuccess, boolValue(up))
	e.emit(probeDuration, d)
	if up {
		logger.Log("msg", "Probe succeeded", "duration_seconds", d)
	} else {
		logger.Log("msg", "Probe failed", "duration_seconds", d)
	}
	return e, up
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
