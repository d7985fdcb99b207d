// Package redistest starts real redis-server, prometheus and exporter
// processes for tests, each on a free loopback port in its own temp dir, and
// stops them when the test ends. Nothing here fakes a server, except
// StartHostile (hostile.go): protocol abuse that no real Redis produces.
package redistest

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server process.
type Server struct {
	Port int
	Dir  string
	cmd  *exec.Cmd
	log  string
	spec launchSpec // how it was started, for Restart
}

// Addr is "127.0.0.1:port".
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Client is a new client to the server, closed when the test ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop kills the server now, as a crash would.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_, _ = s.cmd.Process.Wait()
	}
}

// StartRedis starts redis-server with no persistence on a free port, plus
// the extra config directives in args ("--requirepass", "pw", …), and waits
// until it answers PING.
func StartRedis(t testing.TB, args ...string) *Server {
	t.Helper()
	return launch(t, launchSpec{
		bin:     "redis-server",
		logName: "redis.log",
		port:    FreePort,
		args: func(s *Server) []string {
			return append(append([]string{"--port", strconv.Itoa(s.Port)}, redisBaseArgs(s)...), args...)
		},
	})
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitFor calls check until it returns nil, failing the test with check's
// last error and what diag returns after timeout.
func WaitFor(t testing.TB, timeout time.Duration, check func() error, diag func() string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			extra := ""
			if diag != nil {
				extra = "\n" + diag()
			}
			t.Fatalf("not ready after %s: %v%s", timeout, err, extra)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Calls is how many times the Redis c reaches has run cmd ("get",
// "config|get") since it started or CONFIG RESETSTAT, from INFO
// commandstats. Each Calls is itself one more INFO.
func Calls(t testing.TB, c *redis.Client, cmd string) int {
	t.Helper()
	stats, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(stats) {
		if rest, ok := strings.CutPrefix(line, "cmdstat_"+cmd+":calls="); ok {
			calls, _, _ := strings.Cut(rest, ",")
			n, err := strconv.Atoi(calls)
			if err != nil {
				t.Fatalf("INFO commandstats: %q", line)
			}
			return n
		}
	}
	return 0
}
