#!/usr/bin/env bash
# Runs the synchronisation benchmarks against the Boost.Asio 1.81 peer in one run and
# rewrites the "sync" section of docs/BENCHMARKS.md (and its plot) from what it measured.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --bench
cmake --preset release >/dev/null
cmake --build --preset release --target sync_bench sync_asio_bench core_to_core_probe

out=build/bench-results
mkdir -p "$out"
bin=build/release/bench
"$bin/core_to_core_probe" >"$out/core_to_core_sync.txt"
"$bin/sync_bench" --benchmark_format=json --benchmark_out="$out/sync_tiny_coro.json" \
  --benchmark_out_format=json >/dev/null
"$bin/sync_asio_bench" --benchmark_format=json --benchmark_out="$out/sync_asio.json" \
  --benchmark_out_format=json >/dev/null
"$bin/core_to_core_probe" >>"$out/core_to_core_sync.txt"

python3 bench/report_sync.py "$out" docs/BENCHMARKS.md docs/img/sync_vs_asio.png "bench/run_sync.sh"
