package prober

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

// The config collector reads settings with CONFIG GET: a fixed few that
// capacity alerts need, and the module's config_parameters. Secrets
// (requirepass, masterauth, TLS passphrases) are never exported, even when a
// glob would match them.
var (
	configMaxmemory     = gauge("redis_config_maxmemory_bytes", "The maxmemory setting, in bytes; 0 means no limit.").Was("redis_config_maxmemory")
	configMaxclients    = gauge("redis_config_maxclients", "The maxclients setting: the most client connections Redis accepts.")
	configIOThreads     = gauge("redis_config_io_threads", "The io-threads setting: threads for network I/O, the main thread included.")
	configBacklog       = gauge("redis_config_repl_backlog_size_bytes", "The repl-backlog-size setting, in bytes.")
	configOutputLimit   = gauge("redis_config_client_output_buffer_limit_bytes", "The client-output-buffer-limit setting per client class: the hard or soft limit in bytes; 0 means none.", "class", "limit")
	configOutputOvercom = gauge("redis_config_client_output_buffer_limit_overcome_seconds", "The client-output-buffer-limit setting per client class: seconds a client may stay over the soft limit.", "class")
	configInfo          = gauge("redis_config_info", "Always 1; a setting with a textual value, such as maxmemory-policy, as labels.", "parameter", "value")
	configValue         = gauge("redis_config_value", "A numeric setting chosen by the module's config_parameters, as Redis reports it.", "parameter")
)

// configFixed are the parameters read for every module running the
// collector, with the family each numeric one feeds.
var configFixed = map[string]*exposition.Family{
	"maxmemory":                  configMaxmemory,
	"maxclients":                 configMaxclients,
	"io-threads":                 configIOThreads,
	"repl-backlog-size":          configBacklog,
	"client-output-buffer-limit": nil,
	"maxmemory-policy":           nil,
}

// configFixedNames is sorted, and clipped so that appending to it copies.
var configFixedNames = slices.Clip(slices.Sorted(maps.Keys(configFixed)))

func init() {
	register(&collector{
		name:      "config",
		defaultOn: true,
		slow:      true,
		moduleCommands: func(m *modules.Module) [][]any {
			var cmds [][]any
			for _, p := range configFixedNames {
				cmds = append(cmds, []any{"CONFIG", "GET", p})
			}
			for _, p := range m.ConfigParameters {
				cmds = append(cmds, []any{"CONFIG", "GET", p})
			}
			return cmds
		},
		families: []*exposition.Family{configMaxmemory, configMaxclients, configIOThreads, configBacklog, configOutputLimit, configOutputOvercom, configInfo, configValue},
		collect: func(r *replies, e *exposition.Emitter) error {
			seen := map[string]bool{}
			for _, p := range append(configFixedNames, r.module.ConfigParameters...) {
				kv, err := r.reply("CONFIG", "GET", p).Slice()
				if err != nil {
					return err
				}
				for i := 0; i+1 < len(kv); i += 2 {
					name, _ := kv[i].(string)
					value, _ := kv[i+1].(string)
					if seen[name] || modules.IsSecretParameter(name) {
						continue
					}
					seen[name] = true
					if err := emitConfig(e, name, value); err != nil {
						return err
					}
				}
			}
			return nil
		},
	})
}

func emitConfig(e *exposition.Emitter, name, value string) error {
	f, fixed := configFixed[name]
	switch {
	case name == "client-output-buffer-limit":
		// "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
		fs := strings.Fields(value)
		if len(fs)%4 != 0 {
			return fmt.Errorf("CONFIG GET client-output-buffer-limit: unexpected %q", value)
		}
		for i := 0; i < len(fs); i += 4 {
			hard, err1 := strconv.ParseFloat(fs[i+1], 64)
			soft, err2 := strconv.ParseFloat(fs[i+2], 64)
			secs, err3 := strconv.ParseFloat(fs[i+3], 64)
			if err1 != nil || err2 != nil || err3 != nil {
				return fmt.Errorf("CONFIG GET client-output-buffer-limit: unexpected %q", value)
			}
			e.Emit(configOutputLimit, hard, fs[i], "hard")
			e.Emit(configOutputLimit, soft, fs[i], "soft")
			e.Emit(configOutputOvercom, secs, fs[i])
		}
	case fixed && f != nil:
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("CONFIG GET %s: %q is not a number", name, value)
		}
		e.Emit(f, v)
	default:
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			e.Emit(configValue, v, name)
		} else {
			e.Emit(configInfo, 1, name, value)
		}
	}
	return nil
}
