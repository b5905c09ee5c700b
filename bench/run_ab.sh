#!/usr/bin/env bash
# "Nothing else slows": runtime_bench and sync_bench from the tree at BEFORE and from this
# tree, run in alternating rounds on this machine, medians per row, ratio after ÷ before.
#   bench/run_ab.sh BEFORE [ROUNDS]        ROUNDS defaults to 5
set -euo pipefail
cd "$(dirname "$0")/.."
before=${1:?usage: bench/run_ab.sh BEFORE [ROUNDS]}
rounds=${2:-5}

cmake --preset release >/dev/null
cmake --build --preset release --target runtime_bench sync_bench
tree=build/ab-before/src
if [ ! -d "$tree" ]; then git worktree add --detach "$tree" "$before" >/dev/null; fi
git -C "$tree" checkout -q --detach "$before"
cmake -S "$tree" -B build/ab-before/build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=g++ -DTINY_CORO_BUILD_TESTS=OFF -DTINY_CORO_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/ab-before/build -j2 --target runtime_bench sync_bench

out=build/bench-results/ab
mkdir -p "$out"
rm -f "$out"/*.json
for round in $(seq 1 "$rounds"); do
  for build in before after; do
    dir=build/release/bench
    [[ $build == before ]] && dir=build/ab-before/build/bench
    for bench in runtime_bench sync_bench; do
      "$dir/$bench" --benchmark_format=json --benchmark_out="$out/$build-$bench-$round.json" \
        --benchmark_out_format=json >/dev/null
    done
  done
done
python3 bench/report_ab.py "$out" "$rounds" "before = $before, after = $(git rev-parse --short HEAD)" \
  before after
