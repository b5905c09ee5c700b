#!/usr/bin/env bash
# What await tracking (dump_tasks' await chains) costs: runtime_bench and sync_bench from
# three builds, run in alternating rounds on this machine, medians per row:
#   before  the tree at BEFORE (default 084559d, the commit before tracking existed)
#   off     this tree with -DTINY_CORO_TRACK_AWAITS=OFF
#   on      this tree as shipped (tracking on)
#   bench/run_tracking_ab.sh [ROUNDS] [BEFORE]      default 11 084559d
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-11}
before=${2:-084559d}

cmake --preset release >/dev/null
cmake --build --preset release --target runtime_bench sync_bench
cmake -S . -B build/notrack-bench -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=g++ \
  -DTINY_CORO_TRACK_AWAITS=OFF -DTINY_CORO_BUILD_TESTS=OFF -DTINY_CORO_BUILD_EXAMPLES=OFF \
  >/dev/null
cmake --build build/notrack-bench -j2 --target runtime_bench sync_bench
# shellcheck source=bench/ab_support.sh
source bench/ab_support.sh
build_tree_at "$before" ab-tracking runtime_bench sync_bench

out=build/bench-results/tracking_ab
run_ab_rounds "$out" "$rounds" before=build/ab-tracking/build/bench \
  off=build/notrack-bench/bench on=build/release/bench
python3 bench/report_ab.py "$out" "$rounds" "before = $before" before off on
