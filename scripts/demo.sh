#!/usr/bin/env bash
# make demo: a small fleet on loopback to look at. A master with a replica
# holding an application's keys (sessions, queues, a stream, delayed jobs),
# the exporter, and a Prometheus loaded with the shipped alerting and
# recording rules. Ctrl-C stops everything and removes what it made.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 0' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 150); do "$@" >/dev/null 2>&1 && return; sleep 0.1; done; echo "not ready: $*" >&2; exit 1; }
redis() { redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --logfile "$work/redis-$1.log" "${@:2}" & pids+=($!); }

master=$(free_port); replica=$(free_port); eport=$(free_port); pport=$(free_port)
redis "$master"
redis "$replica" --replicaof 127.0.0.1 "$master"
wait_for redis-cli -p "$master" ping
wait_for redis-cli -p "$replica" ping

# The application's keys, as the app module below measures them.
cli() { redis-cli -p "$master" "$@" >/dev/null; }
for i in 1 2 3; do cli SET "session:acme:$i" u EX 3600; done
for i in 1 2; do cli SET "session:globex:$i" u EX 3600; done
cli RPUSH queue:emails a b c; cli RPUSH queue:sms x
for i in $(seq 10); do cli XADD events '*' n "$i"; done
cli XGROUP CREATE events mailer 0
cli ZADD jobs:delayed 500 j1 900 j2 5000 j3

cat > "$work/redis_probe.yml" <<YAML
modules:
  default:
    timeout: 5s
  app:
    timeout: 5s
    keys:
      - {metric: app_sessions_by_tenant, pattern: "session:*", key_labels: '^session:(?P<tenant>[^:]+):', aggregate: count}
      - {metric: app_queue_length, keys: ["queue:emails", "queue:sms"], measure: length}
      - {metric: app_events, key: events, measure: stream}
    scripts:
      - {metric: app_jobs_due, script: "return redis.call('ZCOUNT', KEYS[1], '-inf', ARGV[1])", keys: ["jobs:delayed"], args: ["1000"]}
YAML
go build -o "$work/exporter" ./cmd/redis_probe_exporter
"$work/exporter" --config.file="$work/redis_probe.yml" --web.listen-address="127.0.0.1:$eport" --log.level=warn & pids+=($!)
wait_for curl -sf "127.0.0.1:$eport/-/ready"

rules=$(ls "$PWD"/examples/prometheus/*.yml 2>/dev/null | grep -v _test || true)
{
	printf 'global: {scrape_interval: 5s, scrape_timeout: 4s, evaluation_interval: 5s}\n'
	printf 'rule_files:\n'; for r in $rules; do printf '  - %s\n' "$r"; done
	printf 'scrape_configs:\n'
	for job in "redis default 127.0.0.1:$master 127.0.0.1:$replica" "redis_app app 127.0.0.1:$master"; do
		read -r name module targets <<<"$job"
		printf '  - job_name: %s\n    metrics_path: /probe\n    params: {module: [%s]}\n' "$name" "$module"
		printf '    static_configs: [{targets: [%s]}]\n' "$(echo "$targets" | sed 's/ /, /g')"
		printf '    relabel_configs:\n'
		printf '      - {source_labels: [__address__], target_label: __param_target}\n'
		printf '      - {source_labels: [__param_target], target_label: instance}\n'
		printf '      - {target_label: __address__, replacement: "127.0.0.1:%s"}\n' "$eport"
	done
	printf '  - job_name: redis_probe_exporter\n    static_configs: [{targets: ["127.0.0.1:%s"]}]\n' "$eport"
} > "$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" --web.listen-address="127.0.0.1:$pport" --log.level=warn & pids+=($!)
wait_for curl -sf "127.0.0.1:$pport/-/ready"

cat <<TXT

The demo is up (Ctrl-C stops it and removes everything):
  Redis master   127.0.0.1:$master   (replica 127.0.0.1:$replica)
  Exporter       http://127.0.0.1:$eport/               recent probes, each with its log
                 http://127.0.0.1:$eport/probe?target=127.0.0.1:$master&module=app&debug=true
  Prometheus     http://127.0.0.1:$pport/targets         three probe targets and the exporter
                 http://127.0.0.1:$pport/rules           the shipped recording and alerting rules
                 http://127.0.0.1:$pport/alerts          try: redis-cli -p $replica shutdown nosave
                 http://127.0.0.1:$pport/graph?g0.expr=app_sessions_by_tenant
TXT
wait
