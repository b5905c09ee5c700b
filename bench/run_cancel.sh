#!/usr/bin/env bash
# Runs the cancellation benchmarks against Tokio 1.24 (bench/tokio, Debian's crates) and
# Boost.Asio 1.81 in one run, plus an A/B of
# the runtime and sync benchmarks against the commit before cancellation (built in its own
# worktree), and rewrites the cancellation section of docs/BENCHMARKS.md and its plot.
#   bench/run_cancel.sh [BEFORE_COMMIT]     default: b6cdee4, the last commit without it
set -euo pipefail
cd "$(dirname "$0")/.."
before="${1:-b6cdee4}"

scripts/install-deps.sh --bench
cmake --preset release >/dev/null
cmake --build --preset release --target cancel_bench cancel_asio_bench runtime_bench sync_bench
# From its own directory: cargo finds .cargo/config.toml (Debian's crates) from where it runs.
(cd bench/tokio && cargo build --release --offline --quiet --target-dir ../../build/tokio)

out=build/bench-results
mkdir -p "$out"
bin=build/release/bench

# A: the commit before, built once in a worktree of its own.
ab=build/ab-before
if [[ ! -d "$ab/src" ]]; then
  rm -rf "$ab"
  git worktree add -f --detach "$ab/src" "$before" >/dev/null
fi
git -C "$ab/src" checkout -q --detach "$before"  # another A/B may have left it elsewhere
cmake -S "$ab/src" -B "$ab/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=g++ \
  >/dev/null
cmake --build "$ab/build" --target runtime_bench sync_bench -j2 >/dev/null

"$bin/cancel_bench" --benchmark_format=json --benchmark_out="$out/cancel_tiny_coro.json" \
  --benchmark_out_format=json >/dev/null
"$bin/cancel_asio_bench" --benchmark_format=json --benchmark_out="$out/cancel_asio.json" \
  --benchmark_out_format=json >/dev/null
build/tokio/release/cancel_tokio_bench >"$out/cancel_tokio.json"
"$bin/cancel_bench" --rss-after-cancel >"$out/cancel_rss.txt"

rm -f "$out"/ab_*.json
for round in 1 2; do
  for side in before after; do
    if [[ $side == before ]]; then dir="$ab/build/bench"; else dir="$bin"; fi
    "$dir/runtime_bench" --benchmark_format=json --benchmark_out_format=json \
      --benchmark_out="$out/ab_${side}_runtime_$round.json" >/dev/null
    "$dir/sync_bench" --benchmark_format=json --benchmark_out_format=json \
      --benchmark_out="$out/ab_${side}_sync_$round.json" >/dev/null
  done
done

python3 bench/report_cancel.py "$out" docs/BENCHMARKS.md docs/img/cancel_vs_peers.png \
  "bench/run_cancel.sh"
