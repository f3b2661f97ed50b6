# Tugboat: `make up` and `make test` are all a new machine needs.
SHELL := /bin/bash
DATA_DIR ?= /var/lib/tugboat
PORT ?= 6443
RELEASE_BIN := .build/release/tug
DEBUG_BIN := .build/debug/tug
# The tests' Python: the venv `make deps` fills from tests/requirements.txt.
PYTHON ?= .build-venv/bin/python
FUZZ_BIN := .build-fuzz/debug/tug-fuzz
FUZZ_SECONDS ?= 600

.PHONY: deps build build-debug build-fuzz up down status test test-unit test-fuzz test-e2e fuzz bench clean

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

## The whole suite: Swift unit tests of every target, every fuzz target briefly, then end-to-end tests with the real
## binary, kubectl and the Python clients.
test: deps build-debug test-unit test-fuzz test-e2e

test-unit:
	swift test --skip-build --disable-xctest

## The libFuzzer driver of every parser (Sources/TugFuzzTargets), instrumented, in its own build directory.
build-fuzz:
	TUG_FUZZ=1 swift build --scratch-path .build-fuzz --product tug-fuzz -Xswiftc -sanitize=fuzzer,address

test-fuzz: build-fuzz
	@scripts/fuzz.sh "$(FUZZ_BIN)" 15

## Longer fuzzing: FUZZ_SECONDS (600) per target; findings land in .build-fuzz/findings.
fuzz: build-fuzz
	@scripts/fuzz.sh "$(FUZZ_BIN)" "$(FUZZ_SECONDS)"

test-e2e:
	TUG_BIN="$(CURDIR)/$(DEBUG_BIN)" $(PYTHON) -m pytest -q tests/e2e

## API, pod and scheduler benchmarks against fresh release processes (figures go to docs/benchmarks.md by hand).
bench: build
	@scripts/bench.sh "$(RELEASE_BIN)"

clean:
	rm -rf .build .build-*
