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
python3 - "$out" "$rounds" "$before" <<'PY'
import json, pathlib, statistics, sys
out, rounds, before = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rows = {}
for path in out.glob("*.json"):
    build = path.name.split("-")[0]
    for b in json.loads(path.read_text())["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"].split("/")[0]
        rows.setdefault(name, {}).setdefault(build, []).append(b["real_time"])
print(f"{rounds} alternating rounds; ms per run, median of the rounds' medians; before = {before}")
print("| row | before | OFF | ON | ON ÷ before | ON ÷ OFF |")
print("|---|---|---|---|---|---|")
for name, builds in rows.items():
    m = {k: statistics.median(v) for k, v in builds.items()}
    print(f"| {name} | {m['before']:.1f} | {m['off']:.1f} | {m['on']:.1f} | "
          f"{m['on'] / m['before']:.3f} | {m['on'] / m['off']:.3f} |")
PY
