package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of redis-server processes on loopback ports,
// created with redis-cli --cluster create.
type Cluster struct {
	Nodes []*Server

	masters   []*Server
	replicas  []*Server
	replicaOf map[*Server]*Server // replica → its master, at creation
}

// Masters are the nodes that were masters once the cluster was created, in
// Nodes order. Roles may change afterwards (failover); this does not.
func (c *Cluster) Masters() []*Server { return c.masters }

// Replicas are the nodes that were replicas once the cluster was created, in
// Nodes order.
func (c *Cluster) Replicas() []*Server { return c.replicas }

// ReplicasOf are the replicas of master m at creation, in Nodes order.
func (c *Cluster) ReplicasOf(m *Server) []*Server {
	var out []*Server
	for _, r := range c.replicas {
		if c.replicaOf[r] == m {
			out = append(out, r)
		}
	}
	return out
}

// MasterOf is the master replica r replicated at creation, or nil when r was
// not a replica.
func (c *Cluster) MasterOf(r *Server) *Server { return c.replicaOf[r] }

// Addrs are the "127.0.0.1:port" addresses of all nodes, in Nodes order.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr()
	}
	return out
}

// ClusterClient is a new go-redis cluster client seeded with every node,
// closed when the test ends.
func (c *Cluster) ClusterClient(t testing.TB) *redis.ClusterClient {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// StartCluster starts masters*(1+replicasPerMaster) cluster-enabled
// redis-servers (node timeout 1s, diskless replication without delay, no
// persistence), joins them with redis-cli --cluster create, and waits until
// every node reports cluster_state:ok and sees every other node connected,
// every replica's master link is up and every master has its replicas
// online. masters must be at least 3. The nodes are stopped when the test
// ends.
func StartCluster(t testing.TB, masters, replicasPerMaster int) *Cluster {
	t.Helper()
	if masters < 3 || replicasPerMaster < 0 {
		t.Fatalf("StartCluster(%d, %d): a Redis Cluster needs at least 3 masters", masters, replicasPerMaster)
	}
	n := masters * (1 + replicasPerMaster)
	c := &Cluster{replicaOf: map[*Server]*Server{}}
	for i := 0; i < n; i++ {
		c.Nodes = append(c.Nodes, launch(t, launchSpec{
			bin:     "redis-server",
			logName: "redis.log",
			port:    clusterPort,
			args: func(s *Server) []string {
				conf := filepath.Join(s.Dir, "nodes.conf")
				_ = os.Remove(conf) // from an attempt whose port was taken
				return append(redisBaseArgs(s),
					"--port", strconv.Itoa(s.Port),
					"--cluster-enabled", "yes",
					"--cluster-config-file", conf,
					"--cluster-node-timeout", "1000",
					"--repl-diskless-sync", "yes",
					"--repl-diskless-sync-delay", "0",
				)
			},
		}))
	}
	nodeLogs := func() string {
		var b strings.Builder
		for _, s := range c.Nodes {
			fmt.Fprintf(&b, "--- node %s log:\n%s\n", s.Addr(), serverLogs(s))
		}
		return b.String()
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicasPerMaster), "--cluster-yes")
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli %s: %v\n%s\n%s", strings.Join(args, " "), err, out, nodeLogs())
	}

	clients := make([]*redis.Client, n)
	for i, s := range c.Nodes {
		clients[i] = s.Client(t)
	}
	WaitFor(t, 20*time.Second, func() error {
		for i, s := range c.Nodes {
			if err := clusterNodeReady(clients[i], n, masters, replicasPerMaster); err != nil {
				return fmt.Errorf("node %s: %w", s.Addr(), err)
			}
		}
		return nil
	}, nodeLogs)

	byPort := map[int]*Server{}
	for _, s := range c.Nodes {
		byPort[s.Port] = s
	}
	for i, s := range c.Nodes {
		info, err := infoFields(clients[i], "replication")
		if err != nil {
			t.Fatalf("node %s: INFO replication: %v", s.Addr(), err)
		}
		switch info["role"] {
		case "master":
			c.masters = append(c.masters, s)
		case "slave":
			port, _ := strconv.Atoi(info["master_port"])
			m := byPort[port]
			if m == nil {
				t.Fatalf("node %s replicates %s:%s, not a cluster node", s.Addr(), info["master_host"], info["master_port"])
			}
			c.replicas = append(c.replicas, s)
			c.replicaOf[s] = m
		default:
			t.Fatalf("node %s: role %q", s.Addr(), info["role"])
		}
	}
	if len(c.masters) != masters || len(c.replicas) != n-masters {
		t.Fatalf("cluster has %d masters and %d replicas, want %d and %d", len(c.masters), len(c.replicas), masters, n-masters)
	}
	return c
}

// clusterNodeReady checks one node's view of a freshly created cluster.
func clusterNodeReady(c *redis.Client, nodes, masters, replicasPerMaster int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := c.ClusterInfo(ctx).Result()
	if err != nil {
		return err
	}
	info := parseInfo(s)
	for k, want := range map[string]string{
		"cluster_state":          "ok",
		"cluster_known_nodes":    strconv.Itoa(nodes),
		"cluster_size":           strconv.Itoa(masters),
		"cluster_slots_assigned": "16384",
		"cluster_slots_ok":       "16384",
	} {
		if info[k] != want {
			return fmt.Errorf("CLUSTER INFO %s:%s, want %s", k, info[k], want)
		}
	}
	s, err = c.ClusterNodes(ctx).Result()
	if err != nil {
		return err
	}
	var lines, nMasters int
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			return fmt.Errorf("CLUSTER NODES line %q", line)
		}
		lines++
		flags := f[2]
		for _, bad := range []string{"fail", "handshake", "noaddr"} {
			if strings.Contains(flags, bad) {
				return fmt.Errorf("CLUSTER NODES: %s is %s", f[1], flags)
			}
		}
		if f[7] != "connected" {
			return fmt.Errorf("CLUSTER NODES: %s is %s", f[1], f[7])
		}
		if strings.Contains(flags, "master") {
			nMasters++
		}
	}
	if lines != nodes || nMasters != masters {
		return fmt.Errorf("CLUSTER NODES lists %d nodes, %d masters; want %d, %d", lines, nMasters, nodes, masters)
	}
	repl, err := infoFields(c, "replication")
	if err != nil {
		return err
	}
	switch repl["role"] {
	case "slave":
		if repl["master_link_status"] != "up" {
			return fmt.Errorf("master_link_status:%s", repl["master_link_status"])
		}
	case "master":
		if repl["connected_slaves"] != strconv.Itoa(replicasPerMaster) {
			return fmt.Errorf("connected_slaves:%s, want %d", repl["connected_slaves"], replicasPerMaster)
		}
		for i := 0; i < replicasPerMaster; i++ {
			if v := repl["slave"+strconv.Itoa(i)]; !strings.Contains(v, "state=online") {
				return fmt.Errorf("slave%d:%s", i, v)
			}
		}
	}
	return nil
}

// infoFields runs INFO section and parses its "key:value" lines.
func infoFields(c *redis.Client, section string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := c.Info(ctx, section).Result()
	if err != nil {
		return nil, err
	}
	return parseInfo(s), nil
}

func parseInfo(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && !strings.HasPrefix(k, "#") {
			m[k] = v
		}
	}
	return m
}

// clusterPort returns a free loopback port p <= 55535 whose cluster bus port
// p+10000 is free too.
func clusterPort(t testing.TB) int {
	t.Helper()
	for i := 0; i < 200; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		if p <= 55535 {
			if bus, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p+10000))); err == nil {
				_ = bus.Close()
				_ = l.Close()
				return p
			}
		}
		_ = l.Close()
	}
	t.Fatal("no free port p <= 55535 with p+10000 free")
	return 0
}

// The rest starts redis-server and redis-sentinel processes for
// StartCluster, StartSentinel and StartTLSRedis.

// launchSpec says how to start one server process.
type launchSpec struct {
	bin     string                   // redis-server or redis-sentinel
	logName string                   // the logfile the args set, in the dir
	port    func(testing.TB) int     // picks the port
	args    func(s *Server) []string // s.Port, s.Dir set; may write files in s.Dir
	// dial connects for the readiness PING; nil is plain TCP.
	dial func(addr string) (net.Conn, error)
}

// redisBaseArgs are StartRedis's settings, without the port.
func redisBaseArgs(s *Server) []string {
	return []string{
		"--bind", "127.0.0.1", "--dir", s.Dir,
		"--save", "", "--appendonly", "no", "--logfile", s.log, "--daemonize", "no",
	}
}

// launch starts a server in a fresh temp dir and waits until it answers
// PING (or -NOAUTH), starting it again on another port when the one picked
// was taken meanwhile. It is stopped when the test ends.
func launch(t testing.TB, spec launchSpec) *Server {
	t.Helper()
	dir := t.TempDir()
	for attempt := 1; ; attempt++ {
		s := &Server{Port: spec.port(t), Dir: dir, log: filepath.Join(dir, spec.logName)}
		_ = os.Remove(s.log)
		out, err := os.Create(filepath.Join(dir, "output.log"))
		if err != nil {
			t.Fatal(err)
		}
		s.spec = spec
		err = s.start(t, out)
		if err == nil {
			return s
		}
		s.Stop()
		logs := serverLogs(s)
		if attempt < 3 && strings.Contains(logs, "Address already in use") {
			continue
		}
		t.Fatalf("%s on %s: %v\n%s", spec.bin, s.Addr(), err, logs)
	}
}

// start runs s's server, stopped when the test ends, and waits until it
// serves.
func (s *Server) start(t testing.TB, out *os.File) error {
	t.Helper()
	s.cmd = exec.Command(s.spec.bin, s.spec.args(s)...)
	s.cmd.Dir = s.Dir
	s.cmd.Stdout, s.cmd.Stderr = out, out
	err := s.cmd.Start()
	_ = out.Close()
	if err != nil {
		t.Fatalf("starting %s (make test installs it): %v", s.spec.bin, err)
	}
	t.Cleanup(s.Stop)
	return waitServing(s, s.spec.dial, 10*time.Second)
}

// Restart kills the server, as a crash would, and starts it again on the
// same port and dir, with the same settings: a new run_id.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	out, err := os.OpenFile(filepath.Join(s.Dir, "output.log"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.start(t, out); err != nil {
		t.Fatalf("restarting %s on %s: %v\n%s", s.spec.bin, s.Addr(), err, serverLogs(s))
	}
}

// waitServing polls s with PING until it answers, it exits or timeout.
func waitServing(s *Server, dial func(string) (net.Conn, error), timeout time.Duration) error {
	if dial == nil {
		dial = func(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, time.Second) }
	}
	deadline := time.Now().Add(timeout)
	for {
		err := func() error {
			c, err := dial(s.Addr())
			if err != nil {
				return err
			}
			defer c.Close()
			return ping(c)
		}()
		if err == nil {
			return nil
		}
		if exited(s.cmd.Process) {
			return fmt.Errorf("exited before answering: %v", err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ping sends PING on c and accepts +PONG or, with requirepass, -NOAUTH.
func ping(c net.Conn) error {
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(buf[:n], []byte("+PONG")) && !bytes.HasPrefix(buf[:n], []byte("-NOAUTH")) {
		return fmt.Errorf("unexpected answer %q", buf[:n])
	}
	return nil
}

// exited tells whether p has exited (it is then a zombie, as nothing waits
// for it before Stop). Where /proc is missing it says false.
func exited(p *os.Process) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid))
	if err != nil {
		return errors.Is(err, fs.ErrNotExist) && procMounted()
	}
	// The state follows the ")" that ends the command name.
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X')
}

func procMounted() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// serverLogs is what a launched server wrote to its logfile and to
// stdout/stderr (config errors go there).
func serverLogs(s *Server) string {
	logf, _ := os.ReadFile(s.log)
	out, _ := os.ReadFile(filepath.Join(s.Dir, "output.log"))
	return fmt.Sprintf("%s\n%s", bytes.TrimSpace(out), logf)
}
