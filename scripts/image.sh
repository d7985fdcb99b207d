#!/usr/bin/env bash
# Build the container image: the static binary is built here, outside the
# image (no base image can be pulled, so no golang build stage), then
# Containerfile copies it into a scratch image. Then check the image's
# config with `podman image inspect` and, where containers can run, start
# it and curl /-/healthy, /metrics and a probe.
#
#   IMAGE    tag to build (default redis-probe-exporter:latest)
#   BUILDER  podman or buildah (default: podman when installed)
#   RUN      auto (default): run the container when the runtime allows,
#            else warn and skip; 1: a container that cannot start fails the
#            script; 0: build and inspect only
#   GOARCH   target architecture (default: go env GOARCH); the container
#            only runs when it matches this machine
#   PODMAN_RUN_OPTS  extra options for the test `podman run`s
# Where the runtime refuses the defaults (no CAP_SYS_RESOURCE, a hybrid
# cgroup hierarchy), the run falls back to lower --ulimit values and runc:
# see below.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-redis-probe-exporter:latest}
RUN=${RUN:-auto}
GO=${GO:-go}
GOARCH=${GOARCH:-$($GO env GOARCH)}
HOSTARCH=$($GO env GOHOSTARCH)

fail() { echo "image.sh: FAIL: $*" >&2; exit 1; }
warn() { echo "image.sh: WARNING: $*" >&2; }
step() { echo "image.sh: $*"; }

if [ -z "${BUILDER:-}" ]; then
	if command -v podman >/dev/null; then BUILDER=podman
	elif command -v buildah >/dev/null; then BUILDER=buildah
	else fail "neither podman nor buildah found: apt-get install -y podman buildah (as root)"
	fi
fi
command -v "$BUILDER" >/dev/null || fail "$BUILDER not found"

work=$(mktemp -d)
# The test container has a name of its own, so that cleanup also removes
# one that podman created but could not start.
name="redis-probe-exporter-image-check-$$"
started=""
cleanup() {
	if [ -n "$started" ]; then podman rm -f -t 0 "$name" >/dev/null 2>&1 || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

# The Makefile's LDFLAGS, with the same version stamps.
VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo unknown)
REVISION=$(git rev-parse --short HEAD 2>/dev/null || true)
BRANCH=$(git rev-parse --abbrev-ref HEAD 2>/dev/null || true)
LDFLAGS="-X github.com/prometheus/common/version.Version=$VERSION \
-X github.com/prometheus/common/version.Revision=$REVISION \
-X github.com/prometheus/common/version.Branch=$BRANCH"

ctx="$work/context"
mkdir -p "$ctx"
step "building static binary (linux/$GOARCH, version $VERSION)"
CGO_ENABLED=0 GOOS=linux GOARCH=$GOARCH $GO build -trimpath -ldflags "$LDFLAGS" \
	-o "$ctx/redis_probe_exporter" ./cmd/redis_probe_exporter || fail "go build failed"
$GO version -m "$ctx/redis_probe_exporter" | grep -q 'CGO_ENABLED=0' ||
	fail "binary was not built with CGO_ENABLED=0"
# install sets modes explicitly: a restrictive umask must not leave the
# config unreadable for uid 65534.
install -m 0644 redis_probe.yml LICENSE "$ctx/"

step "building $IMAGE with $BUILDER"
build_args=(--build-arg "VERSION=$VERSION" --build-arg "REVISION=$REVISION"
	-f "$PWD/Containerfile" -t "$IMAGE")
[ "$GOARCH" = "$HOSTARCH" ] || build_args+=(--platform "linux/$GOARCH")
case "$BUILDER" in
podman) podman build "${build_args[@]}" "$ctx" || fail "podman build failed" ;;
buildah) buildah bud "${build_args[@]}" "$ctx" || fail "buildah bud failed" ;;
*) fail "BUILDER must be podman or buildah, not $BUILDER" ;;
esac

# Inspect. podman and buildah share the image store, so podman reads what
# buildah built; without podman, buildah inspect answers the same fields.
if command -v podman >/dev/null; then
	inspect() { podman image inspect --format "$1" "$IMAGE"; }
	F_ENTRY='{{json .Config.Entrypoint}}' F_CMD='{{json .Config.Cmd}}' F_USER='{{.Config.User}}'
	F_PORTS='{{json .Config.ExposedPorts}}' F_LABELS='{{json .Config.Labels}}' F_SIZE='{{.Size}}'
else
	inspect() { buildah inspect --type image --format "$1" "$IMAGE"; }
	F_ENTRY='{{json .OCIv1.Config.Entrypoint}}' F_CMD='{{json .OCIv1.Config.Cmd}}' F_USER='{{.OCIv1.Config.User}}'
	F_PORTS='{{json .OCIv1.Config.ExposedPorts}}' F_LABELS='{{json .OCIv1.Config.Labels}}' F_SIZE=''
fi
check() { # name, got, want (exact)
	[ "$2" = "$3" ] || fail "image $1 is $2, want $3"
	step "  $1: $2"
}
step "inspecting $IMAGE"
check entrypoint "$(inspect "$F_ENTRY")" '["/redis_probe_exporter"]'
check cmd "$(inspect "$F_CMD")" '["--config.file=/etc/redis_probe_exporter/redis_probe.yml"]'
check user "$(inspect "$F_USER")" '65534:65534'
ports=$(inspect "$F_PORTS")
grep -q '"9736/tcp"' <<<"$ports" || fail "image exposes $ports, want 9736/tcp"
step "  exposed: $ports"
labels=$(inspect "$F_LABELS")
for want in '"org.opencontainers.image.licenses":"Apache-2.0"' \
	'"org.opencontainers.image.title":"redis_probe_exporter"' \
	'"org.opencontainers.image.source":"https://github.com/redis-probe/redis_probe_exporter"'; do
	grep -qF "$want" <<<"$labels" || fail "image labels lack $want: $labels"
done
step "  labels: $labels"
if [ -n "$F_SIZE" ]; then
	size=$(inspect "$F_SIZE")
	step "  size: $size bytes ($((size / 1024 / 1024)) MiB); binary $(stat -c %s "$ctx/redis_probe_exporter") bytes"
fi

# Run. The container is kept after it exits, for its logs; cleanup removes it.
if [ "$RUN" = 0 ]; then step "RUN=0: not running the container"; step "OK: $IMAGE built and inspected"; exit 0; fi
if [ "$GOARCH" != "$HOSTARCH" ]; then
	[ "$RUN" = 1 ] && fail "cannot run a linux/$GOARCH image on $HOSTARCH"
	warn "linux/$GOARCH image on $HOSTARCH: not running it"; step "OK: $IMAGE built and inspected"; exit 0
fi
command -v podman >/dev/null || {
	[ "$RUN" = 1 ] && fail "podman is needed to run the container"
	warn "podman missing: not running the container"; step "OK: $IMAGE built and inspected"; exit 0
}
command -v curl >/dev/null || fail "curl is needed to check the running container"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
oneline() { tr '\n' ' ' <"$1" | sed 's/ *$//'; }
errs="$work/run.err"

# Can this machine run a container at all? `--version` exits at once and
# needs no network. Where the defaults fail, two known sandbox limits have a
# workaround, tried in turn:
#  - no CAP_SYS_RESOURCE: rootful podman sets RLIMIT_NOFILE and RLIMIT_NPROC
#    above the current hard limits ("setrlimit ... Operation not
#    permitted"); asking for limits within them works.
#  - a cgroup v1/v2 hybrid with controllers on the v2 side: crun refuses it
#    ("cgroups in hybrid mode not supported"); runc accepts it.
# PODMAN_RUN_OPTS adds options of your own to every attempt.
ulimits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096)
read -r -a extra <<<"${PODMAN_RUN_OPTS:-}"
attempts=("" "ulimits")
command -v runc >/dev/null && attempts+=("runc" "runc ulimits")
podman_g=() run_opts=() tried=""
describe() { echo "podman ${podman_g[*]}${podman_g[*]:+ }run${run_opts[*]:+ }${run_opts[*]}"; }
for a in "${attempts[@]}"; do
	podman_g=() run_opts=("${extra[@]}")
	case " $a " in *" runc "*) podman_g=(--runtime runc) ;; esac
	case " $a " in *" ulimits "*) run_opts+=("${ulimits[@]}") ;; esac
	if podman "${podman_g[@]}" run --rm --network none "${run_opts[@]}" "$IMAGE" --version >/dev/null 2>"$errs"; then
		tried=ok; break
	fi
	warn "$(describe) failed: $(oneline "$errs")"
	tried="$tried; [${a:-defaults}] $(oneline "$errs")"
done
if [ "$tried" != ok ]; then
	[ "$RUN" = 1 ] && fail "podman cannot run containers here:$tried"
	warn "podman cannot run containers here, not running the image (RUN=1 makes this fatal)"
	step "OK: $IMAGE built and inspected (not run)"
	exit 0
fi
if [ -n "$a" ]; then step "containers run here with: $(describe)"; fi

# A published port runs the image as shipped (its CMD, port 9736); where
# container networking fails, the host's network namespace with the listen
# address moved to the free port.
port=$(free_port)
started=1
if cid=$(podman "${podman_g[@]}" run -d --name "$name" "${run_opts[@]}" -p "127.0.0.1:$port:9736" "$IMAGE" 2>"$errs"); then
	step "running container ${cid:0:12}, port 9736 published on 127.0.0.1:$port"
else
	warn "podman run with a published port failed: $(oneline "$errs")"
	podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
	cid=$(podman "${podman_g[@]}" run -d --name "$name" "${run_opts[@]}" --network host "$IMAGE" \
		--config.file=/etc/redis_probe_exporter/redis_probe.yml \
		--web.listen-address="127.0.0.1:$port" 2>"$errs") ||
		{ fail "podman run --network host failed as well: $(oneline "$errs")"; }
	step "running container ${cid:0:12} with --network host on 127.0.0.1:$port"
fi

url="http://127.0.0.1:$port"
logs() { podman logs "$name" 2>&1 | sed 's/^/  container: /' >&2 || true; }
for _ in $(seq 100); do
	curl -sf "$url/-/healthy" >/dev/null 2>&1 && break
	if [ "$(podman inspect --format '{{.State.Running}}' "$name" 2>/dev/null)" != true ]; then
		logs; fail "the container exited before it was healthy"
	fi
	sleep 0.1
done
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/-/healthy") || true
[ "$code" = 200 ] || { logs; fail "GET /-/healthy answered ${code:-nothing}, want 200"; }
step "  GET /-/healthy: 200"
metrics=$(curl -sf "$url/metrics") || { logs; fail "GET /metrics failed"; }
grep -q '^redis_probe_exporter_build_info{' <<<"$metrics" ||
	{ logs; fail "GET /metrics lacks redis_probe_exporter_build_info"; }
step "  GET /metrics: 200, $(grep -c '^[a-z]' <<<"$metrics") samples; $(grep -m1 '_build_info{' <<<"$metrics" || echo 'no build_info')"
# A probe of a closed port: the probe path works (config loaded, module
# found) and fails cleanly without any Redis.
probe=$(curl -s "$url/probe?target=127.0.0.1:1") || { logs; fail "GET /probe failed"; }
grep -q '^probe_success 0' <<<"$probe" || { logs; fail "GET /probe?target=127.0.0.1:1 lacks probe_success 0: $probe"; }
step "  GET /probe?target=127.0.0.1:1: probe_success 0 (nothing listens there), as expected"

# The exporter drains in-flight probes on SIGTERM (none here): it should
# exit 0 well within podman's timeout, not be killed.
podman stop -t 35 "$name" >/dev/null || { logs; fail "podman stop failed"; }
rc=$(podman inspect --format '{{.State.ExitCode}}' "$name")
[ "$rc" = 0 ] || { logs; fail "the exporter exited $rc on SIGTERM, want 0"; }
step "  stopped: exit 0 on SIGTERM"
step "OK: $IMAGE built, inspected and run"
