package prober

import (
	"strconv"
	"strings"

	"github.com/redis-probe/redis_probe_exporter/internal/info"
)

// The errorstats collector reports error replies per error prefix from
// INFO's errorstats section ("errorstat_WRONGTYPE:count=3").
var errorReplies = counter("redis_errors_total", "Error replies sent, by error prefix (ERR, WRONGTYPE, NOAUTH, …).", "err")

func init() {
	register(&collector{
		name:      "errorstats",
		defaultOn: true,
		commands:  [][]any{infoAll},
		families:  []*family{errorReplies},
		collect: func(r *replies, e *emitter) error {
			fields, err := r.infoFields()
			if err != nil {
				return err
			}
			for _, f := range fields {
				prefix, ok := strings.CutPrefix(f.Key, "errorstat_")
				if !ok || f.Section != "errorstats" {
					continue
				}
				info.Pairs(f.Value, func(k, v string) {
					if n, err := strconv.ParseFloat(v, 64); err == nil && k == "count" {
						e.emit(errorReplies, n, prefix)
					}
				})
			}
			return nil
		},
	})
}
