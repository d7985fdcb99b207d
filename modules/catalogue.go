package modules

import (
	"fmt"
	"os"
	"sort"
)

// A Catalogue is what the config is checked against and compiled with:
// the collectors a module may turn on or off, the metric names a key or
// script rule may not take, and what each module is compiled into. The
// program that probes provides it (prober.Catalogue); modules knows no
// collector or metric of its own.
type Catalogue struct {
	// Collectors maps each collector's name to whether a module without a
	// collectors: entry for it runs it.
	Collectors map[string]bool
	// Reserved reports whether a metric name is one the exporter itself
	// emits, which no rule may take. Nil reserves none.
	Reserved func(name string) bool
	// Compile, if set, turns each module of a config that loaded and
	// validated into what a probe of it needs (Module.Plan). It runs once
	// per module and load, before the config is returned.
	Compile func(m *Module) any
}

// CollectorNames lists the catalogue's collectors, sorted.
func (cat Catalogue) CollectorNames() []string {
	names := make([]string, 0, len(cat.Collectors))
	for n := range cat.Collectors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (cat Catalogue) reserved(name string) bool {
	return cat.Reserved != nil && cat.Reserved(name)
}

// Load reads and validates the config file.
func (cat Catalogue) Load(file string) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return cat.Parse(data, file)
}

// Default returns the embedded config: module "default", any target, no
// credentials.
func (cat Catalogue) Default() *Config {
	c, err := cat.Parse(defaultYAML, "embedded default")
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return c
}

// compile gives each module of c its plan.
func (cat Catalogue) compile(c *Config) {
	if cat.Compile == nil {
		return
	}
	for _, name := range sortedKeys(c.Modules) {
		m := c.Modules[name]
		m.plan = cat.Compile(m)
	}
}

// CollectorEnabled reports whether the module runs the named collector: its
// collectors: entry when it has one, else the collector's default in the
// catalogue the module was loaded with.
func (m *Module) CollectorEnabled(name string) bool {
	if on, ok := m.Collectors[name]; ok {
		return on
	}
	return m.collectorOn[name]
}

// Plan is what the catalogue's Compile made of the module when its config
// loaded, or nil.
func (m *Module) Plan() any { return m.plan }
