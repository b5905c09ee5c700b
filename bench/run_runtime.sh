#!/usr/bin/env bash
# Runs the runtime benchmarks against the Boost.Asio 1.81 peer in one run on this machine and
# rewrites the "runtime" section of docs/BENCHMARKS.md (and its plot) from what it measured.
#   bench/run_runtime.sh            # installs Boost and gnuplot if missing, builds, runs
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --bench
cmake --preset release >/dev/null
cmake --build --preset release --target runtime_bench runtime_asio_bench steal_queue_bench \
  core_to_core_probe

out=build/bench-results
mkdir -p "$out"
bin=build/release/bench
"$bin/core_to_core_probe" >"$out/core_to_core.txt"
"$bin/runtime_bench" --benchmark_format=json --benchmark_out="$out/runtime_tiny_coro.json" \
  --benchmark_out_format=json >/dev/null
"$bin/runtime_asio_bench" --benchmark_format=json --benchmark_out="$out/runtime_asio.json" \
  --benchmark_out_format=json >/dev/null
"$bin/steal_queue_bench" --benchmark_format=json --benchmark_out="$out/steal_queue.json" \
  --benchmark_out_format=json >/dev/null
"$bin/runtime_bench" --rss-per-sleeper >"$out/rss_tiny_coro.txt"
"$bin/runtime_asio_bench" --rss-per-sleeper >"$out/rss_asio.txt"

"$bin/core_to_core_probe" >>"$out/core_to_core.txt"

python3 bench/report_runtime.py "$out" docs/BENCHMARKS.md docs/img/runtime_vs_asio.png \
  "bench/run_runtime.sh"
