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
tree=build/ab-tracking/src
if [ ! -d "$tree" ]; then git worktree add --detach "$tree" "$before" >/dev/null; fi
git -C "$tree" checkout -q --detach "$before"
cmake -S "$tree" -B build/ab-tracking/build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=g++ -DTINY_CORO_BUILD_TESTS=OFF -DTINY_CORO_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/ab-tracking/build -j2 --target runtime_bench sync_bench

out=build/bench-results/tracking_ab
mkdir -p "$out"
rm -f "$out"/*.json
for round in $(seq 1 "$rounds"); do
  for build in before off on; do
    case $build in
      before) dir=build/ab-tracking/build/bench ;;
      off) dir=build/notrack-bench/bench ;;
      on) dir=build/release/bench ;;
    esac
    for bench in runtime_bench sync_bench; do
      "$dir/$bench" --benchmark_format=json --benchmark_out="$out/$build-$bench-$round.json" \
        --benchmark_out_format=json >/dev/null
    done
  done
done
python3 bench/report_ab.py "$out" "$rounds" "before = $before" before off on
