#!/usr/bin/env bash
# 1 GiB written through the async file API (bench/file_write_bench) against dd writing the
# same to the same disk, both ending in fsync; alternating rounds, medians.
#   bench/run_file.sh [ROUNDS] [MiB]      defaults: 5 rounds, 1024 MiB, files under build/
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
mebibytes="${2:-1024}"
cmake --preset release >/dev/null
cmake --build --preset release --target file_write_bench >/dev/null
target=build/file_bench.bin
ours=()
dds=()
for ((round = 1; round <= rounds; round++)); do
  rm -f "$target"; sync
  ours+=("$(build/release/bench/file_write_bench "$target" "$mebibytes" | awk '{print $1}')")
  rm -f "$target"; sync
  # dd prints "... copied, S s, R MB/s"; recompute from bytes and seconds for one decimal.
  dds+=("$(dd if=/dev/zero of="$target" bs=1M count="$mebibytes" conv=fsync 2>&1 |
           awk '/copied/ {printf "%.1f", $1 / $(NF-3) / 1e6}')")
done
rm -f "$target"
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
m_ours=$(median "${ours[@]}")
m_dd=$(median "${dds[@]}")
echo "rounds: ours ${ours[*]} | dd ${dds[*]} (MB/s)"
echo "median: tiny_coro File ${m_ours} MB/s, dd ${m_dd} MB/s, ratio $(awk -v a="$m_ours" -v b="$m_dd" 'BEGIN {printf "%.2f", a / b}')"
