package modules

import (
	"strings"
	"testing"
)

// testCatalogue stands for the prober's: two collectors, one on by
// default, and the exporter's own metric redis_up.
var testCatalogue = Catalogue{
	Collectors: map[string]bool{"info": true, "clients": false},
	Reserved:   func(name string) bool { return name == "redis_up" },
}

// A module's collectors are checked against the catalogue it is loaded
// with, and run by their default there unless the module says otherwise;
// Compile gives each module its plan.
func TestCatalogue(t *testing.T) {
	const cfg = "modules:\n  m:\n    collectors: {clients: true}\n    keys:\n      - {metric: redis_up, key: k}\n"
	if _, err := testCatalogue.Parse([]byte(cfg), "c.yml"); err == nil || !strings.Contains(err.Error(), `c.yml:5: modules.m.keys[0].metric: "redis_up" is a metric the exporter already exports`) {
		t.Errorf("a reserved name was not refused: %v", err)
	}
	if _, err := (Catalogue{}).Parse([]byte(cfg), "c.yml"); err == nil || !strings.Contains(err.Error(), `c.yml:3: modules.m.collectors.clients: unknown collector "clients": known are `) {
		t.Errorf("an empty catalogue accepted a collector: %v", err)
	}
	cat := testCatalogue
	cat.Compile = func(m *Module) any { return m.Timeout }
	c, err := cat.Parse([]byte("modules:\n  m:\n    timeout: 2s\n    collectors: {info: false, clients: true}\n  d: {}\n"), "c.yml")
	if err != nil {
		t.Fatal(err)
	}
	m, d := c.Modules["m"], c.Modules["d"]
	if m.CollectorEnabled("info") || !m.CollectorEnabled("clients") || !d.CollectorEnabled("info") || d.CollectorEnabled("clients") || d.CollectorEnabled("nope") {
		t.Error("CollectorEnabled does not follow the module, then the catalogue")
	}
	if m.Plan() != m.Timeout || d.Plan() != Duration(DefaultTimeout) {
		t.Errorf("plans = %v, %v", m.Plan(), d.Plan())
	}
}
