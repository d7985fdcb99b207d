package prober

import (
	"net/http"

	"go.yaml.in/yaml/v3"

	"github.com/redis-probe/redis_probe_exporter/modules"
)

// ReloadHandler answers POST /-/reload: 200 once the new config is in
// force, 500 with the reason when it failed to load and the old one stays.
func ReloadHandler(config *modules.Holder) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "reload takes POST", http.StatusMethodNotAllowed)
			return
		}
		if err := config.Reload(); err != nil {
			http.Error(w, "failed to reload config: "+err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("config reloaded\n"))
	}
}

// ConfigHandler answers GET /config with the config in force as YAML,
// every secret shown as <secret>.
func ConfigHandler(config *modules.Holder) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		out, err := yaml.Marshal(config.Config())
		if err != nil {
			http.Error(w, "marshalling config: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(out)
	}
}
