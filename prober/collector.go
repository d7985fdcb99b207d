package prober

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
	"github.com/redis-probe/redis_probe_exporter/internal/info"
	"github.com/redis-probe/redis_probe_exporter/internal/rules"
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
	// slow says the answers to its commands rarely change: a probe reuses
	// them for the module's refresh_interval (see cached).
	slow bool
	// moduleCommands adds commands that depend on the module, if set.
	moduleCommands func(m *modules.Module) [][]any
	families       []*exposition.Family
	collect        func(r *replies, e *exposition.Emitter) error
}

var collectors []*collector

func register(c *collector) {
	collectors = append(collectors, c)
	sort.Slice(collectors, func(i, j int) bool { return collectors[i].name < collectors[j].name })
}

// replies holds the answers to one probe's pipelined commands.
type replies struct {
	ctx      context.Context
	client   *redis.Client
	module   *modules.Module
	cmds     map[string]*redis.Cmd
	info     []info.Field
	parsed   bool
	kept     *[]info.Field // info's memory, from fieldsPool
	cmdstats map[string]string
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

// commandStats maps each command to its INFO commandstats value
// ("calls=3,usec=16,…"), built once for the collectors that need it.
func (r *replies) commandStats() (map[string]string, error) {
	if r.cmdstats == nil {
		fields, err := r.infoFields()
		if err != nil {
			return nil, err
		}
		r.cmdstats = map[string]string{}
		for _, f := range fields {
			if cmd, ok := strings.CutPrefix(f.Key, "cmdstat_"); ok {
				r.cmdstats[cmd] = f.Value
			}
		}
	}
	return r.cmdstats, nil
}

// failed returns the first error among the replies to the commands keyed
// keys.
func (r *replies) failed(keys []string) error {
	for _, k := range keys {
		if err := r.cmds[k].Err(); err != nil {
			return fmt.Errorf("%s: %w", k, err)
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
		r.kept, _ = fieldsPool.Get().(*[]info.Field)
		if r.kept == nil {
			r.kept = new([]info.Field)
		}
		r.info, r.parsed = info.AppendFields((*r.kept)[:0], text), true
	}
	return r.info, nil
}

// fieldsPool keeps the slices INFO ALL was parsed into between probes: the
// largest allocation of a probe otherwise.
var fieldsPool sync.Pool

// release gives the parsed INFO's memory to the next probe, emptied so as
// to keep none of this one's replies alive. r is not used after.
func (r *replies) release() {
	if r.kept != nil {
		clear(r.info)
		*r.kept = r.info[:0]
		fieldsPool.Put(r.kept)
		r.kept, r.info = nil, nil
	}
}

var (
	infoAll    = []any{"INFO", "ALL"}
	infoAllKey = commandKey(infoAll) // made once: probes look it up often
)

// plan is what a module's probe does: the collectors whose families its
// filter keeps, their commands, and the kept families. It is compiled once
// per module when its config loads (Catalogue).
type plan struct {
	steps    []step
	commands [][]any  // every step's commands, each once
	keys     []string // commandKey of each of commands
	slow     []bool   // whether each of commands is only slow collectors'
	info     bool     // whether INFO ALL is among commands: its run_id and loading are known
	reuses   bool     // whether a probe may reuse anything of an earlier one (reuse.go)
	keep     *exposition.Selection
	rules    *rules.Rules // the module's key and script rules
}

// step is a collector and the commands it needs in this module, by key.
type step struct {
	c    *collector
	keys []string
}

// Catalogue is what a config is checked against and compiled with: the
// collectors with their defaults, the names of the declared families (which
// no key or script rule may take), and each module's plan, made at load
// and kept with the module in its config snapshot.
func Catalogue() modules.Catalogue {
	on := make(map[string]bool, len(collectors))
	for _, c := range collectors {
		on[c.name] = c.defaultOn
	}
	return modules.Catalogue{
		Collectors: on,
		Reserved:   declared.Reserved,
		Compile:    func(m *modules.Module) any { return compile(m) },
	}
}

// planFor is the plan compiled when m's config loaded; one loaded without
// Catalogue's Compile gets a plan made for this probe alone.
func planFor(m *modules.Module) *plan {
	if p, ok := m.Plan().(*plan); ok {
		return p
	}
	return compile(m)
}

// compile works out m's plan.
func compile(m *modules.Module) *plan {
	p := &plan{keep: declared.Select()}
	for _, f := range probeFamilies {
		p.keep.Keep(f, true) // never filtered
	}
	sent := map[string]int{} // command key -> index in p.commands
	// send adds cmd to the round trip once and returns its key. A command
	// is slow (its answer reused between probes) only if all that send it
	// are.
	send := func(cmd []any, slow bool) string {
		k := commandKey(cmd)
		if i, ok := sent[k]; ok {
			p.slow[i] = p.slow[i] && slow
		} else {
			sent[k] = len(p.commands)
			p.commands, p.keys, p.slow = append(p.commands, cmd), append(p.keys, k), append(p.slow, slow)
		}
		return k
	}
	for _, c := range collectors {
		if !m.CollectorEnabled(c.name) {
			continue
		}
		used := false
		for _, f := range c.families {
			if m.Metrics.Keeps(f.Name()) {
				p.keep.Keep(f, true)
				used = true
			}
		}
		if !used {
			continue
		}
		cmds := c.commands
		if c.moduleCommands != nil {
			cmds = append(slices.Clip(cmds), c.moduleCommands(m)...)
		}
		st := step{c: c}
		for _, cmd := range cmds {
			st.keys = append(st.keys, send(cmd, c.slow))
		}
		p.steps = append(p.steps, st)
	}
	// Assertions read INFO ALL (and CLUSTER INFO); rules need INFO ALL for
	// the node's role (run_on), whether it is a Cluster node (keys other
	// nodes serve), its run_id (reuse) and loading (skipping).
	extra := assertionCommands(m.Expect)
	if len(m.Keys)+len(m.Scripts) > 0 {
		extra = append(extra, infoAll)
	}
	for _, cmd := range extra {
		send(cmd, false)
	}
	p.keep.Keep(assertionSuccess, m.Expect != nil) // never filtered
	_, p.info = sent[infoAllKey]
	p.reuses = p.info && m.Refresh() > 0 && slices.Contains(p.slow, true)
	for _, k := range m.Keys {
		p.reuses = p.reuses || k.RefreshInterval > 0
	}
	for _, s := range m.Scripts {
		p.reuses = p.reuses || s.RefreshInterval > 0
	}
	p.keep.Keep(collectorSuccess, m.Metrics.Keeps(collectorSuccess.Name()))
	p.rules = ruleStatus.Compile(m.Keys, m.Scripts)
	for _, f := range ruleFamilies {
		p.keep.Keep(f, p.rules.Len() > 0) // the rules' own status
	}
	return p
}

// Probe-level families: never removed by a module's filter.
var (
	probeSuccess  = gauge("probe_success", "Whether the probe succeeded: 1 when Redis answered PING after connecting and authenticating, is not loading its dataset, and every expect: assertion of the module held.")
	probeDuration = gauge("probe_duration_seconds", "How long the probe took, in seconds.")
	redisUp       = gauge("redis_up", "Whether Redis answered PING after connecting and authenticating: PONG, or the LOADING error of a Redis loading its dataset.")
	probeFamilies = []*exposition.Family{probeSuccess, probeDuration, redisUp}

	collectorSuccess = gauge("probe_collector_success", "Whether the collector's Redis commands succeeded and their replies parsed.", "collector")
)
