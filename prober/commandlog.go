package prober

import (
	"fmt"
	"strconv"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
)

// The commandlog collector reports Valkey 8.1's command log, which keeps
// three logs: commands slower than a threshold (the slow log), and those
// whose request or reply was larger than one. It reads each log's length
// (COMMANDLOG LEN) and the thresholds and lengths configured
// (CONFIG GET commandlog-*). It is off unless a module turns it on: a
// server without COMMANDLOG (Redis, Valkey before 8.1) refuses the command,
// and the collector fails as any collector does.
var (
	commandlogLength      = gauge("redis_commandlog_length", "Entries in the command log of each type: slow, large-request, large-reply (Valkey 8.1+).", "type")
	commandlogMaxLength   = gauge("redis_commandlog_max_length", "The most entries the command log of each type keeps (commandlog-*-max-len); 0 turns it off.", "type")
	commandlogSlowerThan  = gauge("redis_commandlog_execution_slower_than_seconds", "The commandlog-execution-slower-than setting, in seconds: commands that run longer go in the slow log; negative turns it off.")
	commandlogRequestSize = gauge("redis_commandlog_request_larger_than_bytes", "The commandlog-request-larger-than setting: requests larger go in the large-request log; negative turns it off.")
	commandlogReplySize   = gauge("redis_commandlog_reply_larger_than_bytes", "The commandlog-reply-larger-than setting: replies larger go in the large-reply log; negative turns it off.")
)

var (
	commandlogTypes  = []string{"slow", "large-request", "large-reply"}
	commandlogConfig = []any{"CONFIG", "GET", "commandlog-*"}
)

// commandlogSettings maps each commandlog-* parameter to its family, the
// label of the log type it sets (for max lengths), and its scale.
var commandlogSettings = map[string]struct {
	f     *exposition.Family
	label string
	scale float64
}{
	"commandlog-execution-slower-than":  {commandlogSlowerThan, "", 1e-6},
	"commandlog-request-larger-than":    {commandlogRequestSize, "", 1},
	"commandlog-reply-larger-than":      {commandlogReplySize, "", 1},
	"commandlog-slow-execution-max-len": {commandlogMaxLength, "slow", 1},
	"commandlog-large-request-max-len":  {commandlogMaxLength, "large-request", 1},
	"commandlog-large-reply-max-len":    {commandlogMaxLength, "large-reply", 1},
}

func init() {
	cmds := [][]any{commandlogConfig}
	for _, t := range commandlogTypes {
		cmds = append(cmds, []any{"COMMANDLOG", "LEN", t})
	}
	register(&collector{
		name:     "commandlog",
		commands: cmds,
		families: []*exposition.Family{commandlogLength, commandlogMaxLength, commandlogSlowerThan, commandlogRequestSize, commandlogReplySize},
		collect: func(r *replies, e *exposition.Emitter) error {
			lengths := make([]int64, len(commandlogTypes))
			for i, t := range commandlogTypes {
				n, err := r.reply("COMMANDLOG", "LEN", t).Int64()
				if err != nil {
					return fmt.Errorf("COMMANDLOG LEN %s: %w", t, err)
				}
				lengths[i] = n
			}
			kv, err := r.reply(commandlogConfig...).Slice()
			if err != nil {
				return err
			}
			for i, t := range commandlogTypes {
				e.Emit(commandlogLength, float64(lengths[i]), t)
			}
			for i := 0; i+1 < len(kv); i += 2 {
				name, _ := kv[i].(string)
				value, _ := kv[i+1].(string)
				st, ok := commandlogSettings[name]
				v, err := strconv.ParseFloat(value, 64)
				if !ok || err != nil {
					continue // a parameter a later Valkey added, or not a number
				}
				if st.label != "" {
					e.Emit(st.f, v*st.scale, st.label)
				} else {
					e.Emit(st.f, v*st.scale)
				}
			}
			return nil
		},
	})
}
