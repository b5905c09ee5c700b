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
# shellcheck source=bench/ab_support.sh
source bench/ab_support.sh
build_tree_at "$before" ab-before runtime_bench sync_bench

out=build/bench-results/ab
run_ab_rounds "$out" "$rounds" before=build/ab-before/build/bench after=build/release/bench
python3 bench/report_ab.py "$out" "$rounds" "before = $before, after = $(git rev-parse --short HEAD)" \
  before after
