#!/usr/bin/env bash
# spawn_blocking round trips against Tokio 1.24's (bench/tokio, Debian's crates) in one run:
# ROUNDS alternating runs of each program, medians of each row.
#   bench/run_blocking.sh [ROUNDS]      default 5
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
cmake --preset release >/dev/null
cmake --build --preset release --target blocking_bench >/dev/null
(cd bench/tokio && cargo build --release --offline --quiet --target-dir ../../build/tokio)
out=$(mktemp -d)
for ((round = 1; round <= rounds; round++)); do
  build/release/bench/blocking_bench >>"$out/tiny_coro.txt"
  build/tokio/release/blocking_tokio_bench >>"$out/tokio.txt"
done
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
printf '%-28s %12s %12s %8s\n' row "tiny_coro ns" "Tokio ns" ratio
for row in spawn_blocking_sequential spawn_blocking_16_tasks run_blocking_sequential run_blocking_16_tasks; do
  ours=$(awk -v r="$row" '$1 == r {print $2}' "$out/tiny_coro.txt" | median)
  peer_row=${row/run_blocking/spawn_blocking}  # Tokio has one form; the inline one is compared to it
  theirs=$(awk -v r="$peer_row" '$1 == r {print $2}' "$out/tokio.txt" | median)
  printf '%-28s %12s %12s %8s\n' "$row" "$ours" "$theirs" \
    "$(awk -v a="$ours" -v b="$theirs" 'BEGIN {printf "%.2f", a / b}')"
done
# Workers are never blocked: the ping-pong's round trip beside 100 sleeping calls, ÷ alone.
alone=$(awk '$1 == "ping_pong_alone" {print $2}' "$out/tiny_coro.txt" | median)
beside=$(awk '$1 == "ping_pong_beside_100_sleeping_calls" {print $2}' "$out/tiny_coro.txt" | median)
printf '%-28s %12s %12s %8s\n' "ping_pong ns (alone/beside)" "$alone" "$beside" \
  "$(awk -v a="$beside" -v b="$alone" 'BEGIN {printf "%.2f", a / b}')"
rm -rf "$out"
