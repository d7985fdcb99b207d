package prober

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"

	"github.com/redis/go-redis/v9"

	"github.com/redis-probe/redis_probe_exporter/internal/clusternodes"
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

// discover asks the seed target with find and answers its target groups,
// each labelled with the module and auth its probes should use:
// target_module= and target_auth= when given, else the seed's own. A seed
// that cannot be reached or asked answers 502 with the reason.
func (h *Handler) discover(w http.ResponseWriter, r *http.Request, find func(context.Context, *redis.Client) ([]targetGroup, error)) {
	req, ok := h.resolve(w, r)
	if !ok {
		return
	}
	q := req.query
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
	client, release := h.client(req)
	defer release()
	groups, err := find(ctx, client)
	if err != nil {
		http.Error(w, fmt.Sprintf("discovering from %s: %s", req.target.Addr(), safeText(err.Error(), req.secrets())), http.StatusBadGateway)
		return
	}
	for i := range groups {
		for k, v := range labels {
			groups[i].Labels[k] = v
		}
		if req.target.TLS {
			for j, t := range groups[i].Targets {
				groups[i].Targets[j] = "rediss://" + t
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(groups)
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
		groups = append(groups, targetGroup{
			Targets: []string{n.Addr},
			Labels:  map[string]string{"role": n.Role, "cluster_node_id": n.ID},
		})
	}
	return groups, nil
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
