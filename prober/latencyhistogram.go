package prober

import (
	"fmt"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
)

// The latency_histogram collector turns LATENCY HISTOGRAM (Redis 7) into one
// Prometheus histogram per command, in seconds: Redis keeps cumulative counts
// in power-of-two microsecond buckets. The sum is the command's time from
// INFO's commandstats. Off by default: it adds a series per bucket per
// command.
var commandLatencyHistogram = histogram("redis_commands_latency_seconds", "Latency of the command's calls, in seconds.", "cmd")

var latencyHistogram = []any{"LATENCY", "HISTOGRAM"}

func init() {
	register(&collector{
		name:     "latency_histogram",
		commands: [][]any{latencyHistogram, infoAll},
		families: []*exposition.Family{commandLatencyHistogram},
		collect: func(r *replies, e *exposition.Emitter) error {
			totals, err := r.commandStats()
			if err != nil {
				return err
			}
			reply, err := r.reply(latencyHistogram...).Slice()
			if err != nil {
				return err
			}
			// [cmd, [calls, N, histogram_usec, [bound, count, …]], cmd, …]
			for i := 0; i+1 < len(reply); i += 2 {
				cmd, _ := reply[i].(string)
				calls, buckets, err := parseLatencyHistogram(reply[i+1])
				if err != nil {
					return fmt.Errorf("LATENCY HISTOGRAM %s: %w", cmd, err)
				}
				bounds := make([]float64, len(buckets)/2)
				counts := make([]uint64, len(buckets)/2)
				for j := range bounds {
					bounds[j] = float64(buckets[2*j]) / 1e6
					counts[j] = uint64(buckets[2*j+1])
				}
				_, usec := commandTotals(totals[cmd])
				e.EmitHistogram(commandLatencyHistogram, uint64(calls), usec/1e6, bounds, counts, cmd)
			}
			return nil
		},
	})
}

// parseLatencyHistogram reads ["calls", N, "histogram_usec", [bound, count, …]].
func parseLatencyHistogram(v any) (calls int64, buckets []int64, err error) {
	fs, ok := v.([]any)
	if !ok {
		return 0, nil, fmt.Errorf("unexpected reply %v", v)
	}
	for i := 0; i+1 < len(fs); i += 2 {
		switch fs[i] {
		case "calls":
			calls, _ = fs[i+1].(int64)
		case "histogram_usec":
			hs, _ := fs[i+1].([]any)
			for _, h := range hs {
				n, ok := h.(int64)
				if !ok {
					return 0, nil, fmt.Errorf("unexpected bucket %v", h)
				}
				buckets = append(buckets, n)
			}
		}
	}
	if len(buckets)%2 != 0 {
		return 0, nil, fmt.Errorf("odd bucket list %v", buckets)
	}
	return calls, buckets, nil
}
