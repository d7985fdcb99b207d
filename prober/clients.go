package prober

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis-probe/redis_probe_exporter/internal/clientlist"
	"github.com/redis-probe/redis_probe_exporter/internal/exposition"
)

// The clients collector reports CLIENT LIST: connections by name, user and
// flags, the largest buffers and the longest idle time, and, when the
// module's client_series allows, per-client series for the most idle
// clients. CLIENT LIST costs Redis time in proportion to its clients, so the
// collector is off unless a module turns it on. The probe's own connection
// is one of the clients it counts.
var (
	clientConnections  = gauge("redis_client_connections", "Client connections, by client name, ACL user and flags as CLIENT LIST prints them (N none, S replica, M master, P pub/sub, x in MULTI, b blocked, …).", "name", "user", "flags")
	clientMaxQueryBuf  = gauge("redis_client_max_query_buffer_bytes", "Largest query buffer of any connected client (qbuf in CLIENT LIST), in bytes.")
	clientMaxOutputBuf = gauge("redis_client_max_output_buffer_bytes", "Largest output list memory of any connected client (omem in CLIENT LIST), in bytes.")
	clientMaxTotalMem  = gauge("redis_client_max_total_memory_bytes", "Largest memory any connected client uses, its buffers included (tot-mem in CLIENT LIST), in bytes.")
	clientOldestIdle   = gauge("redis_client_oldest_idle_seconds", "Longest time any connected client has gone without sending a command, in seconds.")
	clientOldestAge    = gauge("redis_client_oldest_age_seconds", "Time since the oldest client connection opened, in seconds.")

	clientIdle      = gauge("redis_client_idle_seconds", "Seconds since the client last sent a command; only for the most idle clients, as many as the module's client_series.", "id", "addr", "name", "user")
	clientAge       = gauge("redis_client_age_seconds", "Seconds since the client connected; only for the most idle clients, as many as the module's client_series.", "id", "addr", "name", "user")
	clientTotalMem  = gauge("redis_client_total_memory_bytes", "Memory the client uses, its buffers included (tot-mem in CLIENT LIST), in bytes; only for the most idle clients, as many as the module's client_series.", "id", "addr", "name", "user")
	clientTruncated = gauge("redis_client_series_truncated", "Whether more clients were connected than the module's client_series lets have per-client series (1) or not (0).")
)

var clientList = []any{"CLIENT", "LIST"}

func init() {
	register(&collector{
		name:     "clients",
		commands: [][]any{clientList},
		families: []*exposition.Family{
			clientConnections, clientMaxQueryBuf, clientMaxOutputBuf, clientMaxTotalMem, clientOldestIdle, clientOldestAge,
			clientIdle, clientAge, clientTotalMem, clientTruncated,
		},
		collect: func(r *replies, e *exposition.Emitter) error {
			text, err := r.reply(clientList...).Text()
			if err != nil {
				return fmt.Errorf("CLIENT LIST: %w", err)
			}
			clients, err := clientlist.Parse(text)
			if err != nil {
				return err
			}
			emitClients(clients, r.module.ClientSeries, e)
			return nil
		},
	})
}

// emitClients emits the aggregates over clients and, when limit > 0, the
// per-client series of the limit most idle clients.
func emitClients(clients []clientlist.Client, limit int, e *exposition.Emitter) {
	type group struct{ name, user, flags string }
	counts := map[group]int{}
	for i := range clients {
		c := &clients[i]
		counts[group{c.Name, c.User, c.Flags}]++
	}
	groups := make([]group, 0, len(counts))
	for g := range counts {
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b group) int {
		return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.user, b.user), strings.Compare(a.flags, b.flags))
	})
	for _, g := range groups {
		e.Emit(clientConnections, float64(counts[g]), g.name, g.user, g.flags)
	}

	// A maximum is emitted only when some client had the field: an older
	// Redis without tot-mem reports no max total memory rather than 0.
	for _, m := range []struct {
		f     *exposition.Family
		field string
		value func(*clientlist.Client) int64
	}{
		{clientMaxQueryBuf, "qbuf", func(c *clientlist.Client) int64 { return c.QueryBuf }},
		{clientMaxOutputBuf, "omem", func(c *clientlist.Client) int64 { return c.OutputMem }},
		{clientMaxTotalMem, "tot-mem", func(c *clientlist.Client) int64 { return c.TotalMem }},
		{clientOldestIdle, "idle", func(c *clientlist.Client) int64 { return c.Idle }},
		{clientOldestAge, "age", func(c *clientlist.Client) int64 { return c.Age }},
	} {
		var top int64
		seen := false
		for i := range clients {
			if c := &clients[i]; c.Has(m.field) {
				if v := m.value(c); !seen || v > top {
					top = v
				}
				seen = true
			}
		}
		if seen {
			e.Emit(m.f, float64(top))
		}
	}

	if limit <= 0 {
		return
	}
	byIdle := make([]*clientlist.Client, len(clients))
	for i := range clients {
		byIdle[i] = &clients[i]
	}
	slices.SortFunc(byIdle, func(a, b *clientlist.Client) int {
		return cmp.Or(cmp.Compare(b.Idle, a.Idle), cmp.Compare(a.ID, b.ID))
	})
	truncated := len(byIdle) > limit
	if truncated {
		byIdle = byIdle[:limit]
	}
	for _, c := range byIdle {
		id := strconv.FormatUint(c.ID, 10)
		e.Emit(clientIdle, float64(c.Idle), id, c.Addr, c.Name, c.User)
		e.Emit(clientAge, float64(c.Age), id, c.Addr, c.Name, c.User)
		if c.Has("tot-mem") {
			e.Emit(clientTotalMem, float64(c.TotalMem), id, c.Addr, c.Name, c.User)
		}
	}
	e.Emit(clientTruncated, boolValue(truncated))
}
