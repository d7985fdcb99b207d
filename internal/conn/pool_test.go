package conn

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
	"github.com/redis-probe/redis_probe_exporter/internal/target"
)

// connections counts the clients Redis has open that are not admin.
func connections(t *testing.T, s *redistest.Server) int {
	t.Helper()
	admin := s.Client(t)
	list, err := admin.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(list, "\n") - 1 // less the admin connection itself
}

func ping(t *testing.T, p *Pool, tg target.Target, authName string, auth Auth) {
	t.Helper()
	c, release := p.Get(tg, authName, auth, Limits{}, 1)
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestPoolReusesOneConnection(t *testing.T) {
	s := redistest.StartRedis(t)
	tg, _ := target.Parse(s.Addr())
	p := NewPool(8, time.Minute, time.Hour)
	defer p.Close()
	for range 20 {
		ping(t, p, tg, "", Auth{})
	}
	if n := connections(t, s); n != 1 {
		t.Errorf("20 sequential probes hold %d connections, want 1", n)
	}
	if p.Len() != 1 {
		t.Errorf("pool holds %d clients, want 1", p.Len())
	}
	// Another auth name is another client: credentials never cross.
	ping(t, p, tg, "other", Auth{})
	if p.Len() != 2 {
		t.Errorf("pool holds %d clients, want 2", p.Len())
	}
}

func TestPoolResetClosesConnections(t *testing.T) {
	s := redistest.StartRedis(t)
	tg, _ := target.Parse(s.Addr())
	p := NewPool(8, time.Minute, time.Hour)
	defer p.Close()
	ping(t, p, tg, "", Auth{})

	// A probe in flight keeps its client until it releases it.
	c, release := p.Get(tg, "", Auth{}, Limits{}, 1)
	p.Reset()
	if p.Len() != 0 {
		t.Fatalf("pool holds %d clients after Reset", p.Len())
	}
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("in-flight client closed under its probe: %v", err)
	}
	release()
	redistest.WaitFor(t, 5*time.Second, func() error {
		if n := connections(t, s); n != 0 {
			return fmt.Errorf("%d connections still open", n)
		}
		return nil
	}, nil)
}

func TestPoolBoundsAndReapsIdleClients(t *testing.T) {
	servers := []*redistest.Server{redistest.StartRedis(t), redistest.StartRedis(t), redistest.StartRedis(t)}
	p := NewPool(2, 200*time.Millisecond, time.Hour)
	defer p.Close()
	for _, s := range servers {
		tg, _ := target.Parse(s.Addr())
		ping(t, p, tg, "", Auth{})
	}
	if p.Len() != 2 {
		t.Errorf("pool of at most 2 holds %d clients", p.Len())
	}
	if n := connections(t, servers[0]); n != 0 {
		t.Errorf("the least recently used client kept %d connections", n)
	}
	redistest.WaitFor(t, 5*time.Second, func() error {
		if p.Len() != 0 {
			return fmt.Errorf("%d idle clients not reaped", p.Len())
		}
		return nil
	}, nil)
}

// A reloaded auth (another Key) never reuses a client made with the old one.
func TestPoolReplacesClientOfReloadedAuth(t *testing.T) {
	password := func(pw string) Auth {
		return Auth{Key: new(int), Credentials: func() (string, string, error) { return "", pw, nil }}
	}
	s := redistest.StartRedis(t, "--requirepass", "new-pw")
	tg, _ := target.Parse(s.Addr())
	p := NewPool(8, time.Minute, time.Hour)
	defer p.Close()
	old, release := p.Get(tg, "prod", password("old-pw"), Limits{}, 1)
	release()
	c, release := p.Get(tg, "prod", password("new-pw"), Limits{}, 1)
	defer release()
	if c == old {
		t.Fatal("the client made with the old credentials was reused")
	}
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("new credentials: %v", err)
	}
}

// BenchmarkIdleTarget measures what an idle pooled target costs: heap in
// use per target after each of b.N distinct targets (loopback aliases
// 127.0.X.Y of one Redis) answered one pipelined PING and INFO ALL, and was
// released. The README states the figure.
func BenchmarkIdleTarget(b *testing.B) {
	s := redistest.StartRedis(b, "--bind", "*", "--maxclients", "10000")
	p := NewPool(b.N+1, time.Hour, time.Hour)
	defer p.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := range b.N {
		tg, err := target.Parse(fmt.Sprintf("127.0.%d.%d:%d", 1+i/250, 1+i%250, s.Port))
		if err != nil {
			b.Fatal(err)
		}
		c, release := p.Get(tg, "", Auth{}, Limits{}, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		pipe := c.Pipeline()
		pipe.Ping(ctx)
		pipe.Info(ctx, "all")
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
		cancel()
		release()
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/float64(b.N), "heap-B/target")
	b.ReportMetric(float64(runtime.NumGoroutine())/float64(b.N), "goroutines/target")
}
