package prober

import (
	"fmt"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
)

// The latency collector reports LATENCY LATEST: per latency event (command,
// fast-command, fork, aof-fsync-always …) the last spike over
// latency-monitor-threshold. Redis records nothing while that threshold is 0,
// its default.
var (
	latencySpikeLast     = gauge("redis_latency_spike_last_timestamp_seconds", "Unix time of the latest latency spike of the event.", "event_name").Was("redis_latency_spike_last")
	latencySpikeDuration = gauge("redis_latency_spike_duration_seconds", "Duration of the latest latency spike of the event, in seconds.", "event_name")
	latencySpikeMax      = gauge("redis_latency_spike_max_duration_seconds", "Longest latency spike of the event since it was last reset, in seconds.", "event_name")
)

var latencyLatest = []any{"LATENCY", "LATEST"}

func init() {
	register(&collector{
		name:      "latency",
		defaultOn: true,
		commands:  [][]any{latencyLatest},
		families:  []*exposition.Family{latencySpikeLast, latencySpikeDuration, latencySpikeMax},
		collect: func(r *replies, e *exposition.Emitter) error {
			events, err := r.reply(latencyLatest...).Slice()
			if err != nil {
				return err
			}
			for _, ev := range events {
				// [event-name, timestamp, latest-ms, max-ms]
				fs, ok := ev.([]any)
				if !ok || len(fs) < 4 {
					return fmt.Errorf("LATENCY LATEST: unexpected entry %v", ev)
				}
				name, _ := fs[0].(string)
				ts, ok1 := fs[1].(int64)
				latest, ok2 := fs[2].(int64)
				max, ok3 := fs[3].(int64)
				if !ok1 || !ok2 || !ok3 {
					return fmt.Errorf("LATENCY LATEST: unexpected entry %v", ev)
				}
				e.Emit(latencySpikeLast, float64(ts), name)
				e.Emit(latencySpikeDuration, float64(latest)/1e3, name)
				e.Emit(latencySpikeMax, float64(max)/1e3, name)
			}
			return nil
		},
	})
}
