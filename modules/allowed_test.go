package modules

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestAllowedTargets(t *testing.T) {
	var a AllowedTargets
	if err := yaml.Unmarshal([]byte(`["*.cache.internal", "redis-*.prod:6380", "10.0.0.0/8", "192.168.1.5:6379", "fd00::/8", "[::1]:7000", "/run/redis/*.sock"]`), &a); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host string
		port int
		want bool
	}{
		{"a.cache.internal", 6379, true},
		{"A.Cache.Internal", 1234, true},
		{"cache.internal", 6379, false},
		{"a.cache.internal.evil.com", 6379, false},
		{"redis-1.prod", 6380, true},
		{"redis-1.prod", 6379, false},
		{"10.20.30.40", 6379, true},
		{"11.0.0.1", 6379, false},
		{"192.168.1.5", 6379, true},
		{"192.168.1.5", 6380, false},
		{"fd12::1", 6379, true},
		{"::1", 7000, true},
		{"::1", 6379, false},
		{"/run/redis/main.sock", 0, true},
		{"/tmp/main.sock", 0, false},
		{"ten.internal", 6379, false},       // names are never resolved for CIDRs
		{"a.b.cache.internal", 6379, false}, // "*" stays within one label
		{"a.cache.internal.", 6379, true},   // a fully qualified name
		{"redis-1.prod.attacker.example", 6380, false},
		{"::1%x.cache.internal", 7000, false}, // a zone posing as a name
		{"::1%lo", 7000, false},
		{"/run/redis/../secret.sock", 0, false},
	} {
		if got := a.Allows(tc.host, tc.port); got != tc.want {
			t.Errorf("Allows(%s, %d) = %v, want %v", tc.host, tc.port, got, tc.want)
		}
	}
	if !(AllowedTargets{}).Allows("anything", 1) {
		t.Error("an empty list must allow every target")
	}
	out, err := yaml.Marshal(a)
	if err != nil || string(out) != "- '*.cache.internal'\n- redis-*.prod:6380\n- 10.0.0.0/8\n- 192.168.1.5:6379\n- fd00::/8\n- '[::1]:7000'\n- /run/redis/*.sock\n" {
		t.Errorf("marshal: %v\n%s", err, out)
	}
}

func TestAllowedTargetsRefusesIPGlobs(t *testing.T) {
	for _, entry := range []string{"10.0.0.*", "10.0.*.*:6379", "192.168.1.?"} {
		var a AllowedTargets
		err := yaml.Unmarshal([]byte(`["`+entry+`"]`), &a)
		if err == nil || !strings.Contains(err.Error(), "CIDR") {
			t.Errorf("%s: %v, want an error pointing to CIDRs", entry, err)
		}
	}
}
