package prober

import (
	"strings"
	"testing"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// The commandlog collector on Valkey 8.1's answers. No Valkey binary is
// available here, so the replies are built as Valkey's source and tests
// give them (src/commandlog.c, tests/unit/commandlog.tcl): COMMANDLOG LEN
// answers an integer, CONFIG GET commandlog-* the flat name, value array
// of its six parameters, with their defaults here but a slow log of 1 ms.
func TestCommandlogOnValkeyReplies(t *testing.T) {
	answers := map[string]any{
		"COMMANDLOG LEN slow":          int64(3),
		"COMMANDLOG LEN large-request": int64(0),
		"COMMANDLOG LEN large-reply":   int64(1),
		"CONFIG GET commandlog-*": []any{
			"commandlog-execution-slower-than", "1000",
			"commandlog-slow-execution-max-len", "128",
			"commandlog-request-larger-than", "1048576",
			"commandlog-large-request-max-len", "128",
			"commandlog-reply-larger-than", "-1",
			"commandlog-large-reply-max-len", "64",
		},
	}
	got, err := collectReplies(t, "commandlog", answers, "")
	if err != nil {
		t.Fatal(err)
	}
	expectExact(t, got, map[string]float64{
		`redis_commandlog_length{type="slow"}`:              3,
		`redis_commandlog_length{type="large-request"}`:     0,
		`redis_commandlog_length{type="large-reply"}`:       1,
		`redis_commandlog_max_length{type="slow"}`:          128,
		`redis_commandlog_max_length{type="large-request"}`: 128,
		`redis_commandlog_max_length{type="large-reply"}`:   64,
		"redis_commandlog_execution_slower_than_seconds":    0.001,
		"redis_commandlog_request_larger_than_bytes":        1 << 20,
		"redis_commandlog_reply_larger_than_bytes":          -1,
	}, "redis_commandlog_length", "redis_commandlog_max_length", "redis_commandlog_execution_slower_than_seconds",
		"redis_commandlog_request_larger_than_bytes", "redis_commandlog_reply_larger_than_bytes")
}

// On Redis, which has no COMMANDLOG, the collector fails and says so;
// the probe and the other collectors stand.
func TestCommandlogOnRedisDegrades(t *testing.T) {
	s := redistest.StartRedis(t)
	got, ok := probeTarget(t, s.Addr(), mustModule(t, "    timeout: 2s\n    collectors: {commandlog: true}\n"), nil)
	if !ok {
		t.Fatal("probe failed")
	}
	expect(t, got, map[string]float64{
		"probe_success": 1, `probe_collector_success{collector="commandlog"}`: 0, `probe_collector_success{collector="info"}`: 1,
	})
	for k := range got {
		if strings.HasPrefix(k, "redis_commandlog") {
			t.Errorf("Redis without COMMANDLOG gave %s", k)
		}
	}
}
