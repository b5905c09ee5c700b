#!/usr/bin/env bash
# 1 GiB written through the async file API (bench/file_write_bench: FileWriter, and a plain
# File::write loop) against dd writing the same to the same disk, all ending in fsync;
# alternating rounds, medians.
#   bench/run_file.sh [ROUNDS] [MiB] [fresh|rewrite]   defaults: 5, 1024, fresh; under build/
# fresh: each writer creates the file anew (dd's default). rewrite: each writes over the
# same file in place (dd conv=notrunc), whose pages are cached, so no page is allocated:
# on this VM a page the guest freed a few seconds earlier is handed back to the host (virtio
# free page reporting) and costs a host fault when it is used again, which makes fresh rounds
# 2-4× slower at random, for dd as for everyone (docs/BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
mebibytes="${2:-1024}"
mode="${3:-fresh}"
cmake --preset release >/dev/null
cmake --build --preset release --target file_write_bench >/dev/null
target=build/file_bench.bin
dd_flags=fsync
if [ "$mode" = rewrite ]; then
  export FILE_BENCH_REWRITE=1
  dd_flags=notrunc,fsync
  rm -f "$target"
  dd if=/dev/zero of="$target" bs=1M count="$mebibytes" conv=fsync 2>/dev/null
fi
# Before each writer: in fresh mode the file goes; in both, nothing dirty is left behind.
prepare() {
  if [ "$mode" = fresh ]; then rm -f "$target"; fi
  sync
}
ours=()
plains=()
threads=()
dds=()
for ((round = 1; round <= rounds; round++)); do
  prepare
  ours+=("$(build/release/bench/file_write_bench "$target" "$mebibytes" | awk '{print $1}')")
  prepare
  plains+=("$(build/release/bench/file_write_bench "$target" "$mebibytes" plain | awk '{print $1}')")
  prepare
  threads+=("$(build/release/bench/file_write_bench "$target" "$mebibytes" thread | awk '{print $1}')")
  prepare
  # dd prints "... copied, S s, R MB/s"; recompute from bytes and seconds for one decimal.
  dds+=("$(dd if=/dev/zero of="$target" bs=1M count="$mebibytes" conv="$dd_flags" 2>&1 |
           awk '/copied/ {printf "%.1f", $1 / $(NF-3) / 1e6}')")
done
rm -f "$target"
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
m_ours=$(median "${ours[@]}")
m_plain=$(median "${plains[@]}")
m_thread=$(median "${threads[@]}")
m_dd=$(median "${dds[@]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "mode: $mode"
echo "rounds: FileWriter ${ours[*]} | File::write ${plains[*]} | plain thread ${threads[*]} | dd ${dds[*]} (MB/s)"
echo "median: FileWriter ${m_ours} MB/s ($(ratio "$m_ours" "$m_dd")× dd, $(ratio "$m_ours" "$m_thread")× thread)," \
  "File::write loop ${m_plain} MB/s ($(ratio "$m_plain" "$m_dd")× dd), plain thread ${m_thread} MB/s" \
  "($(ratio "$m_thread" "$m_dd")× dd), dd ${m_dd} MB/s"
