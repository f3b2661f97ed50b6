#!/usr/bin/env bash
# Stops the server started by `make up` (SIGTERM: graceful shutdown).
set -euo pipefail
pidfile="$1/server.pid"
[[ -f $pidfile ]] || { echo "no server pid file in $1"; exit 0; }
pid=$(cat "$pidfile")
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { echo "server did not stop in 10s; killing"; kill -KILL "$pid"; }
fi
rm -f "$pidfile"
echo "tug server stopped"
