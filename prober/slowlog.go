package prober

import (
	"errors"
	"fmt"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
)

// The slowlog collector reports the slow log's length and its newest entry.
// The last id only grows, so rate() over it counts slow commands across
// stateless probes even when the log wraps.
var (
	slowlogLength   = gauge("redis_slowlog_length", "Entries in the slow log.")
	slowlogLastID   = gauge("redis_slowlog_last_id", "ID of the newest slow log entry; it only grows, so rate() counts slow commands.")
	slowlogLastTime = gauge("redis_slowlog_last_timestamp_seconds", "Unix time of the newest slow log entry.")
	slowlogLastDur  = gauge("redis_last_slow_execution_duration_seconds", "Execution time of the newest slow log entry, in seconds.")
)

var (
	slowlogLen  = []any{"SLOWLOG", "LEN"}
	slowlogLast = []any{"SLOWLOG", "GET", "1"}
)

func init() {
	register(&collector{
		name:      "slowlog",
		defaultOn: true,
		commands:  [][]any{slowlogLen, slowlogLast},
		families:  []*exposition.Family{slowlogLength, slowlogLastID, slowlogLastTime, slowlogLastDur},
		collect: func(r *replies, e *exposition.Emitter) error {
			n, err := r.reply(slowlogLen...).Int64()
			if err != nil {
				return err
			}
			e.Emit(slowlogLength, float64(n))
			entries, err := r.reply(slowlogLast...).Slice()
			if err != nil {
				return err
			}
			if len(entries) == 0 {
				return nil
			}
			_, id, ts, usec, err := slowlogEntry(entries[0])
			if err != nil {
				return fmt.Errorf("SLOWLOG GET, newest entry: %w", err)
			}
			e.Emit(slowlogLastID, float64(id))
			e.Emit(slowlogLastTime, float64(ts))
			e.Emit(slowlogLastDur, float64(usec)/1e6)
			return nil
		},
	})
}

// slowlogEntry reads an entry of SLOWLOG GET's reply, [id, timestamp,
// duration-usec, args, client, name] (the last two from Redis 4.0): its
// fields, and the first three, which must be integers.
func slowlogEntry(v any) (fs []any, id, ts, usec int64, err error) {
	fs, _ = v.([]any)
	if len(fs) < 3 {
		return nil, 0, 0, 0, errors.New("not an array of at least 3 fields")
	}
	id, ok1 := fs[0].(int64)
	ts, ok2 := fs[1].(int64)
	usec, ok3 := fs[2].(int64)
	if !ok1 || !ok2 || !ok3 {
		return nil, 0, 0, 0, errors.New("id, timestamp or duration not an integer")
	}
	return fs, id, ts, usec, nil
}
