// Package redistest starts real redis-server, prometheus and exporter
// processes for tests, each on a free loopback port in its own temp dir, and
// stops them when the test ends. Nothing here fakes a server.
package redistest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
	dir := t.TempDir()
	s := &Server{Port: FreePort(t), Dir: dir, log: filepath.Join(dir, "redis.log")}
	all := append([]string{
		"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--logfile", s.log, "--daemonize", "no",
	}, args...)
	s.cmd = exec.Command("redis-server", all...)
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting redis-server (make test installs it): %v", err)
	}
	t.Cleanup(s.Stop)
	WaitFor(t, 10*time.Second, func() error {
		c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return err
		}
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		// "+PONG" or, with requirepass, "-NOAUTH": either way it serves.
		if n == 0 || (buf[0] != '+' && !bytes.HasPrefix(buf, []byte("-NOAUTH"))) {
			return fmt.Errorf("unexpected answer %q", buf[:n])
		}
		return nil
	}, func() string { b, _ := os.ReadFile(s.log); return string(b) })
	return s
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
