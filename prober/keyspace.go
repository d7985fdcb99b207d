package prober

import (
	"strconv"
	"strings"

	"github.com/redis-probe/redis_probe_exporter/internal/info"
)

// The keyspace collector reports keys per database from INFO's keyspace
// section. db0 is always reported, as 0 when empty, so that alerts on it do
// not go absent.
var (
	dbKeys         = gauge("redis_db_keys", "Keys in the database.", "db")
	dbKeysExpiring = gauge("redis_db_keys_expiring", "Keys with an expiry set in the database.", "db")
	dbAvgTTL       = gauge("redis_db_avg_ttl_seconds", "Average time to live of the database's keys with an expiry, in seconds, as Redis estimates it.", "db")
)

func init() {
	register(&collector{
		name:      "keyspace",
		defaultOn: true,
		commands:  [][]any{infoAll},
		families:  []*family{dbKeys, dbKeysExpiring, dbAvgTTL},
		collect: func(r *replies, e *emitter) error {
			fields, err := r.infoFields()
			if err != nil {
				return err
			}
			sawDB0 := false
			for _, f := range fields {
				if f.Section != "keyspace" || !strings.HasPrefix(f.Key, "db") {
					continue
				}
				sawDB0 = sawDB0 || f.Key == "db0"
				info.Pairs(f.Value, func(k, v string) {
					n, err := strconv.ParseFloat(v, 64)
					if err != nil {
						return
					}
					switch k {
					case "keys":
						e.emit(dbKeys, n, f.Key)
					case "expires":
						e.emit(dbKeysExpiring, n, f.Key)
					case "avg_ttl":
						e.emit(dbAvgTTL, n/1000, f.Key)
					}
				})
			}
			if !sawDB0 {
				e.emit(dbKeys, 0, "db0")
				e.emit(dbKeysExpiring, 0, "db0")
			}
			return nil
		},
	})
}
