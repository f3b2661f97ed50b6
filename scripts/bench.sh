#!/usr/bin/env bash
# API benchmark: starts its own server in a temporary data dir (any free port) and prints the figures.
set -euo pipefail
bin=$1
timeout 900 "$bin" bench api "${@:2}"
