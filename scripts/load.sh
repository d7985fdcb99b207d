#!/usr/bin/env bash
# Load figures for a probe against a local Redis, as ratios to a floor
# measured in the same run on the same Redis (scripts/floor: an HTTP handler
# that sends one pooled INFO ALL and writes the reply, the least any probe
# can do): probes per second at concurrency 1 and 16, and CPU time per probe
# in the exporter and in Redis, read from /proc, closed loop (wrk) and then
# open loop at one RATE for both (scripts/fleet). The floor and the
# exporter take turns for ROUNDS rounds and the median ratios are printed
# after each kind of run: on a noisy machine one round can be off by a
# third. Needs redis-server and wrk; make bench installs what is missing.
# EXPORTER_FLAGS are added to the exporter's command line (say,
# --runtime.gc-headroom=0 for Go's default GC).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3} # floor and exporter alternate; the medians of the ratios are printed

command -v wrk >/dev/null || { apt-get install -y -q wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 1; }; }
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

rport=$(free_port); eport=$(free_port); fport=$(free_port)
redis-server --port "$rport" --enable-debug-command yes --bind 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 --save '' --appendonly no --dir "$work" --logfile "$work/redis.log" &
rpid=$!; pids+=("$rpid")
go build -o "$work/exporter" ./cmd/redis_probe_exporter
go build -o "$work/floor" ./scripts/floor
go build -o "$work/fleet" ./scripts/fleet
"$work/floor" --listen="127.0.0.1:$fport" --redis="127.0.0.1:$rport" &
fpid=$!; pids+=("$fpid")
printf 'modules:\n  default:\n    timeout: 5s\n' > "$work/redis_probe.yml"
# The targets below are one Redis on 4 addresses, which
# --probe.max-per-target (4 per host:port) would hold to 16 probes at
# once: enough for concurrency 16, but raised to be sure of it.
"$work/exporter" --config.file="$work/redis_probe.yml" --web.listen-address="127.0.0.1:$eport" --log.level=warn --probe.max-per-target=16 ${EXPORTER_FLAGS:-} &
epid=$!; pids+=("$epid")
wait_for() { for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return; sleep 0.1; done; echo "not ready: $*" >&2; exit 1; }
wait_for redis-cli -p "$rport" ping
wait_for curl -sf "127.0.0.1:$eport/-/healthy"
wait_for curl -sf "127.0.0.1:$fport/probe"
redis-cli -p "$rport" debug populate 1000 >/dev/null
url="http://127.0.0.1:$eport/probe?target=127.0.0.1:$rport"
first=$(curl -s "$url&debug=true"); grep -q '^probe_success 1' <<<"$first" || { echo "probe failed: $first" >&2; exit 1; }

# Identical probes in flight at once share one round trip, and a target
# probed twice at once opens a second connection that it then closes (one
# idle connection is kept per target). So each wrk thread's 8 connections
# take turns over 32 targets of their own, the 16 databases of one Redis
# reached on 4 loopback addresses, to measure probes and not coalescing or
# dials; a last run sends one target to show what coalescing saves.
cat > "$work/spread.lua" <<LUA
local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
local n = 0
function request()
	n = n + 1
	local k = n % 32
	return wrk.format(nil, "/probe?target=redis://127.0.0." .. (1 + k % 4) .. ":$rport/" .. (id * 8 + math.floor(k / 4)))
end
LUA
coalesced() { curl -s "127.0.0.1:$eport/metrics" | awk '/^redis_probe_exporter_probes_coalesced_total / {print $2}'; }

# run PID URL C [wrk args…]: requests/s, p50, p99 and CPU ms per request
# of PID and of Redis, and the share of probes coalesced.
run() {
	local pid=$1 u=$2 c=$3; shift 3
	local t=$(( c < 2 ? 1 : 2 ))
	local p0 r0 k0 p1 r1 k1 out
	p0=$(cpu_ticks "$pid"); r0=$(cpu_ticks "$rpid"); k0=$(coalesced)
	out=$(wrk -t"$t" -c"$c" -d"${DURATION}s" --latency -H "Accept-Encoding: gzip" "$@" "$u") # as Prometheus asks
	p1=$(cpu_ticks "$pid"); r1=$(cpu_ticks "$rpid"); k1=$(coalesced)
	awk -v dp=$((p1-p0)) -v dr=$((r1-r0)) -v k0="$k0" -v k1="$k1" -v tick="$TICK" '
		/requests in/ {n=$1} /Requests\/sec/ {rps=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2}
		END {printf "%.0f %s %s %.4f %.4f %.1f\n", rps, p50, p99, dp/tick/n*1000, dr/tick/n*1000, 100*(k1-k0)/n}' <<<"$out"
}

# median of its arguments
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

echo "# redis $(redis-server --version | awk '{print $3}'), $(nproc) cores, ${DURATION}s per run, $ROUNDS rounds of floor then exporter; ratios are exporter / floor"
for c in 1 16; do
	cpu=() redis=() rate=() exporter_rate=()
	for round in $(seq "$ROUNDS"); do
		read -r frps fp50 fp99 fcpu fredis _ < <(run "$fpid" "http://127.0.0.1:$fport/probe" "$c")
		read -r erps ep50 ep99 ecpu eredis ek < <(run "$epid" "$url" "$c" -s "$work/spread.lua")
		awk -v c="$c" -v round="$round" -v erps="$erps" -v frps="$frps" -v ecpu="$ecpu" -v fcpu="$fcpu" -v eredis="$eredis" -v fredis="$fredis" -v ep99="$ep99" -v fp99="$fp99" -v ek="$ek" 'BEGIN {
			printf "concurrency %2d, round %d: exporter %6.0f probes/s (p99 %s), floor %6.0f/s (p99 %s): probes/s %.2fx | exporter CPU %.3f ms = %.2fx the floor'"'"'s %.3f ms | Redis CPU %.3f ms = %.2fx the floor'"'"'s %.3f ms | %.1f%% coalesced\n",
				c, round, erps, ep99, frps, fp99, erps/frps, ecpu, ecpu/fcpu, fcpu, eredis, eredis/fredis, fredis, ek }'
		cpu+=("$(awk -v a="$ecpu" -v b="$fcpu" 'BEGIN {print a/b}')")
		redis+=("$(awk -v a="$eredis" -v b="$fredis" 'BEGIN {print a/b}')")
		rate+=("$(awk -v a="$erps" -v b="$frps" 'BEGIN {print a/b}')")
		exporter_rate+=("$erps") # kept from the last c, 16, for RATE below
	done
	printf 'concurrency %2d, median of %d rounds: exporter CPU %.2fx the floor'"'"'s, Redis CPU %.2fx, probes/s %.2fx\n' \
		"$c" "$ROUNDS" "$(median "${cpu[@]}")" "$(median "${redis[@]}")" "$(median "${rate[@]}")"
done

# At concurrency 16 the floor answers twice as many probes a second as the
# exporter, and a process's CPU per request falls as its rate rises (more
# requests per wakeup, per epoll_wait, per batch of syscalls): that ratio
# measures batching as well as work. So both also run open loop at one
# RATE over the same 64 targets (scripts/fleet): by default a third of the
# exporter's rate at 16 clients. At half, the machine (load generator
# included) came close enough to full that the exporter's p99 reached
# hundreds of ms.
RATE=${RATE:-$(median "${exporter_rate[@]}" | awk '{r = int($1 / 300) * 100; print r < 100 ? 100 : r}')}
[[ $RATE =~ ^[1-9][0-9]*$ ]] || { echo "RATE=$RATE: want probes a second, a positive integer" >&2; exit 1; }
intervals=$((2 + DURATION * RATE / 64)) # the first is warm-up
# paced PID PORT EXPECT: latency p99, failed probes, CPU ms per probe of PID
# and of Redis, the answers of PID's /probe holding EXPECT.
paced() {
	local pid=$1 port=$2 expect=$3 p0 r0 p1 r1 out
	p0=$(cpu_ticks "$pid"); r0=$(cpu_ticks "$rpid")
	out=$("$work/fleet" --exporter="http://127.0.0.1:$port" --redis-ports="$rport" --targets=64 --addresses=4 \
		--interval="$((64000000 / RATE))us" --intervals="$intervals" --pid="$pid" --expect="$expect")
	p1=$(cpu_ticks "$pid"); r1=$(cpu_ticks "$rpid")
	grep '^failed:' <<<"$out" >&2 || true
	awk -v dp=$((p1-p0)) -v dr=$((r1-r0)) -v n=$((64 * intervals)) -v tick="$TICK" '
		NR == 1 {for (i = 1; i < NF; i++) { if ($(i+1) == "failed") f = $i; if ($i == "p99") p99 = $(i+1) }}
		END {printf "%s %d %.4f %.4f\n", p99, f, dp/tick/n*1000, dr/tick/n*1000}' <<<"$out"
}
cpu=() redis=()
for round in $(seq "$ROUNDS"); do
	read -r fp99 ffail fcpu fredis < <(paced "$fpid" "$fport" "redis_version:")
	read -r ep99 efail ecpu eredis < <(paced "$epid" "$eport" $'\nprobe_success 1\n')
	awk -v rate="$RATE" -v round="$round" -v ecpu="$ecpu" -v fcpu="$fcpu" -v eredis="$eredis" -v fredis="$fredis" -v ep99="$ep99" -v fp99="$fp99" -v failed=$((efail + ffail)) 'BEGIN {
		printf "open loop at %d probes/s, round %d: exporter p99 %s, floor p99 %s, %d failed | exporter CPU %.3f ms = %.2fx the floor'"'"'s %.3f ms | Redis CPU %.3f ms = %.2fx the floor'"'"'s %.3f ms\n",
			rate, round, ep99, fp99, failed, ecpu, ecpu/fcpu, fcpu, eredis, eredis/fredis, fredis }'
	cpu+=("$(awk -v a="$ecpu" -v b="$fcpu" 'BEGIN {print a/b}')")
	redis+=("$(awk -v a="$eredis" -v b="$fredis" 'BEGIN {print a/b}')")
done
printf 'open loop at %d probes/s, median of %d rounds: exporter CPU %.2fx the floor'"'"'s, Redis CPU %.2fx\n' \
	"$RATE" "$ROUNDS" "$(median "${cpu[@]}")" "$(median "${redis[@]}")"

read -r erps ep50 ep99 ecpu eredis ek < <(run "$epid" "$url" 16)
printf 'concurrency 16, one target: %s probes/s (p99 %s), %s%% coalesced, exporter CPU %s ms, Redis CPU %s ms per answered probe\n' "$erps" "$ep99" "$ek" "$ecpu" "$eredis"
