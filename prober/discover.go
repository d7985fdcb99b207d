package prober

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/clusternodes"
	"github.com/redis-probe/redis_probe_exporter/internal/target"
)

// targetGroup is one entry of Prometheus's http_sd JSON.
type targetGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// ServeDiscoverCluster answers /discover/cluster?target=T&auth=A&module=M:
// every node of the Redis Cluster that T belongs to, as http_sd JSON.
func (h *Handler) ServeDiscoverCluster(w http.ResponseWriter, r *http.Request) {
	h.discover(w, r, discoverCluster)
}

// ServeDiscoverSentinel answers /discover/sentinel?target=T&auth=A&module=M:
// the masters and replicas that the Sentinel T monitors, as http_sd JSON.
func (h *Handler) ServeDiscoverSentinel(w http.ResponseWriter, r *http.Request) {
	h.discover(w, r, discoverSentinel)
}

// maxDiscoverSeeds bounds the target= parameters of one discovery request.
const maxDiscoverSeeds = 16

// discover asks the seed targets with find, in the order given, and answers
// the target groups of the first that answers, each labelled with the
// module and auth its probes should use: target_module= and target_auth=
// when given, else the seeds' own. Every seed passes the checks of a probe
// target (resolve) before any is asked. When no seed answers, the answer is
// 502 with each seed's reason, on one line.
func (h *Handler) discover(w http.ResponseWriter, r *http.Request, find func(context.Context, *redis.Client) ([]targetGroup, error)) {
	req, ok := h.resolve(w, r)
	if !ok {
		return
	}
	q := req.query
	seeds, ok := h.discoverSeeds(w, req)
	if !ok {
		return
	}
	labels := map[string]string{"module": req.moduleName}
	if m := q.Get("target_module"); m != "" {
		labels["module"] = m
	}
	if a := q.Get("target_auth"); a != "" {
		labels["auth"] = a
	} else if req.authName != "" {
		labels["auth"] = req.authName
	}

	ctx, cancel := context.WithTimeout(r.Context(), h.timeout(r, req.module))
	defer cancel()
	var groups []targetGroup
	var answered *request
	var failures []string
	for i, seed := range seeds {
		// Each seed gets an equal share of the time left, so that one that
		// never answers leaves time for the next; the last gets all of it.
		seedCtx, seedCancel := ctx, context.CancelFunc(func() {})
		if deadline, ok := ctx.Deadline(); ok && i < len(seeds)-1 {
			seedCtx, seedCancel = context.WithTimeout(ctx, time.Until(deadline)/time.Duration(len(seeds)-i))
		}
		client, release := h.client(seed)
		g, err := find(seedCtx, client)
		release()
		seedCancel()
		if err == nil {
			groups, answered = g, &seeds[i]
			break
		}
		msg := strings.NewReplacer("\r", " ", "\n", " ").Replace(safeText(err.Error(), seed.secrets()))
		failures = append(failures, fmt.Sprintf("discovering from %s: %s", seed.target.Addr(), msg))
	}
	if answered == nil {
		http.Error(w, strings.Join(failures, "; "), http.StatusBadGateway)
		return
	}
	allowed := h.probeAllows(labels["module"], labels["auth"])
	for i := range groups {
		for k, v := range labels {
			groups[i].Labels[k] = v
		}
		// A node found by an announced hostname that the probes' module or
		// auth would refuse (allowed_targets by CIDR, say) is its IP again.
		if ip := groups[i].Labels[nodeIPLabel]; ip != "" {
			host, port, _ := net.SplitHostPort(groups[i].Targets[0])
			if !allowed(host, port) && allowed(ip, port) {
				groups[i].Targets[0] = net.JoinHostPort(ip, port)
			}
		}
		if answered.target.TLS {
			for j, t := range groups[i].Targets {
				groups[i].Targets[j] = "rediss://" + t
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(groups)
}

// probeAllows reports whether probes with the named module and auth may
// reach host:port (both allowed_targets); a module or auth the config does
// not have allows everything here, as the probe will refuse it anyway.
func (h *Handler) probeAllows(module, auth string) func(host, port string) bool {
	cfg := h.config.Config()
	m, a := cfg.Modules[module], cfg.Auths[auth]
	return func(host, port string) bool {
		p, _ := strconv.Atoi(port)
		return (m == nil || m.AllowedTargets.Allows(host, p)) && (a == nil || a.AllowedTargets.Allows(host, p))
	}
}

// discoverSeeds are the distinct seeds of target=, in order, starting with
// first (resolved already), each checked as a probe target is (parsed,
// then forTarget: allowed by the module's and the auth's allowed_targets). More than
// maxDiscoverSeeds, or a seed that fails a check, answers 400 or 403 with a
// one-line reason and returns false.
func (h *Handler) discoverSeeds(w http.ResponseWriter, first request) ([]request, bool) {
	given := first.query["target"]
	if len(given) > maxDiscoverSeeds {
		h.reject(w, http.StatusBadRequest, "target", fmt.Sprintf("%d target= seeds: at most %d", len(given), maxDiscoverSeeds))
		return nil, false
	}
	seeds := []request{first}
	seen := map[string]bool{first.target.String(): true}
	for i, s := range given[1:] {
		t, err := target.Parse(s)
		if err != nil {
			h.reject(w, http.StatusBadRequest, "target", fmt.Sprintf("target= seed %d: %s", i+2, err))
			return nil, false
		}
		if seen[t.String()] {
			continue
		}
		seen[t.String()] = true
		req, ok := h.forTarget(w, first.query, t)
		if !ok {
			return nil, false
		}
		seeds = append(seeds, req)
	}
	return seeds, true
}

func discoverCluster(ctx context.Context, c *redis.Client) ([]targetGroup, error) {
	text, err := c.ClusterNodes(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("CLUSTER NODES: %w", err)
	}
	nodes, err := clusternodes.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("CLUSTER NODES: %w", err)
	}
	groups := []targetGroup{}
	for _, n := range nodes {
		if n.Role == "" || n.HasFlag("noaddr") { // still in handshake, or address unknown
			continue
		}
		g := targetGroup{
			Targets: []string{n.Addr},
			Labels:  map[string]string{"role": n.Role, "cluster_node_id": n.ID},
		}
		// A node that announces a hostname (cluster-announce-hostname, Redis
		// 7+) is its target by that name, for DNS and TLS server-name
		// verification; its IP stays at hand for relabelling.
		if ip, port, err := net.SplitHostPort(n.Addr); err == nil && validHostname(n.Hostname) {
			g.Targets[0] = net.JoinHostPort(n.Hostname, port)
			g.Labels[nodeIPLabel] = ip
		}
		groups = append(groups, g)
	}
	return groups, nil
}

// nodeIPLabel carries the IP of a cluster node discovered by its hostname.
// A meta label, dropped after relabelling, so that an IP that changes
// (a restarted pod) does not change the node's series.
const nodeIPLabel = "__meta_redis_cluster_node_ip"

// validHostname tells whether h is a DNS name Redis could have announced:
// letters, digits, '-', '_' and '.', at most 253 bytes. Anything else (a
// node that sends garbage) is ignored and the node is found by its IP.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

func discoverSentinel(ctx context.Context, c *redis.Client) ([]targetGroup, error) {
	reply, err := c.Do(ctx, "SENTINEL", "MASTERS").Result()
	if err != nil {
		return nil, fmt.Errorf("SENTINEL MASTERS: %w", err)
	}
	masters, err := sentinelEntries(reply)
	if err != nil {
		return nil, fmt.Errorf("SENTINEL MASTERS: %w", err)
	}
	pipe := c.Pipeline()
	replicas := make([]*redis.Cmd, len(masters))
	for i, m := range masters {
		replicas[i] = pipe.Do(ctx, "SENTINEL", "REPLICAS", m["name"])
	}
	_, _ = pipe.Exec(ctx)
	groups := []targetGroup{}
	for i, m := range masters {
		groups = append(groups, targetGroup{
			Targets: []string{net.JoinHostPort(m["ip"], m["port"])},
			Labels:  map[string]string{"role": "master", "master_name": m["name"]},
		})
		reply, err := replicas[i].Result()
		if err != nil {
			return nil, fmt.Errorf("SENTINEL REPLICAS %s: %w", m["name"], err)
		}
		rs, err := sentinelEntries(reply)
		if err != nil {
			return nil, fmt.Errorf("SENTINEL REPLICAS %s: %w", m["name"], err)
		}
		for _, rep := range rs {
			groups = append(groups, targetGroup{
				Targets: []string{net.JoinHostPort(rep["ip"], rep["port"])},
				Labels:  map[string]string{"role": "slave", "master_name": m["name"]},
			})
		}
	}
	return groups, nil
}
