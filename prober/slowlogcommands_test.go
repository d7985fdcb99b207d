package prober

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// slowlogOnly is a module that runs the slowlog and slowlog_commands
// collectors alone, so that the probe's own commands in the slow log are
// HELLO, PING, SLOWLOG LEN and SLOWLOG GET 1.
func slowlogOnly(t *testing.T) string {
	t.Helper()
	var off []string
	for _, c := range collectors {
		if c.name != "slowlog" && c.name != "slowlog_commands" {
			off = append(off, c.name+": false")
		}
	}
	return "    timeout: 5s\n    collectors: {slowlog: true, slowlog_commands: true, " + strings.Join(off, ", ") + "}\n"
}

// run sends each command and fails t on an error other than a nil reply.
func run(t *testing.T, c *redis.Client, cmds ...[]any) {
	t.Helper()
	for _, args := range cmds {
		if err := c.Do(context.Background(), args...).Err(); err != nil && !errors.Is(err, redis.Nil) {
			t.Fatalf("%v: %v", args, err)
		}
	}
}

// With every command logged, the newest 128 entries per command: their
// count and the longest. Each entry is named by its first argument,
// lowercased, and a container command's by its subcommand too.
func TestSlowlogByCommand(t *testing.T) {
	s := redistest.StartRedis(t, "--slowlog-log-slower-than", "0", "--enable-debug-command", "yes")
	c := s.Client(t)
	began := time.Now()
	run(t, c,
		[]any{"SLOWLOG", "RESET"},
		[]any{"SET", "k", "v"}, []any{"set", "k", "v"}, []any{"sEt", "k", "v"},
		[]any{"GET", "k"}, []any{"get", "nokey"},
		[]any{"CONFIG", "Get", "maxmemory"},
		[]any{"DEBUG", "SLEEP", "0.01"},
	)
	got, ok := probeTarget(t, s.Addr(), mustModule(t, slowlogOnly(t)), nil)
	took := time.Since(began).Seconds()
	if !ok {
		t.Fatal("probe failed")
	}
	nan := math.NaN()
	// The probe's HELLO, PING and SLOWLOG LEN ran before its SLOWLOG GET;
	// ids count from the server's start, its readiness PINGs included.
	expectExact(t, got, map[string]float64{
		`probe_collector_success{collector="slowlog"}`:                    1,
		"redis_slowlog_length":                                            10, // SLOWLOG GET 1 and GET 128 ran after LEN
		"redis_slowlog_last_id":                                           nan,
		"redis_slowlog_last_timestamp_seconds":                            nan,
		"redis_last_slow_execution_duration_seconds":                      nan,
		`redis_slowlog_command_entries{cmd="slowlog|reset"}`:              1,
		`redis_slowlog_command_entries{cmd="set"}`:                        3,
		`redis_slowlog_command_entries{cmd="get"}`:                        2,
		`redis_slowlog_command_entries{cmd="config|get"}`:                 1,
		`redis_slowlog_command_entries{cmd="debug"}`:                      1,
		`redis_slowlog_command_entries{cmd="hello"}`:                      1,
		`redis_slowlog_command_entries{cmd="ping"}`:                       1,
		`redis_slowlog_command_entries{cmd="slowlog|len"}`:                1,
		`redis_slowlog_command_entries{cmd="slowlog|get"}`:                1,
		`redis_slowlog_command_max_duration_seconds{cmd="slowlog|reset"}`: nan,
		`redis_slowlog_command_max_duration_seconds{cmd="set"}`:           nan,
		`redis_slowlog_command_max_duration_seconds{cmd="get"}`:           nan,
		`redis_slowlog_command_max_duration_seconds{cmd="config|get"}`:    nan,
		`redis_slowlog_command_max_duration_seconds{cmd="debug"}`:         nan,
		`redis_slowlog_command_max_duration_seconds{cmd="hello"}`:         nan,
		`redis_slowlog_command_max_duration_seconds{cmd="ping"}`:          nan,
		`redis_slowlog_command_max_duration_seconds{cmd="slowlog|len"}`:   nan,
		`redis_slowlog_command_max_duration_seconds{cmd="slowlog|get"}`:   nan,
		`probe_collector_success{collector="slowlog_commands"}`:           1,
	}, append(append(familiesOf(t, "slowlog"), familiesOf(t, "slowlog_commands")...), "probe_collector_success")...)
	for k, v := range got {
		if strings.HasPrefix(k, "redis_slowlog_command_max_duration_seconds{") && (v.Value < 0 || v.Value > took) {
			t.Errorf("%s = %v, want from 0 to the %v s the test took", k, v.Value, took)
		}
	}
	if d := got[`redis_slowlog_command_max_duration_seconds{cmd="debug"}`].Value; d < 0.01 {
		t.Errorf("DEBUG SLEEP 0.01 took %v s in the slow log, want at least 0.01", d)
	}
	// The newest entry is the probe's SLOWLOG LEN.
	if got["redis_last_slow_execution_duration_seconds"] != got[`redis_slowlog_command_max_duration_seconds{cmd="slowlog|len"}`] {
		t.Errorf("newest entry's duration %v, want SLOWLOG LEN's %v", got["redis_last_slow_execution_duration_seconds"], got[`redis_slowlog_command_max_duration_seconds{cmd="slowlog|len"}`])
	}
}

// Past 64 commands, the ones with the fewest entries are "other"; ties go to
// the name first in order.
func TestSlowlogCommandsBounded(t *testing.T) {
	s := redistest.StartRedis(t, "--slowlog-log-slower-than", "0")
	c := s.Client(t)
	run(t, c, []any{"SLOWLOG", "RESET"}, []any{"SET", "k", "v"}, []any{"SET", "k", "v"}, []any{"SET", "k", "v"})
	// 70 commands of one entry each, besides SET, SLOWLOG RESET and the
	// probe's HELLO, PING, SLOWLOG LEN and SLOWLOG GET 1.
	once := map[string][]any{
		"echo": {"ECHO", "x"}, "get": {"GET", "k"}, "append": {"APPEND", "k", "v"}, "strlen": {"STRLEN", "k"},
		"incr": {"INCR", "n"}, "decr": {"DECR", "n"}, "incrby": {"INCRBY", "n", "2"}, "decrby": {"DECRBY", "n", "1"},
		"incrbyfloat": {"INCRBYFLOAT", "f", "1.5"}, "getrange": {"GETRANGE", "k", "0", "1"}, "setrange": {"SETRANGE", "k", "0", "v"},
		"mset": {"MSET", "a", "1", "b", "2"}, "mget": {"MGET", "a", "b"}, "exists": {"EXISTS", "k"}, "type": {"TYPE", "k"},
		"ttl": {"TTL", "k"}, "pttl": {"PTTL", "k"}, "expire": {"EXPIRE", "k", "100"}, "pexpire": {"PEXPIRE", "k", "100000"},
		"persist": {"PERSIST", "k"}, "del": {"DEL", "a"}, "unlink": {"UNLINK", "b"}, "touch": {"TOUCH", "k"},
		"dbsize": {"DBSIZE"}, "time": {"TIME"}, "lastsave": {"LASTSAVE"}, "lpush": {"LPUSH", "l", "a", "b"},
		"rpush": {"RPUSH", "l", "c"}, "llen": {"LLEN", "l"}, "lrange": {"LRANGE", "l", "0", "-1"}, "lindex": {"LINDEX", "l", "0"},
		"lpop": {"LPOP", "l"}, "rpop": {"RPOP", "l"}, "sadd": {"SADD", "s", "a"}, "scard": {"SCARD", "s"},
		"smembers": {"SMEMBERS", "s"}, "sismember": {"SISMEMBER", "s", "a"}, "srem": {"SREM", "s", "x"},
		"zadd": {"ZADD", "z", "1", "a"}, "zcard": {"ZCARD", "z"}, "zscore": {"ZSCORE", "z", "a"},
		"zrange": {"ZRANGE", "z", "0", "-1"}, "zrank": {"ZRANK", "z", "a"}, "zincrby": {"ZINCRBY", "z", "1", "a"},
		"hset": {"HSET", "h", "f", "v"}, "hget": {"HGET", "h", "f"}, "hlen": {"HLEN", "h"}, "hgetall": {"HGETALL", "h"},
		"hkeys": {"HKEYS", "h"}, "hvals": {"HVALS", "h"}, "hexists": {"HEXISTS", "h", "f"}, "hdel": {"HDEL", "h", "x"},
		"hincrby": {"HINCRBY", "h", "n", "1"}, "pfadd": {"PFADD", "p", "a"}, "pfcount": {"PFCOUNT", "p"},
		"setbit": {"SETBIT", "bits", "1", "1"}, "getbit": {"GETBIT", "bits", "1"}, "bitcount": {"BITCOUNT", "bits"},
		"xadd": {"XADD", "st", "*", "f", "v"}, "xlen": {"XLEN", "st"}, "xrange": {"XRANGE", "st", "-", "+"},
		"randomkey": {"RANDOMKEY"}, "keys": {"KEYS", "*"}, "scan": {"SCAN", "0"},
		"object|encoding": {"OBJECT", "ENCODING", "k"}, "memory|usage": {"MEMORY", "USAGE", "k"},
		"client|id": {"CLIENT", "ID"}, "config|get": {"CONFIG", "GET", "maxmemory"},
		"command|count": {"COMMAND", "COUNT"}, "acl|whoami": {"ACL", "WHOAMI"},
	}
	if len(once) != 70 {
		t.Fatalf("%d commands, want 70", len(once))
	}
	names := []string{"hello", "ping", "slowlog|len", "slowlog|get", "slowlog|reset"}
	for name, args := range once {
		run(t, c, args)
		names = append(names, name)
	}
	text, ok, err := probeText(s.Addr(), mustModule(t, slowlogOnly(t)), nil)
	if err != nil || !ok {
		t.Fatalf("probe failed: %v", err)
	}
	promtoolCheck(t, text.String())
	got := samples(t, text)
	// SET's 3 entries, then the first 63 of the names of one entry.
	slices.Sort(names)
	want := map[string]float64{
		`redis_slowlog_command_entries{cmd="set"}`:              3,
		`redis_slowlog_command_max_duration_seconds{cmd="set"}`: math.NaN(),
	}
	for _, name := range names[:63] {
		want[fmt.Sprintf(`redis_slowlog_command_entries{cmd=%q}`, name)] = 1
		want[fmt.Sprintf(`redis_slowlog_command_max_duration_seconds{cmd=%q}`, name)] = math.NaN()
	}
	want[`redis_slowlog_command_entries{cmd="other"}`] = float64(len(names) - 63)
	want[`redis_slowlog_command_max_duration_seconds{cmd="other"}`] = math.NaN()
	expectExact(t, got, want, "redis_slowlog_command_entries", "redis_slowlog_command_max_duration_seconds")
	// SLOWLOG LEN ran before its own entry and SLOWLOG GET 1's were made.
	expect(t, got, map[string]float64{"redis_slowlog_length": float64(len(names) + 3 - 2)})
}

// collectSlowlogCommands runs the slowlog_commands collector on reply as
// SLOWLOG GET 128's answer.
func collectSlowlogCommands(t *testing.T, reply []any) (map[string]sample, error) {
	t.Helper()
	return collectReplies(t, "slowlog_commands", map[string]any{commandKey(slowlogGet): reply}, "")
}

// Names no real Redis logs are "other"; a reply no real Redis sends fails
// the collector, and nothing panics.
func TestSlowlogOnUnrealReplies(t *testing.T) {
	entry := func(id, usec int64, args ...any) []any {
		return []any{id, int64(1700000000), usec, args, "127.0.0.1:1234", ""}
	}
	got, err := collectSlowlogCommands(t, []any{
		entry(5, 40, "F\u00f6O"),
		entry(4, 30, "\u212aeys", "*"), // a Kelvin sign, which strings.ToLower makes "k"
		entry(3, 20, "config", "get maxmemory"),
		entry(2, 10, strings.Repeat("x", 65)),
		entry(1, 70, "GET", "k"),
		entry(0, 5, "CLIENT"),
	})
	if err != nil {
		t.Fatal(err)
	}
	expectExact(t, got, map[string]float64{
		`redis_slowlog_command_entries{cmd="other"}`:               4,
		`redis_slowlog_command_entries{cmd="get"}`:                 1,
		`redis_slowlog_command_entries{cmd="client"}`:              1,
		`redis_slowlog_command_max_duration_seconds{cmd="other"}`:  40e-6,
		`redis_slowlog_command_max_duration_seconds{cmd="get"}`:    70e-6,
		`redis_slowlog_command_max_duration_seconds{cmd="client"}`: 5e-6,
	}, familiesOf(t, "slowlog_commands")...)

	for _, bad := range [][]any{
		{"not an entry"},
		{[]any{int64(1), int64(2), int64(3)}},
		{[]any{"1", int64(2), int64(3), []any{"GET"}}},
		{[]any{int64(1), int64(2), int64(3), "GET"}},
		{[]any{int64(1), int64(2), int64(3), []any{}}},
		{[]any{int64(1), int64(2), int64(3), []any{int64(7)}}},
		{[]any{int64(1), int64(2), int64(3), []any{"CONFIG", nil}}},
		{entry(2, 1, "GET"), nil},
	} {
		got, err := collectSlowlogCommands(t, bad)
		if err == nil {
			t.Errorf("%v: no error", bad)
		}
		if len(got) > 0 {
			t.Errorf("%v: emitted %v", bad, got)
		}
	}
}
