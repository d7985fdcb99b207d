package prober

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/redis-probe/redis_probe_exporter/internal/redistest"
)

// probeNow probes through h and returns the series.
func probeNow(t *testing.T, h http.Handler, q url.Values) map[string]sample {
	t.Helper()
	w := serveProbe(h, q)
	if w.Code != http.StatusOK {
		t.Fatalf("probe answered %d: %s", w.Code, w.Body)
	}
	got := samples(t, w.Body)
	if got["probe_success"].Value != 1 {
		t.Fatalf("probe failed:\n%s", w.Body)
	}
	return got
}

// CONFIG GET and MODULE LIST answers are reused for the module's
// refresh_interval: a CONFIG SET is not seen, and CONFIG GET is not sent,
// before it has passed, and is seen after.
func TestKeptAnswersFollowRefreshInterval(t *testing.T) {
	const every = 4 * time.Second
	s := redistest.StartRedis(t)
	c := s.Client(t)
	h := newTestHandler(t, fmt.Sprintf("modules:\n  default:\n    timeout: 2s\n    refresh_interval: %s\n", every))
	q := url.Values{"target": {s.Addr()}}

	first := time.Now()
	got := probeNow(t, h, q)
	expect(t, got, map[string]float64{"redis_config_maxmemory_bytes": 0, `probe_collector_success{collector="modules"}`: 1})
	gets, lists := redistest.Calls(t, c, "config|get"), redistest.Calls(t, c, "module|list")
	if err := c.ConfigSet(context.Background(), "maxmemory", "10mb").Err(); err != nil {
		t.Fatal(err)
	}
	got = probeNow(t, h, q)
	if time.Since(first) >= every {
		t.Fatalf("two probes took longer than refresh_interval %s: the machine is too slow for this test", every)
	}
	expect(t, got, map[string]float64{"redis_config_maxmemory_bytes": 0, `probe_collector_success{collector="config"}`: 1})
	if n, m := redistest.Calls(t, c, "config|get"), redistest.Calls(t, c, "module|list"); n != gets || m != lists {
		t.Errorf("within refresh_interval Redis ran CONFIG GET %d and MODULE LIST %d more times, want 0", n-gets, m-lists)
	}
	time.Sleep(time.Until(first.Add(every)))
	got = probeNow(t, h, q)
	expect(t, got, map[string]float64{"redis_config_maxmemory_bytes": 10 << 20})
}

// A reload starts from nothing: what was kept under the old config is
// neither served nor held.
func TestReloadForgetsKeptAnswers(t *testing.T) {
	s := redistest.StartRedis(t)
	c := s.Client(t)
	h := newTestHandler(t, "modules:\n  default:\n    timeout: 2s\n    refresh_interval: 1h\n")
	q := url.Values{"target": {s.Addr()}}
	expect(t, probeNow(t, h, q), map[string]float64{"redis_config_maxmemory_bytes": 0})
	if n := h.memo.Len(); n != 1 {
		t.Fatalf("%d cache entries after a probe, want 1", n)
	}
	if err := c.ConfigSet(context.Background(), "maxmemory", "30mb").Err(); err != nil {
		t.Fatal(err)
	}
	if err := h.config.Reload(); err != nil {
		t.Fatal(err)
	}
	if n := h.memo.Len(); n != 0 {
		t.Errorf("%d cache entries after a reload, want 0", n)
	}
	expect(t, probeNow(t, h, q), map[string]float64{"redis_config_maxmemory_bytes": 30 << 20})
}

// A restarted Redis (a new run_id) is asked again at once, whatever the
// refresh_interval: its settings may have changed with the restart.
func TestRestartInvalidatesKeptAnswers(t *testing.T) {
	s := redistest.StartRedis(t)
	h := newTestHandler(t, "modules:\n  default:\n    timeout: 2s\n    refresh_interval: 1h\n    keys:\n      - {metric: r_kept, key: k, refresh_interval: 1h}\n")
	q := url.Values{"target": {s.Addr()}}
	c := s.Client(t)
	c.Set(context.Background(), "k", 1, 0)
	expect(t, probeNow(t, h, q), map[string]float64{"redis_config_maxmemory_bytes": 0, `r_kept{key="k"}`: 1})

	s.Restart(t)
	c = s.Client(t)
	if err := c.ConfigSet(context.Background(), "maxmemory", "20mb").Err(); err != nil {
		t.Fatal(err)
	}
	c.Set(context.Background(), "k", 2, 0)
	got := probeNow(t, h, q)
	expect(t, got, map[string]float64{
		"redis_config_maxmemory_bytes":                 20 << 20,
		`r_kept{key="k"}`:                              2,
		`redis_key_rule_age_seconds{rule="r_kept"}`:    0,
		`probe_collector_success{collector="config"}`:  1,
		`probe_collector_success{collector="modules"}`: 1,
		`redis_key_rule_success{rule="r_kept"}`:        1,
		`redis_key_rule_skipped{rule="r_kept"}`:        0,
	})
	if n := redistest.Calls(t, c, "config|get"); n != 6 {
		t.Errorf("the restarted Redis ran CONFIG GET %d times, want the 6 of one probe", n)
	}
}

// A rule with a refresh_interval serves its last result between refreshes,
// and its age rises from one probe to the next.
func TestRuleAgeRisesBetweenRefreshes(t *testing.T) {
	s := redistest.StartRedis(t)
	c := s.Client(t)
	ctx := context.Background()
	c.Set(ctx, "jobs", 5, 0)
	h := newTestHandler(t, "modules:\n  default:\n    timeout: 2s\n    keys:\n      - {metric: r_jobs, key: jobs, refresh_interval: 1h}\n      - {metric: r_live, key: jobs}\n")
	q := url.Values{"target": {s.Addr()}}
	expect(t, probeNow(t, h, q), map[string]float64{
		`r_jobs{key="jobs"}`: 5, `r_live{key="jobs"}`: 5,
		`redis_key_rule_age_seconds{rule="r_jobs"}`: 0, `redis_key_rule_age_seconds{rule="r_live"}`: 0,
	})
	c.Set(ctx, "jobs", 6, 0)
	time.Sleep(50 * time.Millisecond)
	got := probeNow(t, h, q)
	expect(t, got, map[string]float64{`r_jobs{key="jobs"}`: 5, `r_live{key="jobs"}`: 6, `redis_key_rule_age_seconds{rule="r_live"}`: 0, `redis_key_rule_skipped{rule="r_jobs"}`: 0})
	age1 := got[`redis_key_rule_age_seconds{rule="r_jobs"}`].Value
	time.Sleep(50 * time.Millisecond)
	age2 := probeNow(t, h, q)[`redis_key_rule_age_seconds{rule="r_jobs"}`].Value
	if !(age1 >= 0.05 && age2 >= age1+0.05) {
		t.Errorf("r_jobs age %v then %v, want at least 0.05 s, then 0.05 s more", age1, age2)
	}
}

// Nothing kept under one auth is served to another: a user without CONFIG
// or GET rights sees its own failures, not the answers another auth's
// probe kept.
func TestKeptAnswersNeverCrossAuths(t *testing.T) {
	s := redistest.StartRedis(t)
	c := s.Client(t)
	ctx := context.Background()
	for _, args := range [][]any{
		{"ACL", "SETUSER", "full", "on", ">full-pw", "~*", "+@all"},
		{"ACL", "SETUSER", "narrow", "on", ">narrow-pw", "+ping", "+info", "+slowlog", "+latency", "+module|list"},
		{"SET", "secret", "42"},
	} {
		if err := c.Do(ctx, args...).Err(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	config := `auths:
  full: {username: full, password: full-pw}
  narrow: {username: narrow, password: narrow-pw}
modules:
  default:
    timeout: 2s
    refresh_interval: 1h
    keys:
      - {metric: r_secret, key: secret, refresh_interval: 1h}
`
	h := newTestHandler(t, config)
	expect(t, probeNow(t, h, url.Values{"target": {s.Addr()}, "auth": {"full"}}), map[string]float64{
		`probe_collector_success{collector="config"}`: 1, `r_secret{key="secret"}`: 1 * 42,
	})
	got := probeNow(t, h, url.Values{"target": {s.Addr()}, "auth": {"narrow"}})
	expect(t, got, map[string]float64{
		`probe_collector_success{collector="config"}`: 0,
		`redis_key_rule_success{rule="r_secret"}`:     0,
	})
	for _, k := range []string{"redis_config_maxmemory_bytes", `r_secret{key="secret"}`} {
		if _, ok := got[k]; ok {
			t.Errorf("the narrow auth got %s, kept by the full auth's probe", k)
		}
	}
}

// When the round trip takes longer than skip_rules_after, a rule due to run
// is skipped, says so, and serves its last result with its age.
func TestRulesSkippedWhenRoundTripIsSlow(t *testing.T) {
	s := redistest.StartRedis(t)
	c := s.Client(t)
	ctx := context.Background()
	c.Set(ctx, "jobs", 5, 0)
	h := newTestHandler(t, "modules:\n  default:\n    timeout: 3s\n    skip_rules_after: 300ms\n    keys:\n      - {metric: r_jobs, key: jobs, refresh_interval: 1ms}\n      - {metric: r_never, key: jobs}\n")
	q := url.Values{"target": {s.Addr()}}
	expect(t, probeNow(t, h, q), map[string]float64{`r_jobs{key="jobs"}`: 5, `redis_key_rule_skipped{rule="r_jobs"}`: 0})
	c.Set(ctx, "jobs", 6, 0)
	if err := c.Do(ctx, "CLIENT", "PAUSE", 600, "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	got := probeNow(t, h, q)
	expect(t, got, map[string]float64{
		`r_jobs{key="jobs"}`:                     5, // the last result
		`redis_key_rule_skipped{rule="r_jobs"}`:  1,
		`redis_key_rule_skipped{rule="r_never"}`: 1,
	})
	if age := got[`redis_key_rule_age_seconds{rule="r_jobs"}`].Value; age < 0.3 {
		t.Errorf("r_jobs age %v, want the pause's 0.3 s at least", age)
	}
	for _, k := range []string{`r_never{key="jobs"}`, `redis_key_rule_success{rule="r_never"}`, `redis_key_rule_age_seconds{rule="r_never"}`} {
		if _, ok := got[k]; ok {
			t.Errorf("a skipped rule with no kept result emitted %s", k)
		}
	}
	expect(t, probeNow(t, h, q), map[string]float64{`r_jobs{key="jobs"}`: 6, `redis_key_rule_skipped{rule="r_jobs"}`: 0})
}

// A module that can reuse nothing (refresh_interval 0, no rule with one)
// takes no cache entry: it would only push out entries that are used.
func TestModuleThatReusesNothingTakesNoEntry(t *testing.T) {
	s := redistest.StartRedis(t)
	h := newTestHandler(t, "modules:\n  default:\n    timeout: 2s\n    refresh_interval: 0s\n    keys:\n      - {metric: r_live, key: k}\n")
	probeNow(t, h, url.Values{"target": {s.Addr()}})
	if n := h.memo.Len(); n != 0 {
		t.Errorf("%d cache entries, want 0", n)
	}
}
