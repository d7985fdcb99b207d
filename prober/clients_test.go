package prober

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/clientlist"
	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/internal/info"
	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// collectClientList runs the clients collector on text as the reply to
// CLIENT LIST, for module m.
func collectClientList(t *testing.T, m string, text string, replyErr error) (map[string]sample, error) {
	t.Helper()
	mod := mustModule(t, m)
	cmd := redis.NewCmd(context.Background(), clientList...)
	if replyErr != nil {
		cmd.SetErr(replyErr)
	} else {
		cmd.SetVal(text)
	}
	r := &replies{module: mod, cmds: map[string]*redis.Cmd{commandKey(clientList): cmd}}
	e := exposition.NewEmitter(planFor(mod).keep)
	var c *collector
	for _, x := range collectors {
		if x.name == "clients" {
			c = x
		}
	}
	if c == nil {
		t.Fatal("no clients collector registered")
	}
	err := c.collect(r, e)
	return samples(t, e), err
}

func recordedClientList(t *testing.T) string {
	t.Helper()
	text, err := os.ReadFile("../internal/clientlist/testdata/client_list.txt")
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

// withPrefix returns the series of got whose key starts with prefix.
func withPrefix(got map[string]sample, prefix string) map[string]sample {
	out := map[string]sample{}
	for k, v := range got {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out
}

// The recorded list (see internal/clientlist's test for who is in it) gives
// these aggregates, and with client_series: 3 the three most idle clients:
// the replica (idle 4), then of those idle 3 the lowest ids, 4 and 6.
func TestClientsOnRecordedList(t *testing.T) {
	text := recordedClientList(t)
	got, err := collectClientList(t, "    collectors: {clients: true}\n    client_series: 3\n", text, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		`redis_client_connections{flags="N",name="admin",user="default"}`:                            1,
		`redis_client_connections{flags="b",name="waiter",user="default"}`:                           1,
		`redis_client_connections{flags="N",name="worker-1",user="default"}`:                         1,
		`redis_client_connections{flags="N",name="web-1",user="app"}`:                                1,
		`redis_client_connections{flags="N",name="slow-writer",user="default"}`:                      1,
		`redis_client_connections{flags="P",name="news-reader",user="default"}`:                      1,
		`redis_client_connections{flags="x",name="batch",user="default"}`:                            1,
		`redis_client_connections{flags="S",name="",user="default"}`:                                 1,
		`redis_client_connections{flags="N",name="slow-reader",user="default"}`:                      1,
		`redis_client_connections{flags="N",name="",user="default"}`:                                 2,
		`redis_client_max_query_buffer_bytes`:                                                        300000,
		`redis_client_max_output_buffer_bytes`:                                                       33554528,
		`redis_client_max_total_memory_bytes`:                                                        33556328,
		`redis_client_oldest_idle_seconds`:                                                           4,
		`redis_client_oldest_age_seconds`:                                                            4,
		`redis_client_idle_seconds{addr="127.0.0.1:43004",id="3",name="",user="default"}`:            4,
		`redis_client_age_seconds{addr="127.0.0.1:43004",id="3",name="",user="default"}`:             4,
		`redis_client_total_memory_bytes{addr="127.0.0.1:43004",id="3",name="",user="default"}`:      1800,
		`redis_client_idle_seconds{addr="127.0.0.1:43014",id="4",name="admin",user="default"}`:       3,
		`redis_client_age_seconds{addr="127.0.0.1:43014",id="4",name="admin",user="default"}`:        4,
		`redis_client_total_memory_bytes{addr="127.0.0.1:43014",id="4",name="admin",user="default"}`: 1840,
		`redis_client_idle_seconds{addr="127.0.0.1:43024",id="6",name="web-1",user="app"}`:           3,
		`redis_client_age_seconds{addr="127.0.0.1:43024",id="6",name="web-1",user="app"}`:            3,
		`redis_client_total_memory_bytes{addr="127.0.0.1:43024",id="6",name="web-1",user="app"}`:     1800,
		`redis_client_series_truncated`:                                                              1,
	}
	expectExact(t, got, want, familiesOf(t, "clients")...)
	for k, s := range withPrefix(got, "redis_client_") {
		if s.Typ.String() != "GAUGE" {
			t.Errorf("%s is a %v", k, s.Typ)
		}
	}

	// Aggregates only by default; all eleven clients when the cap allows.
	got, _ = collectClientList(t, "    collectors: {clients: true}\n", text, nil)
	if n := len(withPrefix(got, "redis_client_connections{")); n != 10 {
		t.Errorf("%d connection groups, want 10", n)
	}
	for _, f := range []string{"redis_client_idle_seconds", "redis_client_age_seconds", "redis_client_total_memory_bytes", "redis_client_series_truncated"} {
		if s := withPrefix(got, f); len(s) != 0 {
			t.Errorf("client_series 0 gives %v", s)
		}
	}
	got, _ = collectClientList(t, "    collectors: {clients: true}\n    client_series: 11\n", text, nil)
	expect(t, got, map[string]float64{
		"redis_client_series_truncated": 0,
		`redis_client_idle_seconds{addr="127.0.0.1:43086",id="13",name="",user="default"}`:                  0,
		`redis_client_total_memory_bytes{addr="127.0.0.1:43056",id="11",name="slow-reader",user="default"}`: 33556328,
		`redis_client_age_seconds{addr="127.0.0.1:43046",id="10",name="slow-writer",user="default"}`:        3,
		`redis_client_idle_seconds{addr="127.0.0.1:43020",id="5",name="worker-1",user="default"}`:           0,
		`redis_client_connections{flags="N",name="worker-1",user="default"}`:                                1,
		`redis_client_max_query_buffer_bytes`:                                                               300000,
		`redis_client_oldest_idle_seconds`:                                                                  4,
		`redis_client_total_memory_bytes{addr="127.0.0.1:43086",id="13",name="",user="default"}`:            37658,
		`redis_client_idle_seconds{addr="127.0.0.1:43040",id="9",name="waiter",user="default"}`:             3,
		`redis_client_age_seconds{addr="127.0.0.1:43038",id="8",name="batch",user="default"}`:               3,
		`redis_client_total_memory_bytes{addr="127.0.0.1:43030",id="7",name="news-reader",user="default"}`:  1904,
		`redis_client_connections{flags="N",name="web-1",user="app"}`:                                       1,
		`redis_client_connections{flags="S",name="",user="default"}`:                                        1,
		`redis_client_connections{flags="N",name="slow-reader",user="default"}`:                             1,
		`redis_client_connections{flags="P",name="news-reader",user="default"}`:                             1,
		`redis_client_connections{flags="x",name="batch",user="default"}`:                                   1,
		`redis_client_max_total_memory_bytes`:                                                               33556328,
		`redis_client_max_output_buffer_bytes`:                                                              33554528,
		`redis_client_oldest_age_seconds`:                                                                   4,
		`redis_client_idle_seconds{addr="127.0.0.1:43004",id="3",name="",user="default"}`:                   4,
		`redis_client_idle_seconds{addr="127.0.0.1:43072",id="12",name="",user="default"}`:                  3,
		`redis_client_connections{flags="N",name="",user="default"}`:                                        2,
		`redis_client_connections{flags="b",name="waiter",user="default"}`:                                  1,
		`redis_client_connections{flags="N",name="slow-writer",user="default"}`:                             1,
		`redis_client_connections{flags="N",name="admin",user="default"}`:                                   1,
		`redis_client_idle_seconds{addr="127.0.0.1:43014",id="4",name="admin",user="default"}`:              3,
		`redis_client_idle_seconds{addr="127.0.0.1:43024",id="6",name="web-1",user="app"}`:                  3,
		`redis_client_idle_seconds{addr="127.0.0.1:43046",id="10",name="slow-writer",user="default"}`:       3,
		`redis_client_idle_seconds{addr="127.0.0.1:43056",id="11",name="slow-reader",user="default"}`:       3,
		`redis_client_idle_seconds{addr="127.0.0.1:43030",id="7",name="news-reader",user="default"}`:        3,
		`redis_client_idle_seconds{addr="127.0.0.1:43038",id="8",name="batch",user="default"}`:              3,
	})
	for _, f := range []string{"redis_client_idle_seconds{", "redis_client_age_seconds{", "redis_client_total_memory_bytes{"} {
		if n := len(withPrefix(got, f)); n != 11 {
			t.Errorf("%d %s series, want 11", n, f)
		}
	}
}

// An older Redis without tot-mem or user: no max total memory rather than
// a false 0, and an empty user label.
func TestClientsOnOlderRedis(t *testing.T) {
	got, err := collectClientList(t, "    collectors: {clients: true}\n    client_series: 5\n",
		"id=3 addr=127.0.0.1:52555 fd=8 name=old age=855 idle=12 flags=N db=0 sub=0 psub=0 multi=-1 qbuf=0 qbuf-free=32768 obl=0 oll=0 omem=0 events=r cmd=client\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	expectExact(t, got, map[string]float64{
		`redis_client_connections{flags="N",name="old",user=""}`:                      1,
		`redis_client_oldest_idle_seconds`:                                            12,
		`redis_client_oldest_age_seconds`:                                             855,
		`redis_client_max_query_buffer_bytes`:                                         0,
		`redis_client_max_output_buffer_bytes`:                                        0,
		`redis_client_idle_seconds{addr="127.0.0.1:52555",id="3",name="old",user=""}`: 12,
		`redis_client_age_seconds{addr="127.0.0.1:52555",id="3",name="old",user=""}`:  855,
		`redis_client_series_truncated`:                                               0,
	}, familiesOf(t, "clients")...) // no tot-mem: no redis_client_*total_memory_bytes
}

// A failed or unparsable CLIENT LIST fails the collector.
func TestClientsErrors(t *testing.T) {
	m := "    collectors: {clients: true}\n"
	if _, err := collectClientList(t, m, "", errors.New("ERR unknown command 'CLIENT'")); err == nil {
		t.Error("a failed CLIENT LIST did not fail the collector")
	}
	if _, err := collectClientList(t, m, "id=1 idle=soon\n", nil); err == nil {
		t.Error("an unparsable CLIENT LIST did not fail the collector")
	}
}

// rawConn dials addr and sends each command, reading its one-line reply,
// which must be +OK. It is one connection, unlike a go-redis client's pool.
func rawConn(t *testing.T, addr string, cmds ...[]string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r := bufio.NewReader(c)
	for _, args := range cmds {
		if _, err := c.Write(resp(args...)); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := r.ReadString('\n')
		if err != nil || line != "+OK\r\n" {
			t.Fatalf("%v: %q, %v", args, line, err)
		}
	}
	_ = c.SetReadDeadline(time.Time{})
	return c
}

// resp encodes a command as a RESP array of bulk strings.
func resp(args ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return []byte(b.String())
}

func TestClientsRealRedis(t *testing.T) {
	s := redistest.StartRedis(t)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true})
	defer admin.Close()
	if err := admin.Do(ctx, "ACL", "SETUSER", "app", "on", ">app-pw", "+@all", "~*", "&*").Err(); err != nil {
		t.Fatal(err)
	}
	const bigValue = 8 << 20
	if err := admin.Set(ctx, "big", strings.Repeat("v", bigValue), 0).Err(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		rawConn(t, s.Addr(), []string{"CLIENT", "SETNAME", "worker"})
	}
	for range 2 {
		rawConn(t, s.Addr(), []string{"AUTH", "app", "app-pw"}, []string{"CLIENT", "SETNAME", "web"})
	}
	// uploader is 200000 bytes into a 1 MB argument: a big query buffer.
	const partial = 200000
	up := rawConn(t, s.Addr(), []string{"CLIENT", "SETNAME", "uploader"})
	if _, err := up.Write(append([]byte("*3\r\n$3\r\nSET\r\n$2\r\nup\r\n$1000000\r\n"), strings.Repeat("u", partial)...)); err != nil {
		t.Fatal(err)
	}
	// reader asks for the big value three times and reads nothing: what
	// the socket buffers cannot hold stays in its output list.
	rd := rawConn(t, s.Addr(), []string{"CLIENT", "SETNAME", "reader"})
	_ = rd.(*net.TCPConn).SetReadBuffer(4096)
	for range 3 {
		if _, err := rd.Write(resp("GET", "big")); err != nil {
			t.Fatal(err)
		}
	}
	redistest.WaitFor(t, 10*time.Second, func() error {
		text, err := admin.ClientList(ctx).Result()
		if err != nil {
			return err
		}
		clients, err := clientlist.Parse(text)
		if err != nil {
			return err
		}
		for _, c := range clients {
			switch {
			case c.Name == "uploader" && c.QueryBuf < partial:
				return fmt.Errorf("uploader qbuf %d", c.QueryBuf)
			case c.Name == "reader" && c.OutputMem < bigValue:
				return fmt.Errorf("reader omem %d", c.OutputMem)
			}
		}
		return nil
	}, nil)
	admin.Close()                       // leaves the probe as the only unnamed client
	time.Sleep(1500 * time.Millisecond) // idle for at least a second

	got, ok := probeTarget(t, s.Addr(), mustModule(t, "    timeout: 5s\n    collectors: {clients: true}\n"), nil)
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{
		`probe_collector_success{collector="clients"}`: 1,
		`redis_connected_clients`:                      8,
	})
	// Every series of the collector with client_series 0: the groups and
	// the aggregates, whose values are checked below.
	nan := math.NaN()
	expectExact(t, got, map[string]float64{
		`redis_client_connections{flags="N",name="worker",user="default"}`:   3,
		`redis_client_connections{flags="N",name="web",user="app"}`:          2,
		`redis_client_connections{flags="N",name="uploader",user="default"}`: 1,
		`redis_client_connections{flags="N",name="reader",user="default"}`:   1,
		`redis_client_connections{flags="N",name="",user="default"}`:         1, // the probe itself
		"redis_client_max_query_buffer_bytes":                                nan,
		"redis_client_max_output_buffer_bytes":                               nan,
		"redis_client_max_total_memory_bytes":                                nan,
		"redis_client_oldest_idle_seconds":                                   nan,
		"redis_client_oldest_age_seconds":                                    nan,
	}, familiesOf(t, "clients")...)
	total := 0.0
	for _, s := range withPrefix(got, "redis_client_connections{") {
		total += s.Value
	}
	if total != got["redis_connected_clients"].Value {
		t.Errorf("connections sum to %v, INFO says %v clients", total, got["redis_connected_clients"].Value)
	}
	for _, c := range []struct {
		name string
		min  float64
	}{
		{"redis_client_max_query_buffer_bytes", partial},
		{"redis_client_max_output_buffer_bytes", bigValue},
		{"redis_client_max_total_memory_bytes", bigValue},
		{"redis_client_oldest_idle_seconds", 1},
		{"redis_client_oldest_age_seconds", 1},
	} {
		if v, ok := got[c.name]; !ok || v.Value < c.min || v.Value > 1e9 {
			t.Errorf("%s = %v (present %v), want at least %v", c.name, v.Value, ok, c.min)
		}
	}
	if got["redis_client_max_total_memory_bytes"].Value < got["redis_client_max_output_buffer_bytes"].Value {
		t.Errorf("max total memory %v below max output buffer %v", got["redis_client_max_total_memory_bytes"].Value, got["redis_client_max_output_buffer_bytes"].Value)
	}
	if got["redis_client_oldest_age_seconds"].Value < got["redis_client_oldest_idle_seconds"].Value {
		t.Errorf("oldest age %v below oldest idle %v", got["redis_client_oldest_age_seconds"].Value, got["redis_client_oldest_idle_seconds"].Value)
	}

	// client_series: 2 gives the two most idle clients, not the probe.
	got, ok = probeTarget(t, s.Addr(), mustModule(t, "    timeout: 5s\n    collectors: {clients: true}\n    client_series: 2\n"), nil)
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{"redis_client_series_truncated": 1})
	idle := withPrefix(got, "redis_client_idle_seconds{")
	if len(idle) != 2 {
		t.Errorf("%d idle series, want 2: %v", len(idle), idle)
	}
	most := 0.0
	for k, s := range idle {
		most = max(most, s.Value)
		if s.Value < 1 {
			t.Errorf("%s = %v: not among the most idle", k, s.Value)
		}
		for _, f := range []string{"redis_client_age_seconds", "redis_client_total_memory_bytes"} {
			if _, ok := got[f+strings.TrimPrefix(k, "redis_client_idle_seconds")]; !ok {
				t.Errorf("%s has no %s", k, f)
			}
		}
	}
	if oldest := got["redis_client_oldest_idle_seconds"].Value; most != oldest {
		t.Errorf("most idle series %v, oldest idle %v", most, oldest)
	}

	// A cap above the client count: every client, the probe's own included.
	got, ok = probeTarget(t, s.Addr(), mustModule(t, "    timeout: 5s\n    collectors: {clients: true}\n    client_series: 100\n"), nil)
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{"redis_client_series_truncated": 0})
	total = 0
	for _, s := range withPrefix(got, "redis_client_connections{") {
		total += s.Value
	}
	idle = withPrefix(got, "redis_client_idle_seconds{")
	if float64(len(idle)) != total {
		t.Errorf("%d idle series for %v connections", len(idle), total)
	}
	self, readerMem := 0, 0.0
	for k, s := range idle {
		labels := k[strings.Index(k, "{"):]
		id := labels[strings.Index(labels, `id="`)+4:]
		if _, err := strconv.ParseUint(id[:strings.Index(id, `"`)], 10, 64); err != nil || !strings.Contains(labels, `addr="127.0.0.1:`) {
			t.Errorf("labels %s", labels)
		}
		if strings.Contains(labels, `name="",user="default"`) && s.Value == 0 {
			self++
		}
		if strings.Contains(labels, `name="reader"`) {
			readerMem = got["redis_client_total_memory_bytes"+labels].Value
		}
	}
	if self != 1 {
		t.Errorf("%d unnamed clients idle 0, want the probe's own: %v", self, idle)
	}
	if readerMem < bigValue {
		t.Errorf("reader total memory %v, want at least %v", readerMem, bigValue)
	}
}

// Off by default: no family, and CLIENT LIST is not sent.
func TestClientsOffByDefault(t *testing.T) {
	s := redistest.StartRedis(t)
	got, ok := probeTarget(t, s.Addr(), mustModule(t, "    timeout: 2s\n"), nil)
	if !ok {
		t.Fatal("probe failed")
	}
	// INFO's clients section has redis_client_recent_max_* families of its
	// own: only this collector's are checked.
	for _, c := range collectors {
		if c.name != "clients" {
			continue
		}
		for _, f := range c.families {
			if s := withPrefix(got, f.Name()); len(s) != 0 {
				t.Errorf("default module reports %v", s)
			}
		}
	}
	if _, ok := got[`probe_collector_success{collector="clients"}`]; ok {
		t.Error("default module ran the clients collector")
	}
	text, err := s.Client(t).Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := info.Get(info.Parse(text), "cmdstat_client|list"); ok {
		t.Errorf("default module sent CLIENT LIST: %s", v)
	}
	if _, ok := got["redis_connected_clients"]; !ok {
		t.Error("default module lost redis_connected_clients")
	}
}
