# Sourced by the A/B scripts (run_ab.sh, run_tracking_ab.sh).
#
# build_tree_at REV NAME TARGET...
# Checks REV out in the worktree build/NAME/src (made on first use) and builds TARGET... there
# as the release preset does (g++, RelWithDebInfo), without tests or examples, into
# build/NAME/build.
build_tree_at() {
  local rev=$1 name=$2
  shift 2
  local tree=build/$name/src
  if [ ! -d "$tree" ]; then git worktree add --detach "$tree" "$rev" >/dev/null; fi
  git -C "$tree" checkout -q --detach "$rev"
  cmake -S "$tree" -B "build/$name/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=g++ -DTINY_CORO_BUILD_TESTS=OFF -DTINY_CORO_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "build/$name/build" -j2 --target "$@"
}

# run_ab_rounds OUT ROUNDS NAME=DIR...: in each of ROUNDS rounds, runs runtime_bench and
# sync_bench from each DIR in turn (alternating, so slow phases of the machine hit every
# build alike), writing OUT/NAME-BENCH-ROUND.json for report_ab.py.
run_ab_rounds() {
  local out=$1 rounds=$2
  shift 2
  mkdir -p "$out"
  rm -f "$out"/*.json
  local round build bench
  for round in $(seq 1 "$rounds"); do
    for build in "$@"; do
      for bench in runtime_bench sync_bench; do
        "${build#*=}/$bench" --benchmark_format=json \
          --benchmark_out="$out/${build%%=*}-$bench-$round.json" --benchmark_out_format=json \
          >/dev/null
      done
    done
  done
}
