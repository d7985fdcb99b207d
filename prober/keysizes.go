package prober

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/internal/info"
)

// The keysizes collector reads Redis 8's INFO KEYSIZES: per database and
// type, how many keys fall in each power-of-two range of size (bytes of a
// string, items of a list, set, sorted set or hash), which finds big keys
// without a SCAN. Redis counts a key of size s in the range [b, 2b) named
// b ("1K" is 1024); the collector exports the counts cumulatively with
// le = 2b-1, the largest size of the range, so that histogram_quantile
// works on them. It is off unless a module turns it on; a Redis before 8.0
// answers an empty section, and the collector emits nothing.
var keysBySize = gauge("redis_keys_by_size", "Keys of the type in the database whose size (bytes of a string, items of a list, set, sorted set or hash) is at most le, from INFO KEYSIZES (Redis 8+); cumulative, so histogram_quantile applies.", "db", "type", "le")

var infoKeysizes = []any{"INFO", "KEYSIZES"}

func init() {
	register(&collector{
		name:     "keysizes",
		commands: [][]any{infoKeysizes},
		families: []*exposition.Family{keysBySize},
		collect: func(r *replies, e *exposition.Emitter) error {
			text, err := r.reply(infoKeysizes...).Text()
			if err != nil {
				return err
			}
			type histogram struct {
				db, typ string
				buckets []sizeBucket
			}
			var hs []histogram // all parsed before any is emitted
			seen := map[string]bool{}
			for _, f := range info.Parse(text) {
				db, typ, ok := strings.Cut(f.Key, "_distrib_")
				if !ok || !strings.HasPrefix(db, "db") {
					continue
				}
				typ, _, _ = strings.Cut(typ, "_") // strings_sizes, lists_items …
				if seen[db+" "+typ] {
					return fmt.Errorf("INFO KEYSIZES: %s twice", f.Key)
				}
				seen[db+" "+typ] = true
				buckets, err := sizeBuckets(f.Value)
				if err != nil {
					return fmt.Errorf("INFO KEYSIZES %s: %w", f.Key, err)
				}
				hs = append(hs, histogram{db, typ, buckets})
			}
			for _, h := range hs {
				total := 0.0
				for _, b := range h.buckets {
					total += b.keys
					e.Emit(keysBySize, total, h.db, h.typ, strconv.FormatFloat(max(2*b.size-1, 0), 'f', -1, 64))
				}
				e.Emit(keysBySize, total, h.db, h.typ, "+Inf")
			}
			return nil
		},
	})
}

// sizeBucket is one range of INFO KEYSIZES: keys of size size to 2·size-1.
type sizeBucket struct{ size, keys float64 }

// sizeBuckets reads "1=3,2=1,4K=2", smallest range first.
func sizeBuckets(value string) ([]sizeBucket, error) {
	var out []sizeBucket
	for pair := range strings.SplitSeq(value, ",") {
		k, v, ok := strings.Cut(pair, "=")
		n, err := strconv.ParseFloat(v, 64)
		size, serr := powerOfTwo(k)
		if !ok || err != nil || serr != nil || n < 0 {
			return nil, fmt.Errorf("unexpected range %q", pair)
		}
		out = append(out, sizeBucket{size, n})
	}
	slices.SortFunc(out, func(a, b sizeBucket) int { return cmp.Compare(a.size, b.size) })
	for i := 1; i < len(out); i++ {
		if out[i].size == out[i-1].size {
			return nil, fmt.Errorf("the range of %v twice", out[i].size) // 1K and 1024
		}
	}
	return out, nil
}

// powerOfTwo reads a range name: 0, or a power of two, with K, M, G, T or
// P for 2¹⁰, 2²⁰ …
func powerOfTwo(s string) (float64, error) {
	scale := 1.0
	if n := len(s); n > 0 {
		if i := strings.IndexByte("KMGTP", s[n-1]); i >= 0 {
			scale = math.Pow(1024, float64(i+1))
			s = s[:n-1]
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n&(n-1) != 0 {
		return 0, fmt.Errorf("not a power of two: %q", s)
	}
	return float64(n) * scale, nil
}
