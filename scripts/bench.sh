#!/usr/bin/env bash
# Benchmarks: each starts its own server (and agent) in a temporary data dir on free ports and prints its figures.
set -euo pipefail
bin=$1
timeout 900 "$bin" bench api
timeout 900 "$bin" bench pods
timeout 900 "$bin" bench scheduler
timeout 900 "$bin" bench services
