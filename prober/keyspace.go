package prober

import (
	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
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
		families:  []*exposition.Family{dbKeys, dbKeysExpiring, dbAvgTTL},
		collect: func(r *replies, e *exposition.Emitter) error {
			fields, err := r.infoFields()
			if err != nil {
				return err
			}
			sawDB0 := false
			eachStat(fields, "keyspace", "db", func(n, k string, v float64) {
				db := "db" + n
				sawDB0 = sawDB0 || db == "db0"
				switch k {
				case "keys":
					e.Emit(dbKeys, v, db)
				case "expires":
					e.Emit(dbKeysExpiring, v, db)
				case "avg_ttl":
					e.Emit(dbAvgTTL, v/1000, db)
				}
			})
			if !sawDB0 {
				e.Emit(dbKeys, 0, "db0")
				e.Emit(dbKeysExpiring, 0, "db0")
			}
			return nil
		},
	})
}
