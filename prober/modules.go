package prober

import (
	"fmt"
	"strconv"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
)

// The modules collector lists the loaded Redis modules (MODULE LIST).
var moduleInfo = gauge("redis_module_info", "Always 1 per loaded module; its name and version as labels.", "name", "ver")

var moduleList = []any{"MODULE", "LIST"}

func init() {
	register(&collector{
		name:      "modules",
		defaultOn: true,
		commands:  [][]any{moduleList},
		slow:      true,
		families:  []*exposition.Family{moduleInfo},
		collect: func(r *replies, e *exposition.Emitter) error {
			mods, err := r.reply(moduleList...).Slice()
			if err != nil {
				return err
			}
			for _, m := range mods {
				// [name, NAME, ver, N, path, P, args, [...]]
				fs, ok := m.([]any)
				if !ok {
					return fmt.Errorf("MODULE LIST: unexpected entry %v", m)
				}
				var name, ver string
				for i := 0; i+1 < len(fs); i += 2 {
					switch fs[i] {
					case "name":
						name = fmt.Sprint(fs[i+1])
					case "ver":
						if n, ok := fs[i+1].(int64); ok {
							ver = strconv.FormatInt(n, 10)
						}
					}
				}
				e.Emit(moduleInfo, 1, name, ver)
			}
			return nil
		},
	})
}
