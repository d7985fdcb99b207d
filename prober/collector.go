package prober

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/info"
	"github.com/redis-probe/redis_probe_exporter/modules"
)

// A collector turns the replies to its fixed Redis commands into metrics.
// Each lives in its own file and registers itself in init. When one of its
// commands fails (an old Redis, a renamed or forbidden command) it emits
// nothing, and probe_collector_success says so; the rest of the probe
// stands.
type collector struct {
	name      string
	defaultOn bool    // whether a module without a collectors: entry for it runs it
	commands  [][]any // fixed commands; identical ones are sent once per probe
	// moduleCommands adds commands that depend on the module, if set.
	moduleCommands func(m *modules.Module) [][]any
	families       []*family
	collect        func(r *replies, e *emitter) error
}

var collectors []*collector

func register(c *collector) {
	collectors = append(collectors, c)
	sort.Slice(collectors, func(i, j int) bool { return collectors[i].name < collectors[j].name })
	modules.RegisterCollector(c.name, c.defaultOn)
}

// replies holds the answers to one probe's pipelined commands.
type replies struct {
	ctx    context.Context
	client *redis.Client
	module *modules.Module
	cmds   map[string]*redis.Cmd
	info   []info.Field
	parsed bool
}

// commandKey is a command as text, "CONFIG GET maxmemory": the key its reply
// is filed under.
func commandKey(args []any) string { return strings.TrimSuffix(fmt.Sprintln(args...), "\n") }

// reply is the answer to a command the collector declared.
func (r *replies) reply(args ...any) *redis.Cmd { return r.cmds[commandKey(args)] }

// followUp sends commands that depend on the fixed commands' answers (say,
// per Sentinel master), pipelined in one more round trip within the
// probe's deadline. Each command keeps its own error.
func (r *replies) followUp(cmds [][]any) []*redis.Cmd {
	pipe := r.client.Pipeline()
	out := make([]*redis.Cmd, len(cmds))
	for i, args := range cmds {
		out[i] = pipe.Do(r.ctx, args...)
	}
	_, _ = pipe.Exec(r.ctx)
	return out
}

// failed returns the first error among the replies to cmds.
func (r *replies) failed(cmds [][]any) error {
	for _, args := range cmds {
		if err := r.reply(args...).Err(); err != nil {
			return fmt.Errorf("%s: %w", commandKey(args), err)
		}
	}
	return nil
}

// infoFields is the parsed INFO ALL reply, parsed once for all collectors.
func (r *replies) infoFields() ([]info.Field, error) {
	if !r.parsed {
		text, err := r.reply(infoAll...).Text()
		if err != nil {
			return nil, fmt.Errorf("INFO ALL: %w", err)
		}
		r.info, r.parsed = info.Parse(text), true
	}
	return r.info, nil
}

var infoAll = []any{"INFO", "ALL"}

// plan is what a module's probe does: the collectors whose families its
// filter keeps, their commands, and the kept families. It is worked out once
// per module and config.
type plan struct {
	steps    []step
	commands [][]any // every step's commands, each once
	keep     []bool  // by family id
	keyRules []*keyRule
	scripts  []*scriptRule
}

// step is a collector and the commands it needs in this module.
type step struct {
	c        *collector
	commands [][]any
}

var plans sync.Map // *modules.Module -> *plan

func planFor(m *modules.Module) *plan {
	if p, ok := plans.Load(m); ok {
		return p.(*plan)
	}
	p := &plan{keep: make([]bool, len(families))}
	for _, f := range probeFamilies {
		p.keep[f.id] = true // never filtered
	}
	sent := map[string]bool{}
	for _, c := range collectors {
		if !m.CollectorEnabled(c.name) {
			continue
		}
		used := false
		for _, f := range c.families {
			if m.Metrics.Keeps(f.name) {
				p.keep[f.id], used = true, true
			}
		}
		if !used {
			continue
		}
		st := step{c: c, commands: c.commands}
		if c.moduleCommands != nil {
			st.commands = append(slices.Clip(st.commands), c.moduleCommands(m)...)
		}
		p.steps = append(p.steps, st)
		for _, cmd := range st.commands {
			if k := commandKey(cmd); !sent[k] {
				sent[k] = true
				p.commands = append(p.commands, cmd)
			}
		}
	}
	p.keep[collectorSuccess.id] = m.Metrics.Keeps(collectorSuccess.name)
	for i := range m.Keys {
		p.keyRules = append(p.keyRules, newKeyRule(&m.Keys[i]))
	}
	for i := range m.Scripts {
		p.scripts = append(p.scripts, newScriptRule(&m.Scripts[i]))
	}
	for _, f := range ruleFamilies {
		p.keep[f.id] = len(p.keyRules)+len(p.scripts) > 0 // the rules' own status
	}
	plans.Store(m, p)
	return p
}

// ForgetPlans drops the plans of a replaced config.
func ForgetPlans() { plans.Clear() }

// Probe-level families: never removed by a module's filter.
var (
	probeSuccess  = gauge("probe_success", "Whether the probe succeeded: 1 when Redis answered PING after connecting and authenticating.")
	probeDuration = gauge("probe_duration_seconds", "How long the probe took, in seconds.")
	redisUp       = gauge("redis_up", "Whether Redis answered PING after connecting and authenticating.")
	probeFamilies = []*family{probeSuccess, probeDuration, redisUp}

	collectorSuccess = gauge("probe_collector_success", "Whether the collector's Redis commands succeeded and their replies parsed.", "collector")
)
