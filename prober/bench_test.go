package prober

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/redis-probe/redis_probe_exporter/internal/conn"
	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
	"github.com/redis-probe/redis_probe_exporter/internal/target"
)

// BenchmarkProbe is one probe's collection against a local Redis: the
// pipelined round trip and the metrics, on a pooled connection.
func BenchmarkProbe(b *testing.B) {
	s := redistest.StartRedis(b)
	tg, _ := target.Parse(s.Addr())
	pool := conn.NewPool(4, time.Minute)
	defer pool.Close()
	m := mustModule(b, "    timeout: 2s\n")
	b.ReportAllocs()
	for b.Loop() {
		client, release := pool.Get(tg, "", nil)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if _, ok := Probe(ctx, client, m, log.NewNopLogger()); !ok {
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
		pool := conn.NewPool(1, time.Minute)
		client, release := pool.Get(tg, "", nil)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if _, ok := Probe(ctx, client, m, log.NewNopLogger()); !ok {
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
