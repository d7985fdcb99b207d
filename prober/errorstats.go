package prober

import (
	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
)

// The errorstats collector reports error replies per error prefix from
// INFO's errorstats section ("errorstat_WRONGTYPE:count=3").
var errorReplies = counter("redis_errors_total", "Error replies sent, by error prefix (ERR, WRONGTYPE, NOAUTH, …).", "err")

func init() {
	register(&collector{
		name:      "errorstats",
		defaultOn: true,
		commands:  [][]any{infoAll},
		families:  []*exposition.Family{errorReplies},
		collect: func(r *replies, e *exposition.Emitter) error {
			fields, err := r.infoFields()
			if err != nil {
				return err
			}
			eachStat(fields, "errorstats", "errorstat_", func(prefix, k string, n float64) {
				if k == "count" {
					e.Emit(errorReplies, n, prefix)
				}
			})
			return nil
		},
	})
}
