package prober

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/conn"
	"github.com/redis-probe/redis_probe_exporter/internal/info"
	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
	"github.com/redis-probe/redis_probe_exporter/internal/target"
)

// BenchmarkProbe is one probe's collection against a local Redis: the
// pipelined round trip and the metrics, on a pooled connection.
func BenchmarkProbe(b *testing.B) {
	s := redistest.StartRedis(b)
	tg, _ := target.Parse(s.Addr())
	pool := conn.NewPool(4, time.Minute, time.Hour)
	defer pool.Close()
	m := mustModule(b, "    timeout: 2s\n")
	b.ReportAllocs()
	for b.Loop() {
		client, release := pool.Get(tg, "", conn.Auth{}, conn.Limits{}, 1)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if res := Probe(ctx, client, m, nil, log.NewNopLogger()); !res.Success {
			b.Fatal("probe failed")
		}
		cancel()
		release()
	}
}

// BenchmarkProbeNewConnection is a probe that dials and closes its own
// connection, as it would without the pool: the figure the pool saves.
func BenchmarkProbeNewConnection(b *testing.B) {
	s := redistest.StartRedis(b)
	tg, _ := target.Parse(s.Addr())
	m := mustModule(b, "    timeout: 2s\n")
	b.ReportAllocs()
	for b.Loop() {
		pool := conn.NewPool(1, time.Minute, time.Hour)
		client, release := pool.Get(tg, "", conn.Auth{}, conn.Limits{}, 1)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if res := Probe(ctx, client, m, nil, log.NewNopLogger()); !res.Success {
			b.Fatal("probe failed")
		}
		cancel()
		release()
		pool.Close()
	}
}

// BenchmarkProbeHandler is what /probe costs end to end: parameters, probe,
// fresh registry and text encoding.
func BenchmarkProbeHandler(b *testing.B) {
	s := redistest.StartRedis(b)
	h := newTestHandler(b, testConfig)
	params := url.Values{"target": {s.Addr()}}
	b.ReportAllocs()
	for b.Loop() {
		if w := serveProbe(h, params); w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkInfoRoundTrip is the floor a probe is measured against: one bare
// INFO ALL on a pooled connection.
func BenchmarkInfoRoundTrip(b *testing.B) {
	s := redistest.StartRedis(b)
	c := s.Client(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Do(ctx, "INFO", "ALL").Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeyRuleScan is a probe whose only rule walks a big keyspace:
// "capped" matches every key and stops at max_keys (1000), "sparse" matches
// 5 keys and so walks the whole keyspace with SCAN COUNT 1000. It reports
// the Redis CPU each probe costs, read from INFO before and after.
func BenchmarkKeyRuleScan(b *testing.B) {
	for _, size := range []int{100_000, 1_000_000} {
		s := redistest.StartRedis(b, "--enable-debug-command", "yes")
		c := s.Client(b)
		ctx := context.Background()
		if err := c.Do(ctx, "DEBUG", "POPULATE", size, "key").Err(); err != nil {
			b.Fatal(err)
		}
		for i := range 5 {
			c.Set(ctx, fmt.Sprintf("sparse:%d", i), i, 0)
		}
		tg, _ := target.Parse(s.Addr())
		pool := conn.NewPool(4, time.Minute, time.Hour)
		defer pool.Close()
		for _, rule := range []struct{ name, yaml string }{
			{"capped", "      - {metric: all_keys, pattern: 'key:*', aggregate: count}\n"},
			{"sparse", "      - {metric: sparse_keys, pattern: 'sparse:*', aggregate: count}\n"},
		} {
			m := mustModule(b, "    timeout: 10s\n    metrics: {include: ['redis_up']}\n    keys:\n"+rule.yaml)
			b.Run(fmt.Sprintf("%s/%dk", rule.name, size/1000), func(b *testing.B) {
				cpu0 := redisCPU(b, c)
				for b.Loop() {
					client, release := pool.Get(tg, "", conn.Auth{}, conn.Limits{}, 1)
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					g := Probe(ctx, client, m, nil, log.NewNopLogger()).Metrics
					cancel()
					release()
					got := samples(b, g)
					if got[`redis_key_rule_success{rule="`+m.Keys[0].Metric+`"}`].Value != 1 {
						b.Fatal("rule failed")
					}
				}
				b.ReportMetric((redisCPU(b, c)-cpu0)/float64(b.N)*1e3, "redis-cpu-ms/op")
			})
		}
	}
}

// redisCPU is the Redis server's CPU seconds so far.
func redisCPU(b *testing.B, c *redis.Client) float64 {
	text, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	fields := info.Parse(text)
	sys, _ := info.Get(fields, "used_cpu_sys")
	user, _ := info.Get(fields, "used_cpu_user")
	s, _ := strconv.ParseFloat(sys, 64)
	u, _ := strconv.ParseFloat(user, 64)
	return s + u
}
