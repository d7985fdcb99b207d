package prober

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

// The least-privilege ACL the README gives is enough for every default
// collector, the optional ones and every kind of rule, and nothing more is
// needed: each collector and rule succeeds as that user.
func TestReadmeACLIsEnough(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*ACL SETUSER exporter on >PASSWORD (.*)$`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no ACL SETUSER exporter line")
	}
	s := redistest.StartRedis(t)
	ctx := context.Background()
	admin := s.Client(t)
	args := []any{"ACL", "SETUSER", "exporter", "on", ">ro-pw"}
	for _, a := range strings.Fields(string(m[1])) {
		args = append(args, a)
	}
	if err := admin.Do(ctx, args...).Err(); err != nil {
		t.Fatalf("README ACL: %v", err)
	}
	admin.Set(ctx, "session:acme:1", 1, 0)
	admin.HSet(ctx, "stats:cache", "hits", 7)
	admin.RPush(ctx, "queue:emails", "a", "b")
	admin.PFAdd(ctx, "visitors", "a", "b", "c")
	admin.XAdd(ctx, &redis.XAddArgs{Stream: "events", Values: []any{"k", "v"}})
	admin.XGroupCreate(ctx, "events", "mailer", "0")
	admin.ZAdd(ctx, "jobs:delayed", redis.Z{Score: 1, Member: "job"})

	mod := mustModule(t, `    collectors: {clients: true, latency_histogram: true}
    keys:
      - {metric: r_count, pattern: "session:*", aggregate: count}
      - {metric: r_value, key: "stats:cache", field: hits}
      - {metric: r_length, keys: ["queue:emails", "visitors"], measure: length}
      - {metric: r_ttl, key: "session:acme:1", measure: ttl}
      - {metric: r_memory, key: "queue:emails", measure: memory}
      - {metric: r_exists, key: "nope", measure: exists}
      - {metric: r_idle, key: "queue:emails", measure: idle}
      - {metric: r_stream, key: "events", measure: stream}
      - {metric: r_other_db, key: "x", measure: exists, db: 3}
    scripts:
      - {metric: r_script, script: "return redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[1])", keys: ["jobs:delayed"], args: ["10"]}
`)
	got, ok := probeTarget(t, s.Addr(), mod, &modules.Auth{Username: "exporter", Password: "ro-pw"})
	if !ok {
		t.Fatal("probe failed")
	}
	for k, v := range got {
		if (strings.HasPrefix(k, "probe_collector_success") || strings.HasPrefix(k, "redis_key_rule_success")) && v.Value != 1 {
			t.Errorf("%s = 0 as the README's least-privilege user", k)
		}
	}
	expect(t, got, map[string]float64{
		`redis_key_rule_success{rule="r_script"}`:      1,
		`redis_key_rule_success{rule="r_stream"}`:      1,
		`probe_collector_success{collector="clients"}`: 1,
		`r_length{key="visitors"}`:                     3,
	})
	// And the user cannot write.
	u := redis.NewClient(&redis.Options{Addr: s.Addr(), Username: "exporter", Password: "ro-pw", Protocol: 2, DisableIdentity: true})
	defer u.Close()
	if err := u.Set(ctx, "w", 1, 0).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("the README user may write: %v", err)
	}
}

// The README's worked key-rule example is a config that loads.
func TestReadmeKeyRulesExampleLoads(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme[strings.Index(string(readme), "## Key rules"):])
	start := strings.Index(section, "```yaml\n") + len("```yaml\n")
	end := start + strings.Index(section[start:], "```")
	c, err := Catalogue().Parse([]byte(section[start:end]), "README.md key rules example")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.Modules["app"].Keys) + len(c.Modules["app"].Scripts); n != 7 {
		t.Errorf("the example has %d rules, want 7", n)
	}
}
