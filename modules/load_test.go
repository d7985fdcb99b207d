package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestParseValid(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := testCatalogue.Parse([]byte(`
auths:
  prod:
    username: exporter
    password: inline-secret
    allowed_targets: ["*.prod.internal", "10.0.0.0/8:6379"]
  filed:
    password_file: `+pwFile+`
modules:
  default: {}
  lean:
    timeout: 3s
    auth: prod
    limits:
      max_bulk_bytes: 1MiB
      max_reply_bytes: 4194304
    retries:
      attempts: 3
    metrics:
      include: ['redis_.*']
      exclude: ['redis_commands_.*']
`), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(c.Modules["default"].Timeout); got != DefaultTimeout {
		t.Errorf("default timeout = %s, want %s", got, DefaultTimeout)
	}
	lean := c.Modules["lean"]
	if time.Duration(lean.Timeout) != 3*time.Second || lean.Auth != "prod" {
		t.Errorf("lean = %+v", lean)
	}
	for name, want := range map[string]bool{
		"redis_up": true, "redis_commands_total": false, "redis_commands_processed_total": false,
		"probe_success": false, "xredis_up": false,
	} {
		if got := lean.Metrics.Keeps(name); got != want {
			t.Errorf("lean keeps %s = %v, want %v", name, got, want)
		}
	}
	wantLimits := Limits{MaxBulkBytes: 1 << 20, MaxAggregateLength: DefaultMaxAggregateLength, MaxLineBytes: DefaultMaxLineBytes, MaxReplyBytes: 4 << 20}
	if lean.Limits != wantLimits || c.Modules["default"].Limits.MaxBulkBytes != DefaultMaxBulkBytes {
		t.Errorf("limits = %+v and %+v, want %+v and the defaults", lean.Limits, c.Modules["default"].Limits, wantLimits)
	}
	if lean.Retries != (Retries{Attempts: 3, BaseDelay: Duration(DefaultBaseDelay)}) {
		t.Errorf("retries = %+v", lean.Retries)
	}
	if _, pw, err := c.Auths["filed"].Credentials(); pw != "from-file" || err != nil {
		t.Errorf("password_file read as %q, %v", pw, err)
	}
	// A rotated secret is read again without a reload (a new size, so the
	// change shows even within the file system's time granularity).
	if err := os.WriteFile(pwFile, []byte("rotated-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, pw, err := c.Auths["filed"].Credentials(); pw != "rotated-secret" || err != nil {
		t.Errorf("rotated password_file read as %q, %v", pw, err)
	}
	if got := c.Warnings(); len(got) != 1 || !strings.Contains(got[0], "auths.filed: credentials without allowed_targets") {
		t.Errorf("warnings = %q, want one per auth with credentials and no allowed_targets", got)
	}
	if string(c.Auths["prod"].Password) != "inline-secret" {
		t.Errorf("password = %q", c.Auths["prod"].Password)
	}
}

func TestParseErrorsNameFileLineAndField(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"unknown field", "modules:\n  default:\n    timeuot: 5s\n", []string{"c.yml:3:", "modules.default.timeuot", "timeuot not found"}},
		{"bad duration", "modules:\n  default:\n    timeout: 5 seconds\n", []string{"c.yml:3:", "modules.default.timeout", `invalid duration "5 seconds"`}},
		{"negative duration", "modules:\n  default:\n    timeout: -1s\n", []string{"c.yml:3:", "modules.default.timeout"}},
		{"wrong type", "modules:\n  default:\n    metrics:\n      include: redis_up\n", []string{"c.yml:4:", "modules.default.metrics.include"}},
		{"bad regex", "modules:\n  m:\n    metrics:\n      exclude: ['redis_(']\n", []string{"c.yml:4:", "modules.m.metrics.exclude[0]", "invalid regex"}},
		{"unknown auth", "modules:\n  m:\n    timeout: 1s\n    auth: nope\n", []string{"c.yml:4:", "modules.m.auth", `unknown auth "nope"`}},
		{"no modules", "auths: {}\n", []string{"c.yml:", "modules", "at least one module"}},
		{"both passwords", "auths:\n  a:\n    password: x\n    password_file: /etc/hostname\nmodules:\n  m: {}\n", []string{"c.yml:4:", "auths.a.password_file", "not both"}},
		{"bad size", "modules:\n  m:\n    limits:\n      max_bulk_bytes: lots\n", []string{"c.yml:4:", "modules.m.limits.max_bulk_bytes", `invalid size "lots"`}},
		{"negative size", "modules:\n  m:\n    limits:\n      max_line_bytes: -1\n", []string{"c.yml:4:", "modules.m.limits.max_line_bytes", "positive"}},
		{"too many attempts", "modules:\n  m:\n    retries:\n      attempts: 11\n", []string{"c.yml:4:", "modules.m.retries.attempts", "between 1 and 10"}},
		{"missing password file", "auths:\n  a:\n    password_file: /nonexistent/pw\nmodules:\n  m: {}\n", []string{"c.yml:3:", "auths.a.password_file", "/nonexistent/pw"}},
		{"missing ca file", "auths:\n  a:\n    tls:\n      ca_file: /nonexistent/ca.pem\nmodules:\n  m: {}\n", []string{"c.yml:3:", "auths.a.tls", "ca_file"}},
		{"cert without key", "auths:\n  a:\n    tls:\n      cert_file: /etc/hostname\nmodules:\n  m: {}\n", []string{"c.yml:3:", "auths.a.tls", "go together"}},
		{"bad allowed target", "modules:\n  m:\n    allowed_targets:\n      - 10.0.0.0/8\n      - 10.0.0.0/99\n", []string{"c.yml:5:", "modules.m.allowed_targets[1]", "invalid CIDR"}},
		{"bad port", "modules:\n  m:\n    allowed_targets: ['host:70000']\n", []string{"c.yml:3:", "invalid port"}},
		{"syntax", "modules:\n  m: [\n", []string{"c.yml:2: ", "did not find expected node content"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := testCatalogue.Parse([]byte(tc.yaml), "c.yml")
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestSecretsMarshalMasked(t *testing.T) {
	c, err := testCatalogue.Parse([]byte("auths:\n  a:\n    username: u\n    password: hunter2-secret\nmodules:\n  m:\n    auth: a\n"), "c.yml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "hunter2") || !strings.Contains(string(out), "password: <secret>") {
		t.Errorf("marshalled config:\n%s", out)
	}
	if s := c.Auths["a"].Password.String(); s != Masked {
		t.Errorf("Secret.String() = %q", s)
	}
	// What /config shows must load again.
	if _, err := testCatalogue.Parse(out, "roundtrip.yml"); err != nil {
		t.Errorf("marshalled config does not load: %v", err)
	}
}

func TestEmbeddedDefault(t *testing.T) {
	c := testCatalogue.Default()
	m := c.Modules[DefaultModule]
	if m == nil || time.Duration(m.Timeout) != DefaultTimeout || m.Auth != "" || len(c.Auths) != 0 || len(m.AllowedTargets) != 0 {
		t.Errorf("default config: %+v, module %+v", c, m)
	}
}

// refresh_interval and skip_rules_after take 0s (off) and positive
// durations; a negative one or a bare number is refused with its line.
func TestIntervalsTakeZero(t *testing.T) {
	cat := Catalogue{Collectors: map[string]bool{}}
	c, err := cat.Parse([]byte("modules:\n  m:\n    refresh_interval: 0s\n    skip_rules_after: 250ms\n    keys:\n      - {metric: k, key: k, refresh_interval: 1m}\n"), "c.yml")
	if err != nil {
		t.Fatal(err)
	}
	m := c.Modules["m"]
	if m.Refresh() != 0 || m.SkipRulesAfter != Interval(250*time.Millisecond) || m.Keys[0].RefreshInterval != Interval(time.Minute) {
		t.Errorf("refresh %v, skip %v, rule refresh %v", m.Refresh(), m.SkipRulesAfter, m.Keys[0].RefreshInterval)
	}
	if d, _ := cat.Parse([]byte("modules:\n  m: {}\n"), "c.yml"); d.Modules["m"].Refresh() != DefaultRefreshInterval {
		t.Errorf("default refresh %v, want %v", d.Modules["m"].Refresh(), DefaultRefreshInterval)
	}
	for _, bad := range []string{"-1s", "5"} {
		_, err := cat.Parse([]byte("modules:\n  m:\n    refresh_interval: "+bad+"\n"), "c.yml")
		want := `c.yml:3: modules.m.refresh_interval: invalid duration "` + bad + `": want 0s or a positive duration such as 1m`
		if err == nil || err.Error() != want {
			t.Errorf("refresh_interval %s: %v, want %s", bad, err, want)
		}
	}
}

// expect: takes known values only, each refused with its line and path.
func TestExpectValidated(t *testing.T) {
	cat := Catalogue{Collectors: map[string]bool{}}
	for _, tc := range []struct{ yaml, want string }{
		{"    expect:\n      role: primary\n", `c.yml:4: modules.m.expect.role: unknown value "primary": one of [master replica]`},
		{"    expect:\n      master_link: sideways\n", `c.yml:4: modules.m.expect.master_link: unknown value "sideways": one of [up down]`},
		{"    expect:\n      cluster_state: degraded\n", `c.yml:4: modules.m.expect.cluster_state: unknown value "degraded": one of [ok fail]`},
		{"    expect:\n      min_replicas: -1\n", `c.yml:4: modules.m.expect.min_replicas: must be 0 or more`},
		{"    expect:\n      loading: maybe\n", "c.yml:4: modules.m.expect.loading: cannot unmarshal !!str `maybe` into bool"},
		{"    expect:\n      roles: master\n", "c.yml:4: modules.m.expect.roles: field roles not found in type modules.Expect"},
	} {
		_, err := cat.Parse([]byte("modules:\n  m:\n"+tc.yaml), "c.yml")
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: %v, want %s", tc.yaml, err, tc.want)
		}
	}
	c, err := cat.Parse([]byte("modules:\n  m:\n    expect: {role: replica, loading: false, min_replicas: 0}\n"), "c.yml")
	if err != nil {
		t.Fatal(err)
	}
	if x := c.Modules["m"].Expect; x.Role != "replica" || *x.Loading || *x.MinReplicas != 0 {
		t.Errorf("expect parsed as %+v", x)
	}
}

// run_on is any, master or replica, any by default, for key and script
// rules alike.
func TestRunOnValidated(t *testing.T) {
	cat := Catalogue{Collectors: map[string]bool{}}
	c, err := cat.Parse([]byte("modules:\n  m:\n    keys:\n      - {metric: a, key: k}\n      - {metric: b, key: k, run_on: replica}\n    scripts:\n      - {metric: c, script: 'return 1', run_on: master}\n"), "c.yml")
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Modules["m"]; m.Keys[0].RunOn != "any" || m.Keys[1].RunOn != "replica" || m.Scripts[0].RunOn != "master" {
		t.Errorf("run_on %q %q %q", m.Keys[0].RunOn, m.Keys[1].RunOn, m.Scripts[0].RunOn)
	}
	_, err = cat.Parse([]byte("modules:\n  m:\n    keys:\n      - metric: a\n        key: k\n        run_on: primary\n"), "c.yml")
	if want := `c.yml:6: modules.m.keys[0].run_on: unknown value "primary": one of [any master replica]`; err == nil || err.Error() != want {
		t.Errorf("%v, want %s", err, want)
	}
}
