# Tugboat: `make up` and `make test` are all a new machine needs.
SHELL := /bin/bash
DATA_DIR ?= /var/lib/tugboat
PORT ?= 6443
RELEASE_BIN := .build/release/tug
DEBUG_BIN := .build/debug/tug
PYTHON ?= python3

.PHONY: deps build build-debug up down status test test-unit test-e2e bench clean

## Host packages and Python test packages, installed only when missing.
deps:
	@scripts/deps.sh

build:
	swift build -c release --product tug

build-debug:
	swift build --build-tests

## Installs what is missing, builds, starts `tug server` with the embedded store, prints how to use kubectl.
up: deps build
	@scripts/up.sh "$(RELEASE_BIN)" "$(DATA_DIR)" "$(PORT)"

down:
	@scripts/down.sh "$(DATA_DIR)"

## The whole suite: Swift unit tests of every target, then end-to-end tests with the real binary, kubectl and the
## Python client.
test: deps build-debug test-unit test-e2e

test-unit:
	swift test --skip-build --disable-xctest

test-e2e:
	TUG_BIN="$(CURDIR)/$(DEBUG_BIN)" $(PYTHON) -m pytest -q tests/e2e

## API, pod and scheduler benchmarks against fresh release processes (figures go to docs/benchmarks.md by hand).
bench: build
	@scripts/bench.sh "$(RELEASE_BIN)"

clean:
	rm -rf .build .build-*
