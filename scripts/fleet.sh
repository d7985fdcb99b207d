#!/usr/bin/env bash
# What many distinct targets cost the exporter: probes TARGETS distinct
# targets (loopback aliases 127.0.X.Y of one local Redis), each once, 16 at
# a time, and prints the exporter's resident memory, its open Redis
# connections and what the probes took. Needs redis-server and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS=${TARGETS:-2000}
ulimit -n "$(ulimit -Hn)" # a connection per target, each end
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

rport=$(free_port); eport=$(free_port)
redis-server --port "$rport" --bind '*' --maxclients $((TARGETS + 100)) --save '' --appendonly no --dir "$work" --logfile "$work/redis.log" &
pids+=($!)
go build -o "$work/exporter" ./cmd/redis_probe_exporter
printf 'modules:\n  default:\n    timeout: 5s\n' > "$work/redis_probe.yml"
"$work/exporter" --config.file="$work/redis_probe.yml" --web.listen-address="127.0.0.1:$eport" \
	--log.level=warn --pool.max-targets=$((TARGETS + 1)) --pool.idle-timeout=1h &
epid=$!; pids+=("$epid")
wait_for() { for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return; sleep 0.1; done; echo "not ready: $*" >&2; exit 1; }
wait_for redis-cli -p "$rport" ping
wait_for curl -sf "127.0.0.1:$eport/-/healthy"
redis-cli -p "$rport" debug populate 1000 >/dev/null

before=$(rss_mib "$epid")
start=$(date +%s.%N)
for i in $(seq 0 $((TARGETS - 1))); do
	echo "http://127.0.0.1:$eport/probe?target=127.0.$((1 + i / 250)).$((1 + i % 250)):$rport"
done | xargs -P 16 -n 1 curl -s -o "$work/last" -w '%{http_code} %{time_total}\n' > "$work/codes"
took=$(echo "$(date +%s.%N) - $start" | bc)
ok=$(grep -c '^200 ' "$work/codes" || true)
curl -s "127.0.0.1:$eport/metrics" > "$work/metrics"
success=$(awk '/^redis_probe_exporter_probes_total\{module="default",result="success"\}/ {print $2}' "$work/metrics")
conns=$(redis-cli -p "$rport" info clients | awk -F: '/^connected_clients/ {print $2-1}' | tr -d '\r')
p50=$(awk '{print $2}' "$work/codes" | sort -n | awk '{a[NR]=$1} END {print a[int(NR*0.5)]}')
p99=$(awk '{print $2}' "$work/codes" | sort -n | awk '{a[NR]=$1} END {print a[int(NR*0.99)]}')
echo "# redis $(redis-server --version | awk '{print $3}'), $(nproc) cores"
printf '%d distinct targets in %.1fs: %d answered 200, %s probes succeeded, %d Redis connections held | probe p50 %ss p99 %ss | exporter RSS %s MiB before, %s MiB after\n' \
	"$TARGETS" "$took" "$ok" "$success" "$conns" "$p50" "$p99" "$before" "$(rss_mib "$epid")"
