package prober

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
)

// The slowlog_commands collector breaks the newest 128 entries of the slow
// log (Redis's default slowlog-max-len) down by command: how many there are
// and the longest of them, as Datadog's redisdb check does. It is off
// unless a module turns it on: on a busy Redis, SLOWLOG GET 128 on every
// probe costs Redis more than the rest of the probe but INFO.
var (
	slowlogCmdEntries = gauge("redis_slowlog_command_entries", "Entries of the command among the newest 128 in the slow log. cmd is named as in redis_commands_total (config|get); past the 64 commands with the most entries, and for a name not made of [a-z0-9_|.-], it is \"other\".", "cmd")
	slowlogCmdMaxDur  = gauge("redis_slowlog_command_max_duration_seconds", "Longest execution time of the command's entries among the newest 128 in the slow log, in seconds; cmd as in redis_slowlog_command_entries.", "cmd")
)

var slowlogGet = []any{"SLOWLOG", "GET", "128"}

const (
	slowlogMaxCommands = 64      // named cmd values per probe; the rest are "other"
	slowlogMaxName     = 64      // bytes of a cmd value
	slowlogOther       = "other" // the cmd of what is folded
)

// slowlogContainers are the commands whose slow log entries are named with
// their subcommand, as INFO commandstats names them from Redis 7
// (cmdstat_config|get): Redis 7.0's container commands, and Sentinel's.
var slowlogContainers = map[string]bool{
	"acl": true, "client": true, "cluster": true, "command": true, "config": true,
	"function": true, "latency": true, "memory": true, "module": true, "object": true,
	"pubsub": true, "script": true, "sentinel": true, "slowlog": true, "xgroup": true,
	"xinfo": true,
}

func init() {
	register(&collector{
		name:     "slowlog_commands",
		commands: [][]any{slowlogGet},
		families: []*exposition.Family{slowlogCmdEntries, slowlogCmdMaxDur},
		collect: func(r *replies, e *exposition.Emitter) error {
			reply, err := r.reply(slowlogGet...).Slice()
			if err != nil {
				return err
			}
			entries, err := parseSlowlog(reply)
			if err != nil {
				return fmt.Errorf("SLOWLOG GET: %w", err)
			}
			for _, s := range slowlogByCommand(entries) {
				e.Emit(slowlogCmdEntries, float64(s.entries), s.cmd)
				e.Emit(slowlogCmdMaxDur, float64(s.maxUsec)/1e6, s.cmd)
			}
			return nil
		},
	})
}

// slowEntry is what the collector reads of a slow log entry.
type slowEntry struct {
	usec int64
	cmd  string // its cmd label
}

// parseSlowlog reads SLOWLOG GET's reply, newest entry first (see
// slowlogEntry); an entry without its arguments is an error.
func parseSlowlog(reply []any) ([]slowEntry, error) {
	out := make([]slowEntry, 0, len(reply))
	for i, v := range reply {
		fs, _, _, usec, err := slowlogEntry(v)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		var args any
		if len(fs) > 3 {
			args = fs[3]
		}
		cmd, err := slowlogCommand(args)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		out = append(out, slowEntry{usec: usec, cmd: cmd})
	}
	return out, nil
}

// slowlogCommand names an entry's command from its arguments: the first
// lowercased, with "|" and the second for a container command. Redis may
// truncate the arguments ("... (N more arguments)") and long ones ("... (N
// more bytes)"); a name that is not made of [a-z0-9_|.-] or is longer than
// slowlogMaxName is "other".
func slowlogCommand(v any) (string, error) {
	args, _ := v.([]any)
	if len(args) == 0 {
		return "", fmt.Errorf("arguments not a non-empty array")
	}
	name, ok := args[0].(string)
	if !ok {
		return "", fmt.Errorf("command name not a string")
	}
	if len(name) > slowlogMaxName {
		return slowlogOther, nil
	}
	name = lowerASCII(name)
	if slowlogContainers[name] && len(args) > 1 {
		sub, ok := args[1].(string)
		if !ok {
			return "", fmt.Errorf("subcommand not a string")
		}
		if len(name)+1+len(sub) > slowlogMaxName {
			return slowlogOther, nil
		}
		name += "|" + lowerASCII(sub)
	}
	if !plainCommand(name) {
		return slowlogOther, nil
	}
	return name, nil
}

// lowerASCII lowercases ASCII letters alone, as Redis matches command
// names; other bytes stay, and make the name "other".
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// plainCommand is whether name is a cmd value used as it is.
func plainCommand(name string) bool {
	if name == "" || len(name) > slowlogMaxName {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '|' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// slowCommand is one cmd's entries and the longest of them.
type slowCommand struct {
	cmd     string
	entries int
	maxUsec int64
}

// slowlogByCommand sums the entries per cmd, sorted by cmd. Past the
// slowlogMaxCommands with the most entries (ties to the name first in
// order), commands are folded into "other".
func slowlogByCommand(entries []slowEntry) []slowCommand {
	by := map[string]*slowCommand{}
	var out []slowCommand
	for _, en := range entries {
		s := by[en.cmd]
		if s == nil {
			s = &slowCommand{cmd: en.cmd, maxUsec: en.usec}
			by[en.cmd] = s
		}
		s.entries++
		s.maxUsec = max(s.maxUsec, en.usec)
	}
	for _, s := range by {
		out = append(out, *s)
	}
	named := slices.DeleteFunc(slices.Clone(out), func(s slowCommand) bool { return s.cmd == slowlogOther })
	if len(named) > slowlogMaxCommands {
		slices.SortFunc(named, func(a, b slowCommand) int {
			return cmp.Or(cmp.Compare(b.entries, a.entries), cmp.Compare(a.cmd, b.cmd))
		})
		other, folded := by[slowlogOther], named[slowlogMaxCommands:]
		if other == nil {
			other = &slowCommand{cmd: slowlogOther, maxUsec: folded[0].maxUsec}
		}
		for _, s := range folded {
			other.entries += s.entries
			other.maxUsec = max(other.maxUsec, s.maxUsec)
		}
		out = append(named[:slowlogMaxCommands], *other)
	}
	slices.SortFunc(out, func(a, b slowCommand) int { return cmp.Compare(a.cmd, b.cmd) })
	return out
}
