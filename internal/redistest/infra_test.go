package redistest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func infraCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestStartCluster(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, 3, 1)
	if len(c.Nodes) != 6 || len(c.Masters()) != 3 || len(c.Replicas()) != 3 {
		t.Fatalf("%d nodes, %d masters, %d replicas; want 6, 3, 3", len(c.Nodes), len(c.Masters()), len(c.Replicas()))
	}
	for _, n := range c.Nodes {
		if n.Port > 55535 {
			t.Errorf("node port %d: bus port would be above 65535", n.Port)
		}
		s, err := n.Client(t).ClusterInfo(infraCtx(t)).Result()
		if err != nil {
			t.Fatal(err)
		}
		info := parseInfo(s)
		for k, want := range map[string]string{"cluster_state": "ok", "cluster_known_nodes": "6", "cluster_size": "3"} {
			if info[k] != want {
				t.Errorf("node %s: CLUSTER INFO %s:%s, want %s", n.Addr(), k, info[k], want)
			}
		}
	}
	for _, m := range c.Masters() {
		rs := c.ReplicasOf(m)
		if len(rs) != 1 {
			t.Fatalf("master %s has replicas %v, want 1", m.Addr(), rs)
		}
		info, err := infoFields(rs[0].Client(t), "replication")
		if err != nil {
			t.Fatal(err)
		}
		if info["role"] != "slave" || info["master_port"] != strconv.Itoa(m.Port) || info["master_link_status"] != "up" {
			t.Errorf("replica %s of %s: role %s, master_port %s, master_link_status %s", rs[0].Addr(), m.Addr(), info["role"], info["master_port"], info["master_link_status"])
		}
	}

	cc := c.ClusterClient(t)
	keys := map[string]string{}
	for i := 0; i < 20; i++ { // spread over the slots, so over all masters
		keys["key:"+strconv.Itoa(i)] = "value " + strconv.Itoa(i)
	}
	for k, v := range keys {
		if err := cc.Set(infraCtx(t), k, v, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	for k, want := range keys {
		if got, err := cc.Get(infraCtx(t), k).Result(); err != nil || got != want {
			t.Fatalf("GET %s = %q, %v; want %q", k, got, err, want)
		}
	}
	// Each master holds the keys of its slots: 20 keys land on more than one.
	holding := 0
	for _, m := range c.Masters() {
		if n, err := m.Client(t).DBSize(infraCtx(t)).Result(); err != nil {
			t.Fatal(err)
		} else if n > 0 {
			holding++
		}
	}
	if holding < 2 {
		t.Errorf("%d masters hold keys, want the 20 keys spread over several", holding)
	}

	// The short node timeout makes a failover take seconds.
	m := c.Masters()[0]
	r := c.ReplicasOf(m)[0]
	// Replication is asynchronous: WAIT until the replica has every write.
	if n, err := m.Client(t).Do(infraCtx(t), "WAIT", 1, 5000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 5000 on %s = %d, %v", m.Addr(), n, err)
	}
	m.Stop()
	rc := r.Client(t)
	start := time.Now()
	WaitFor(t, 15*time.Second, func() error {
		info, err := infoFields(rc, "replication")
		if err != nil {
			return err
		}
		if info["role"] != "master" {
			return fmt.Errorf("replica %s role %s", r.Addr(), info["role"])
		}
		// Every live node sees the old master failed and the replica
		// serving, so that a client may ask any of them for the slots.
		for _, n := range c.Nodes {
			if n == m {
				continue
			}
			nc := n.Client(t)
			s, err := nc.ClusterInfo(infraCtx(t)).Result()
			if err != nil {
				return err
			}
			if st := parseInfo(s)["cluster_state"]; st != "ok" {
				return fmt.Errorf("node %s: cluster_state:%s", n.Addr(), st)
			}
			s, err = nc.ClusterNodes(infraCtx(t)).Result()
			if err != nil {
				return err
			}
			for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
				f := strings.Fields(line)
				switch addr, _, _ := strings.Cut(f[1], "@"); addr {
				case m.Addr():
					if !strings.Contains(f[2], "fail") || strings.Contains(f[2], "fail?") {
						return fmt.Errorf("node %s: old master flags %s", n.Addr(), f[2])
					}
				case r.Addr():
					if !strings.Contains(f[2], "master") || len(f) < 9 {
						return fmt.Errorf("node %s: new master flags %s, slots %v", n.Addr(), f[2], f[8:])
					}
				}
			}
		}
		return nil
	}, func() string { return serverLogs(r) })
	t.Logf("replica %s took over from %s in %s", r.Addr(), m.Addr(), time.Since(start).Round(time.Millisecond))
	// The keys were replicated: a new cluster client (go-redis refreshes an
	// old one's slot map only every 10s) reads them all from the new master.
	cc = c.ClusterClient(t)
	for k, want := range keys {
		if got, err := cc.Get(infraCtx(t), k).Result(); err != nil || got != want {
			t.Fatalf("after failover GET %s = %q, %v; want %q\nnew master log:\n%s", k, got, err, want, serverLogs(r))
		}
	}
}

func TestStartSentinel(t *testing.T) {
	t.Parallel()
	master := StartRedis(t, "--repl-diskless-sync-delay", "0")
	replica := StartRedis(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port))
	WaitFor(t, 10*time.Second, func() error {
		info, err := infoFields(replica.Client(t), "replication")
		if err != nil {
			return err
		}
		if info["master_link_status"] != "up" {
			return fmt.Errorf("master_link_status:%s", info["master_link_status"])
		}
		return nil
	}, nil)

	s := StartSentinel(t, "mymaster", master, 1)
	if s.Port == 0 || s.Addr() != "127.0.0.1:"+strconv.Itoa(s.Port) {
		t.Fatalf("sentinel address %q", s.Addr())
	}
	sc := s.Client(t)
	addr, err := sc.GetMasterAddrByName(infraCtx(t), "mymaster").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(addr) != 2 || addr[0] != "127.0.0.1" || addr[1] != strconv.Itoa(master.Port) {
		t.Errorf("SENTINEL GET-MASTER-ADDR-BY-NAME mymaster = %q, want [127.0.0.1 %d]", addr, master.Port)
	}
	m, err := sc.Master(infraCtx(t), "mymaster").Result()
	if err != nil {
		t.Fatal(err)
	}
	if m["num-slaves"] != "1" || m["port"] != strconv.Itoa(master.Port) || m["quorum"] != "1" || m["down-after-milliseconds"] != "1000" || m["failover-timeout"] != "5000" {
		t.Errorf("SENTINEL MASTER mymaster = %v", m)
	}
	rs, err := sc.Replicas(infraCtx(t), "mymaster").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0]["port"] != strconv.Itoa(replica.Port) || rs[0]["ip"] != "127.0.0.1" {
		t.Errorf("SENTINEL REPLICAS mymaster = %v, want the replica on port %d", rs, replica.Port)
	}
	if _, err := sc.GetMasterAddrByName(infraCtx(t), "other").Result(); err != redis.Nil {
		t.Errorf("GET-MASTER-ADDR-BY-NAME other: %v, want nil reply", err)
	}

	// down-after-milliseconds 1000 makes a failover take seconds.
	master.Stop()
	start := time.Now()
	WaitFor(t, 20*time.Second, func() error {
		addr, err := sc.GetMasterAddrByName(infraCtx(t), "mymaster").Result()
		if err != nil {
			return err
		}
		if addr[1] != strconv.Itoa(replica.Port) {
			return fmt.Errorf("master is %v", addr)
		}
		return nil
	}, s.Log)
	t.Logf("sentinel failed over to %s in %s", replica.Addr(), time.Since(start).Round(time.Millisecond))

	s.Stop()
	if err := sc.Ping(infraCtx(t)).Err(); err == nil {
		t.Error("sentinel answers PING after Stop")
	}
}

func TestStartTLSRedis(t *testing.T) {
	t.Parallel()
	files := MakeCerts(t)

	t.Run("client cert required", func(t *testing.T) {
		t.Parallel()
		s := StartTLSRedis(t, files, true, "--requirepass", "pw")
		c := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true, Password: "pw", TLSConfig: files.ClientConfig(t, true)})
		defer c.Close()
		if got, err := c.Ping(infraCtx(t)).Result(); err != nil || got != "PONG" {
			t.Fatalf("PING over TLS with client cert = %q, %v", got, err)
		}
		if err := s.TLSClient(t, files).Ping(infraCtx(t)).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
			t.Errorf("PING without the password: %v, want NOAUTH (the extra args apply)", err)
		}

		// Plaintext: the TLS port does not answer PING.
		conn, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := ping(conn); err == nil {
			t.Error("the TLS port answered a plaintext PING")
		}
		plain := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true, MaxRetries: -1})
		defer plain.Close()
		if err := plain.Ping(infraCtx(t)).Err(); err == nil {
			t.Error("a plaintext go-redis client got an answer")
		} else {
			t.Logf("plaintext client: %v", err)
		}

		// TLS without a client certificate: refused.
		noCert := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true, Password: "pw", MaxRetries: -1, TLSConfig: files.ClientConfig(t, false)})
		defer noCert.Close()
		// (TLS 1.3 finishes the client's handshake before the server checks
		// the certificate: the error is an alert or a reset, by timing.)
		if err := noCert.Ping(infraCtx(t)).Err(); err == nil {
			t.Error("a TLS client without a certificate got an answer")
		} else {
			t.Logf("TLS client without a certificate: %v", err)
		}
		// Nor a client that does not trust the CA.
		untrusting := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true, MaxRetries: -1, TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12}})
		defer untrusting.Close()
		if err := untrusting.Ping(infraCtx(t)).Err(); err == nil || !strings.Contains(err.Error(), "unknown authority") {
			t.Errorf("a TLS client not trusting the CA: %v, want unknown authority", err)
		}
	})

	t.Run("client cert optional", func(t *testing.T) {
		t.Parallel()
		s := StartTLSRedis(t, files, false)
		if got, err := s.TLSClient(t, files).Ping(infraCtx(t)).Result(); err != nil || got != "PONG" {
			t.Fatalf("PING over TLS with client cert = %q, %v", got, err)
		}
		// The certificate names localhost as well as 127.0.0.1.
		cfg := files.ClientConfig(t, false)
		cfg.ServerName = "localhost"
		c := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true, TLSConfig: cfg})
		defer c.Close()
		if got, err := c.Ping(infraCtx(t)).Result(); err != nil || got != "PONG" {
			t.Fatalf("PING over TLS without client cert, server name localhost = %q, %v", got, err)
		}
		conn, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := ping(conn); err == nil {
			t.Error("the TLS port answered a plaintext PING")
		}
	})
}
