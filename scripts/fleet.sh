#!/usr/bin/env bash
# A fleet through one exporter: TARGETS distinct targets (loopback
# addresses 127.0.X.Y of REDIS local Redis servers), each probed every
# INTERVAL as Prometheus would, the probes spread evenly over it
# (scripts/fleet). Prints the answers' p50 and p99 after a warm-up
# interval, the exporter's CPU, resident memory and open Redis
# connections. The exporter runs with its default flags. Needs
# redis-server; raises the open-files limit to the hard limit.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS=${TARGETS:-10000}
REDIS=${REDIS:-4}
INTERVAL=${INTERVAL:-15s}
INTERVALS=${INTERVALS:-4}
ulimit -n "$(ulimit -Hn)" # a connection per target, at each end
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

ports=()
for i in $(seq "$REDIS"); do
	p=$(free_port); ports+=("$p")
	mkdir "$work/redis$i"
	redis-server --port "$p" --bind '*' --enable-debug-command yes --maxclients $((TARGETS / REDIS + 100)) --save '' --appendonly no \
		--dir "$work/redis$i" --logfile "$work/redis$i/redis.log" &
	pids+=($!)
done
eport=$(free_port)
go build -o "$work/exporter" ./cmd/redis_probe_exporter
go build -o "$work/fleet" ./scripts/fleet
printf 'modules:\n  default:\n    timeout: 5s\n' > "$work/redis_probe.yml"
"$work/exporter" --config.file="$work/redis_probe.yml" --web.listen-address="127.0.0.1:$eport" --log.level=warn ${EXPORTER_FLAGS:-} 2> "$work/exporter.log" &
epid=$!; pids+=("$epid")
wait_for() { for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return; sleep 0.1; done; echo "not ready: $*" >&2; exit 1; }
for p in "${ports[@]}"; do
	wait_for redis-cli -p "$p" ping
	redis-cli -p "$p" debug populate 1000 >/dev/null 2>&1 || redis-cli -p "$p" set k v >/dev/null
done
wait_for curl -sf "127.0.0.1:$eport/-/healthy"

echo "# redis $(redis-server --version | awk '{print $3}'), $(nproc) cores, $REDIS Redis servers"
"$work/fleet" --exporter="http://127.0.0.1:$eport" --redis-ports="$(IFS=,; echo "${ports[*]}")" \
	--targets="$TARGETS" --interval="$INTERVAL" --intervals="$INTERVALS" --pid="$epid"
conns=0
for p in "${ports[@]}"; do
	c=$(redis-cli -p "$p" info clients | awk -F: '/^connected_clients/ {print $2-1}' | tr -d '\r')
	conns=$((conns + c))
done
curl -s "127.0.0.1:$eport/metrics" > "$work/metrics"
shed=$(awk '/^redis_probe_exporter_probes_shed_total/ {s+=$2} END {print s+0}' "$work/metrics")
echo "Redis connections held by the exporter: $conns; probes shed: $shed"
grep -m3 'level=error' "$work/exporter.log" || true # a failed probe logs at debug; a bug at error
