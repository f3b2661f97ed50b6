#!/usr/bin/env bash
# Benchmarks: each starts its own server (and agent) in a temporary data dir on free ports and prints its figures.
set -euo pipefail
bin=$1
timeout 900 "$bin" bench api
timeout 900 "$bin" bench pods
timeout 900 "$bin" bench scheduler
timeout 900 "$bin" bench services
# The load test shortened, with a short soak (the full one: tug bench scale --duration 3600, 5,000 nodes and
# 150,000 pods, then an hour with 2,000 watchers and churn).
timeout 1800 "$bin" bench scale --nodes 500 --pods 15000 --deployments 10 --duration 120 --watchers 500 --churn 10
