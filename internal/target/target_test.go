package target

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Target
		addr string
	}{
		{"10.0.0.1:6380", Target{Network: "tcp", Host: "10.0.0.1", Port: 6380}, "10.0.0.1:6380"},
		{"redis-1.internal", Target{Network: "tcp", Host: "redis-1.internal", Port: 6379}, "redis-1.internal:6379"},
		{"[::1]:7000", Target{Network: "tcp", Host: "::1", Port: 7000}, "[::1]:7000"},
		{"::1", Target{Network: "tcp", Host: "::1", Port: 6379}, "[::1]:6379"},
		{"redis://cache:6390/3", Target{Network: "tcp", Host: "cache", Port: 6390, DB: 3}, "cache:6390"},
		{"valkey://cache:6390/3", Target{Network: "tcp", Host: "cache", Port: 6390, DB: 3}, "cache:6390"},
		{"valkeys://cache:6390", Target{Network: "tcp", Host: "cache", Port: 6390, TLS: true}, "cache:6390"},
		{"redis://cache", Target{Network: "tcp", Host: "cache", Port: 6379}, "cache:6379"},
		{"rediss://cache:6380", Target{Network: "tcp", Host: "cache", Port: 6380, TLS: true}, "cache:6380"},
		{"unix:///run/redis/redis.sock", Target{Network: "unix", Host: "/run/redis/redis.sock"}, "/run/redis/redis.sock"},
	} {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want || got.Addr() != tc.addr {
			t.Errorf("Parse(%q) = %+v (addr %s), want %+v (addr %s)", tc.in, got, got.Addr(), tc.want, tc.addr)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "missing target"},
		{"redis://user:pw@cache:6379", "auths:"},
		{"redis://:pw@cache:6379", "auths:"},
		{"user:pw@cache:6379", "auths:"},
		{"redis://u:pw%zz@cache", "auths:"},
		{"redis://cache:6379?password=x", "query"},
		{"redis://cache:99999", "invalid port"},
		{"cache:0", "invalid port"},
		{"cache:abc", "invalid port"},
		{"redis://cache:6379/x", "invalid database"},
		{"http://cache:6379", "unsupported target scheme"},
		{"unix://host/path", "unix:///absolute/path"},
		{"redis://:6379", "empty host"},
		{"[::1", "want host:port"},
		{"[::1%25x.cache.internal]:6379", "invalid"},
		{"unix:///run/redis/../x.sock", "must be clean"},
		{"cache\x00:6379", "control character at byte 5"},
		{"cache\r\nX-Injected: 1", "control character at byte 5"},
		{"redis://cache\x7f:6379", "control character at byte 13"},
		{"cache\xff:6379", "not valid UTF-8"},
		{strings.Repeat("a", 2000), "2000 bytes long"},
	} {
		_, err := Parse(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q) error = %v, want one line containing %q", tc.in, err, tc.want)
		}
		if strings.Contains(tc.in, "pw") && (err == nil || strings.Contains(err.Error(), "pw")) {
			t.Errorf("Parse(%q) error %v repeats the secret", tc.in, err)
		}
	}
	if _, err := Parse("redis://u:p@h"); !errors.Is(err, ErrCredentials) {
		t.Errorf("credentials error is %v, want ErrCredentials", err)
	}
}

func TestStringTellsTargetsApart(t *testing.T) {
	seen := map[string]string{}
	for _, in := range []string{"cache:6379", "redis://cache:6379/1", "rediss://cache:6379", "unix:///tmp/r.sock", "cache:6380"} {
		tg, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if prev, ok := seen[tg.String()]; ok {
			t.Errorf("%q and %q share the key %q", prev, in, tg.String())
		}
		seen[tg.String()] = in
	}
	a, _ := Parse("cache")
	b, _ := Parse("redis://cache:6379/0")
	if a.String() != b.String() {
		t.Errorf("same target, different keys: %q, %q", a.String(), b.String())
	}
}
