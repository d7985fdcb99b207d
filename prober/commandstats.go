package prober

import (
	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
)

// The commandstats collector reports calls and time per command from INFO's
// commandstats section ("cmdstat_get:calls=1,usec=4,…"; subcommands as
// "client|list").
var (
	commandCalls    = counter("redis_commands_total", "Calls of the command.", "cmd")
	commandDuration = counter("redis_commands_duration_seconds_total", "Seconds of CPU spent executing the command.", "cmd")
	commandRejected = counter("redis_commands_rejected_calls_total", "Calls of the command refused before execution (wrong arity, ACL, OOM, …).", "cmd")
	commandFailed   = counter("redis_commands_failed_calls_total", "Calls of the command that failed during execution.", "cmd")
)

func init() {
	register(&collector{
		name:      "commandstats",
		defaultOn: true,
		commands:  [][]any{infoAll},
		families:  []*exposition.Family{commandCalls, commandDuration, commandRejected, commandFailed},
		collect: func(r *replies, e *exposition.Emitter) error {
			fields, err := r.infoFields()
			if err != nil {
				return err
			}
			eachStat(fields, "commandstats", "cmdstat_", func(cmd, k string, n float64) {
				switch k {
				case "calls":
					e.Emit(commandCalls, n, cmd)
				case "usec":
					e.Emit(commandDuration, n/1e6, cmd)
				case "rejected_calls":
					e.Emit(commandRejected, n, cmd)
				case "failed_calls":
					e.Emit(commandFailed, n, cmd)
				}
			})
			return nil
		},
	})
}
