#!/usr/bin/env bash
# Load figures for a probe against a local Redis: probes per second at
# concurrency 1 and 16 next to bare INFO ALL round trips of the same Redis,
# and CPU time per probe in the exporter and in Redis, read from /proc.
# Needs redis-server, redis-benchmark (redis-tools) and wrk; make bench
# installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}

command -v wrk >/dev/null || { apt-get install -y -q wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 1; }; }
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

rport=$(free_port); eport=$(free_port)
redis-server --port "$rport" --enable-debug-command yes --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --logfile "$work/redis.log" &
rpid=$!; pids+=("$rpid")
go build -o "$work/exporter" ./cmd/redis_probe_exporter
printf 'modules:\n  default:\n    timeout: 5s\n' > "$work/redis_probe.yml"
GOGC=${GOGC:-100} "$work/exporter" --config.file="$work/redis_probe.yml" --web.listen-address="127.0.0.1:$eport" --log.level=warn &
epid=$!; pids+=("$epid")
wait_for() { for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return; sleep 0.1; done; echo "not ready: $*" >&2; exit 1; }
wait_for redis-cli -p "$rport" ping
wait_for curl -sf "127.0.0.1:$eport/-/healthy"
redis-cli -p "$rport" debug populate 1000 >/dev/null
url="http://127.0.0.1:$eport/probe?target=127.0.0.1:$rport"
first=$(curl -s "$url&debug=true"); grep -q '^probe_success 1' <<<"$first" || { echo "probe failed: $first" >&2; exit 1; }

# Identical probes in flight at once share one round trip, so the load
# spreads over 16 targets (the databases of one Redis), 8 per wrk thread,
# to measure probes and not their coalescing; a last run sends one target
# to show what coalescing saves.
cat > "$work/spread.lua" <<LUA
local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
local n = 0
function request()
	n = n + 1
	return wrk.format(nil, "/probe?target=redis://127.0.0.1:$rport/" .. (id * 8 + n % 8))
end
LUA
coalesced() { curl -s "127.0.0.1:$eport/metrics" | awk '/^redis_probe_exporter_probes_coalesced_total / {print $2}'; }

echo "# redis $(redis-server --version | awk '{print $3}'), $(nproc) cores, ${DURATION}s per run"
for run in "1 spread" "16 spread" "16 same"; do
	read -r c mode <<<"$run"
	t=$(( c < 2 ? 1 : 2 ))
	script=(-s "$work/spread.lua"); [ "$mode" = same ] && script=()
	e0=$(cpu_ticks "$epid"); r0=$(cpu_ticks "$rpid"); k0=$(coalesced)
	out=$(wrk -t"$t" -c"$c" -d"${DURATION}s" --latency -H "Accept-Encoding: gzip" "${script[@]}" "$url") # as Prometheus asks
	e1=$(cpu_ticks "$epid"); r1=$(cpu_ticks "$rpid"); k1=$(coalesced)
	n=$(awk '/requests in/ {print $1}' <<<"$out")
	rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
	p50=$(awk '$1=="50%" {print $2}' <<<"$out")
	p99=$(awk '$1=="99%" {print $2}' <<<"$out")
	info=$(redis-benchmark -p "$rport" -c "$c" -n $(( c * 20000 )) -q INFO ALL | awk -F'[: ]+' '/requests per second/ {for(i=1;i<=NF;i++) if ($i ~ /^[0-9.]+$/) {print $i; exit}}')
	awk -v c="$c" -v mode="$mode" -v n="$n" -v k0="$k0" -v k1="$k1" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v info="$info" -v de=$((e1-e0)) -v dr=$((r1-r0)) -v tick="$TICK" 'BEGIN {
		printf "concurrency %2d, %s target%s: %8.0f probes/s, %4.1f%% coalesced (p50 %s, p99 %s) | bare INFO ALL %8.0f/s | probe = %.1fx an INFO round trip | CPU per probe: exporter %.3f ms, redis %.3f ms\n",
			c, mode == "same" ? "one" : "16", mode == "same" ? "" : "s", rps, 100*(k1-k0)/n, p50, p99, info, info/rps, de/tick/n*1000, dr/tick/n*1000 }'
done
