package modules

import (
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Collectors are declared by the prober (each registers its name and
// whether it is on by default), so that the config can validate a module's
// collectors: without knowing how they work.
var (
	collectorsMu sync.RWMutex
	collectorOn  = map[string]bool{} // name -> on by default
)

// RegisterCollector declares a collector the modules may turn on or off.
func RegisterCollector(name string, defaultOn bool) {
	collectorsMu.Lock()
	defer collectorsMu.Unlock()
	collectorOn[name] = defaultOn
}

// CollectorNames lists the declared collectors, sorted.
func CollectorNames() []string {
	collectorsMu.RLock()
	defer collectorsMu.RUnlock()
	names := make([]string, 0, len(collectorOn))
	for n := range collectorOn {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CollectorEnabled reports whether the module runs the named collector: its
// collectors: entry when it has one, else the collector's default.
func (m *Module) CollectorEnabled(name string) bool {
	if on, ok := m.Collectors[name]; ok {
		return on
	}
	collectorsMu.RLock()
	defer collectorsMu.RUnlock()
	return collectorOn[name]
}

func knownCollector(name string) bool {
	return slices.Contains(CollectorNames(), name)
}

// secretParameters are CONFIG parameters whose values are never exported.
var secretParameters = []string{"requirepass", "masterauth", "masteruser", "tls-key-file-pass", "tls-client-key-file-pass"}

// IsSecretParameter reports whether a CONFIG parameter, or a glob that may
// match one, names a secret.
func IsSecretParameter(param string) bool {
	for _, s := range secretParameters {
		if ok, _ := path.Match(param, s); ok || strings.Contains(strings.ToLower(param), "pass") {
			return true
		}
	}
	return false
}
