#!/usr/bin/env bash
# TCP benchmarks: echo (64-byte messages, 100 connections) against tiny_coro's
# examples/echo_server and the Boost.Asio 1.81 peer (bench/asio/echo_asio_server.cpp), both
# with 2 threads and both driven by the same load generator (bench/echo_load), alternating,
# ROUNDS rounds each (default 7: single rounds swing by 1.5x on this VM), beside bench/floor_server (the least work a server can do per message);
# then 1 GiB bulk transfer against the blocking loopback limit (bench/bulk_transfer).
# Rewrites the "net" section of docs/BENCHMARKS.md.
#   bench/run_net.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-7}

scripts/install-deps.sh --bench
cmake --preset release >/dev/null
cmake --build --preset release --target echo_server echo_asio_server floor_server echo_load bulk_transfer

out=build/bench-results
mkdir -p "$out"
bin=build/release
: >"$out/net_echo.txt"

# Starts a server that prints "listening on HOST:PORT", runs the load against it, stops it.
measure() {
  local name=$1
  shift
  local log="$out/net_server_$name.log"
  "$@" >"$log" &
  local pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.05; done
  local port
  port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$log")
  echo "server $name" >>"$out/net_echo.txt"
  "$bin/bench/echo_load" "$port" 100 2000 64 >>"$out/net_echo.txt"
  # The server's CPU time (user + sys, clock ticks) over the whole run: 200,000 requests.
  echo "server_cpu_ticks $(awk '{print $14 + $15}' "/proc/$pid/stat")" >>"$out/net_echo.txt"
  kill -TERM "$pid"
  wait "$pid" || true
}

for _ in $(seq "$rounds"); do
  measure tiny_coro "$bin/examples/echo_server" 0
  measure asio "$bin/bench/echo_asio_server" 0 2
  measure floor "$bin/bench/floor_server" echo 0 2
done
"$bin/bench/bulk_transfer" >"$out/net_bulk.txt"

python3 bench/report_net.py "$out" docs/BENCHMARKS.md "bench/run_net.sh $rounds" "$rounds"
