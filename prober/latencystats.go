package prober

import (
	"math"
	"strconv"
	"strings"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/internal/info"
)

// The latencystats collector turns INFO's latencystats section
// ("latency_percentiles_usec_get:p50=4.015,p99=4.015,p99.9=4.015") into one
// summary per command, in seconds. Its count and sum are the command's calls
// and time from the commandstats section of the same reply, so that
// rate(sum)/rate(count) is the mean latency.
var commandLatency = summary("redis_latency_percentiles_seconds", "Latency of the command in seconds, at the percentiles Redis tracks (latency-tracking-info-percentiles).", "cmd")

func init() {
	register(&collector{
		name:      "latencystats",
		defaultOn: true,
		commands:  [][]any{infoAll},
		families:  []*exposition.Family{commandLatency},
		collect: func(r *replies, e *exposition.Emitter) error {
			fields, err := r.infoFields()
			if err != nil {
				return err
			}
			totals, err := r.commandStats()
			if err != nil {
				return err
			}
			for _, f := range fields {
				cmd, ok := strings.CutPrefix(f.Key, "latency_percentiles_usec_")
				if !ok || f.Section != "latencystats" {
					continue
				}
				var qs, vs []float64
				info.Pairs(f.Value, func(k, v string) {
					p, err1 := strconv.ParseFloat(strings.TrimPrefix(k, "p"), 64)
					usec, err2 := strconv.ParseFloat(v, 64)
					if err1 == nil && err2 == nil {
						// p99.9 -> 0.999 exactly, as a literal would be.
						qs, vs = append(qs, math.Round(p*1e4)/1e6), append(vs, usec/1e6)
					}
				})
				calls, usec := commandTotals(totals[cmd])
				e.EmitSummary(commandLatency, calls, usec/1e6, qs, vs, cmd)
			}
			return nil
		},
	})
}

// commandTotals reads calls and microseconds from a commandstats value.
func commandTotals(stats string) (calls uint64, usec float64) {
	info.Pairs(stats, func(k, v string) {
		switch k {
		case "calls":
			calls, _ = strconv.ParseUint(v, 10, 64)
		case "usec":
			usec, _ = strconv.ParseFloat(v, 64)
		}
	})
	return calls, usec
}
