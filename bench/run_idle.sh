#!/usr/bin/env bash
# Memory per idle keep-alive connection, alone and quickly: bench/run_http.sh's idle phase
# (10,000 connections to bench/http_hello_server with 2 workers, RSS before and with them),
# repeated ROUNDS times, for one build or, to A/B two commits, for each build given.
#
#   bench/run_idle.sh [ROUNDS] [BUILD_DIR...]        default: 3 build/release
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-3}
shift || true
builds=("$@")
[[ ${#builds[@]} -eq 0 ]] && builds=(build/release)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

measure() {
  local bin=$1
  "$bin/bench/http_hello_server" 0 2 >"$scratch/server.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$scratch/server.log" && break; sleep 0.05; done
  local port
  port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$scratch/server.log")
  curl -s "http://127.0.0.1:$port/" >/dev/null
  local base loaded ready
  base=$(rss_kib "$pid")
  coproc IDLE { "$bin/bench/idle_connections" "$port" 10000; }
  read -r ready <&"${IDLE[0]}"
  loaded=$(rss_kib "$pid")
  eval "exec ${IDLE[1]}>&-"
  wait "$IDLE_PID" || true
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  echo "$bin: $(((loaded - base) * 1024 / 10000)) bytes per idle connection ($ready)"
}

for _ in $(seq "$rounds"); do
  for bin in "${builds[@]}"; do measure "$bin"; done
done
