# make run: build and run the exporter on redis_probe.yml.
# make test: install what the tests need when missing, then gofmt, vet,
#            staticcheck and the tests with the race detector.
# make bench: benchmark a probe against a local Redis, and measure load.
# make image: a FROM scratch image with podman or buildah, inspected and run (scripts/image.sh).
# make demo: a master, a replica, the exporter and Prometheus with the shipped rules, on loopback.

GO      ?= go
BIN     := bin/redis_probe_exporter
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
LDFLAGS := -X github.com/prometheus/common/version.Version=$(VERSION) \
           -X github.com/prometheus/common/version.Revision=$(shell git rev-parse --short HEAD 2>/dev/null) \
           -X github.com/prometheus/common/version.Branch=$(shell git rev-parse --abbrev-ref HEAD 2>/dev/null)

# Debian packages that provide the real servers the tests start.
TEST_PACKAGES := redis-server redis-sentinel redis-tools prometheus openssl
TEST_COMMANDS := redis-server redis-sentinel redis-cli prometheus promtool openssl

.PHONY: build run test deps bench fmt demo image

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/redis_probe_exporter

run: build
	./$(BIN) --config.file=redis_probe.yml

deps:
	@missing=""; for c in $(TEST_COMMANDS); do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing test servers (missing:$$missing)"; \
		if [ "$$(id -u)" != 0 ]; then echo "run make test as root, or install: $(TEST_PACKAGES)" >&2; exit 1; fi; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(TEST_PACKAGES); \
	fi

test: deps
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) test -race -count=1 ./...
	cd examples/kubernetes && $(GO) vet ./... && $(GO) test -race -count=1 ./...

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./prober/
	./scripts/load.sh

demo: deps
	./scripts/demo.sh

image:
	./scripts/image.sh
