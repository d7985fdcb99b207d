package prober

import (
	"strings"
	"testing"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// keysizes8 is an INFO KEYSIZES reply as Redis 8.0 writes it: no Redis 8
// is available here, so it is written from Redis's own test of the section
// (tests/unit/info-keysizes.tcl: "db0_distrib_strings_sizes:4=1", range
// names 0, powers of two, then 1K, 2M …).
const keysizes8 = "# Keysizes\r\n" +
	"db0_distrib_strings_sizes:0=1,2=3,8=1,1K=2,2M=1\r\n" +
	"db0_distrib_lists_items:4=1,1=4\r\n" +
	"db3_distrib_hashes_items:16=2\r\n"

func collectKeysizes(t *testing.T, reply string) (map[string]sample, error) {
	t.Helper()
	return collectReplies(t, "keysizes", map[string]any{commandKey(infoKeysizes): reply}, "")
}

// Each range [b, 2b) becomes a cumulative count at le = 2b-1.
func TestKeysizesOnRedis8(t *testing.T) {
	got, err := collectKeysizes(t, keysizes8)
	if err != nil {
		t.Fatal(err)
	}
	expectExact(t, got, map[string]float64{
		`redis_keys_by_size{db="db0",le="0",type="strings"}`:       1,
		`redis_keys_by_size{db="db0",le="3",type="strings"}`:       4,
		`redis_keys_by_size{db="db0",le="15",type="strings"}`:      5,
		`redis_keys_by_size{db="db0",le="2047",type="strings"}`:    7,
		`redis_keys_by_size{db="db0",le="4194303",type="strings"}`: 8,
		`redis_keys_by_size{db="db0",le="+Inf",type="strings"}`:    8,
		`redis_keys_by_size{db="db0",le="1",type="lists"}`:         4,
		`redis_keys_by_size{db="db0",le="7",type="lists"}`:         5,
		`redis_keys_by_size{db="db0",le="+Inf",type="lists"}`:      5,
		`redis_keys_by_size{db="db3",le="31",type="hashes"}`:       2,
		`redis_keys_by_size{db="db3",le="+Inf",type="hashes"}`:     2,
	}, "redis_keys_by_size")

	for _, bad := range []string{"db0_distrib_strings_sizes:3=1", "db0_distrib_strings_sizes:1X=1", "db0_distrib_strings_sizes:=1", "db0_distrib_strings_sizes:2=-1", "db0_distrib_strings_sizes:2", "db0_distrib_lists_items:1=1\r\ndb0_distrib_strings_sizes:3=1", "db0_distrib_strings_sizes:1K=1,1024=2", "db0_distrib_sets_items:1=1\r\ndb0_distrib_sets_items:2=1"} {
		if got, err := collectKeysizes(t, bad); err == nil || len(got) > 0 {
			t.Errorf("%q: error %v, %d series; want an error and none", bad, err, len(got))
		}
	}
}

// Redis 7.0 answers INFO KEYSIZES with nothing: the collector succeeds
// and emits nothing.
func TestKeysizesOnRedis7(t *testing.T) {
	s := redistest.StartRedis(t)
	got, ok := probeTarget(t, s.Addr(), mustModule(t, "    timeout: 2s\n    collectors: {keysizes: true}\n"), nil)
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{`probe_collector_success{collector="keysizes"}`: 1})
	for k := range got {
		if strings.HasPrefix(k, "redis_keys_by_size") {
			t.Errorf("Redis 7.0 gave %s", k)
		}
	}
}
