package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sentinel is a redis-sentinel process monitoring one master.
type Sentinel struct {
	Port       int
	Dir        string
	Config     string // sentinel.conf, which sentinel rewrites as it learns
	MasterName string
	srv        *Server
}

// Addr is "127.0.0.1:port".
func (s *Sentinel) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Client is a new sentinel client, closed when the test ends.
func (s *Sentinel) Client(t testing.TB) *redis.SentinelClient {
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Log is what the sentinel wrote to its logfile so far.
func (s *Sentinel) Log() string { return serverLogs(s.srv) }

// Stop kills the sentinel now, as a crash would.
func (s *Sentinel) Stop() { s.srv.Stop() }

// StartSentinel starts redis-sentinel on a free loopback port monitoring
// master as masterName with quorum, down-after-milliseconds 1000 and
// failover-timeout 5000, and waits until SENTINEL MASTER answers with the
// master up and, when the master has replicas, until SENTINEL REPLICAS lists
// them all connected. It is stopped when the test ends.
func StartSentinel(t testing.TB, masterName string, master *Server, quorum int) *Sentinel {
	t.Helper()
	wantReplicas := 0
	if info, err := infoFields(master.Client(t), "replication"); err != nil {
		t.Fatalf("INFO replication on master %s: %v", master.Addr(), err)
	} else {
		wantReplicas, _ = strconv.Atoi(info["connected_slaves"])
	}

	var conf string
	srv := launch(t, launchSpec{
		bin:     "redis-sentinel",
		logName: "sentinel.log",
		port:    FreePort,
		args: func(s *Server) []string {
			conf = filepath.Join(s.Dir, "sentinel.conf")
			text := fmt.Sprintf(`port %d
bind 127.0.0.1
daemonize no
dir %s
logfile %s
sentinel monitor %s 127.0.0.1 %d %d
sentinel down-after-milliseconds %[4]s 1000
sentinel failover-timeout %[4]s 5000
sentinel parallel-syncs %[4]s 1
`, s.Port, s.Dir, s.log, masterName, master.Port, quorum)
			if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{conf}
		},
	})
	s := &Sentinel{Port: srv.Port, Dir: srv.Dir, Config: conf, MasterName: masterName, srv: srv}

	c := s.Client(t)
	WaitFor(t, 15*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		m, err := c.Master(ctx, masterName).Result()
		if err != nil {
			return fmt.Errorf("SENTINEL MASTER %s: %w", masterName, err)
		}
		if m["flags"] != "master" {
			return fmt.Errorf("SENTINEL MASTER %s: flags %q", masterName, m["flags"])
		}
		if m["num-slaves"] != strconv.Itoa(wantReplicas) {
			return fmt.Errorf("SENTINEL MASTER %s: num-slaves %s, want %d", masterName, m["num-slaves"], wantReplicas)
		}
		if wantReplicas == 0 {
			return nil
		}
		rs, err := c.Replicas(ctx, masterName).Result()
		if err != nil {
			return fmt.Errorf("SENTINEL REPLICAS %s: %w", masterName, err)
		}
		for _, r := range rs {
			if r["flags"] != "slave" || r["master-link-status"] != "ok" {
				return fmt.Errorf("SENTINEL REPLICAS %s: %s flags %q, master-link-status %q", masterName, r["name"], r["flags"], r["master-link-status"])
			}
		}
		if len(rs) != wantReplicas {
			return fmt.Errorf("SENTINEL REPLICAS %s: %d, want %d", masterName, len(rs), wantReplicas)
		}
		return nil
	}, func() string { return strings.TrimSpace(s.Log()) })
	return s
}
