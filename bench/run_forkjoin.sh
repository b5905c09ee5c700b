#!/usr/bin/env bash
# The fork-join workloads of tzcnt/runtime-benchmarks — skynet (10^8 leaves), fib(39),
# nqueens(14) — run by bench/forkjoin_bench (tiny_coro's public API) and by the suite's own
# builds of libfork, TooManyCooks and citor (../shared/bench-peers/cpp-runtimes), all on 2
# threads, in ROUNDS (default 5) alternating rounds: within a round every program runs every
# workload once, so slow phases of the machine hit all of them alike. Each program runs a
# workload once untimed and once timed and prints "duration" and its peak RSS ("max_rss").
# tiny_coro's program runs twice, built by g++ (the project's compiler, release preset) and by
# clang (bench-clang preset; the peers were built by clang 19), each with the trees written
# two ways: Tasks and fork() (fork.h), and Jobs (job.h).
# Beside them, WORKLOAD-serial: the same tree on one worker with every child a tiny_coro Task
# awaited in place (no spawn, no join, no stealing), from each of the two builds. It
# is what tiny_coro's Task frames and the nodes' own work cost, so half of it is the floor for
# a two-worker run with this Task type; WORKLOAD-bare is the same tree with a bare coroutine
# type, half of which is the floor for any runtime with a coroutine frame per task built by
# that compiler.
# Writes build/bench-results/forkjoin.txt; report_forkjoin.py turns it into docs/BENCHMARKS.md's
# "fork-join" section and docs/img/forkjoin.png.
#   bench/run_forkjoin.sh             ROUNDS=1 WORKLOADS="fib" to try a change
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --bench
cmake --preset release >/dev/null
cmake --build --preset release --target forkjoin_bench
# The same program built by clang, the compiler family the peers were built with.
cmake --preset bench-clang >/dev/null
cmake --build --preset bench-clang --target forkjoin_bench

rounds=${ROUNDS:-5}
workloads=${WORKLOADS:-skynet fib nqueens}
threads=2
peers_dir=${PEERS_DIR:-../shared/bench-peers/cpp-runtimes}
out=build/bench-results
mkdir -p "$out"
results="$out/forkjoin.txt"
: >"$results"

# The arguments each workload takes after its program.
args_of() {
  case "$1" in
    fib) echo "39 $threads" ;;
    *) echo "$threads" ;;
  esac
}

# Runs one program on one workload and appends "WORKLOAD PROGRAM DURATION_US MAX_RSS_KIB".
measure() {  # WORKLOAD PROGRAM COMMAND...
  local workload=$1 program=$2
  shift 2
  local output
  if ! output=$("$@" 2>&1); then
    echo "$program $workload failed: $output" >&2
    return 1
  fi
  local duration rss
  duration=$(sed -n 's/^ *duration: \([0-9]*\) us$/\1/p' <<<"$output" | tail -1)
  rss=$(sed -n 's/^ *max_rss: \([0-9]*\) KiB$/\1/p' <<<"$output" | tail -1)
  echo "$workload $program $duration ${rss:--}" | tee -a "$results"
}

peers=()
for peer in libfork TooManyCooks citor; do
  if [[ -x "$peers_dir/$peer/fib" ]]; then peers+=("$peer"); else echo "no $peer in $peers_dir" >&2; fi
done

gxx_bench=build/release/bench/forkjoin_bench
clang_bench=build/bench-clang/bench/forkjoin_bench

for round in $(seq "$rounds"); do
  echo "round $round" >&2
  for workload in $workloads; do
    # shellcheck disable=SC2046  # the arguments are words
    measure "$workload" tiny_coro "$gxx_bench" "$workload" $(args_of "$workload")
    # shellcheck disable=SC2046  # the arguments are words
    measure "$workload" tiny_coro-clang "$clang_bench" "$workload" $(args_of "$workload")
    # The same trees as Jobs (job.h): results into the parent's slots, one join per frame.
    # shellcheck disable=SC2046  # the arguments are words
    measure "$workload" tiny_coro-job "$gxx_bench" "$workload-job" $(args_of "$workload")
    # shellcheck disable=SC2046  # the arguments are words
    measure "$workload" tiny_coro-job-clang "$clang_bench" "$workload-job" $(args_of "$workload")
    for peer in "${peers[@]}"; do
      # shellcheck disable=SC2046  # the arguments are words
      measure "$workload" "$peer" "$peers_dir/$peer/$workload" $(args_of "$workload")
    done
    # The same tree with spawn() and JoinHandle (child stealing) instead of fork().
    # shellcheck disable=SC2046  # the arguments are words
    measure "$workload" spawn "$gxx_bench" "$workload-spawn" $(args_of "$workload")
    # The floors, per compiler: the serial tree of Tasks, and the same tree with a bare
    # coroutine type (the compiler's part of the floor).
    for compiler in gxx clang; do
      program=$gxx_bench suffix=""
      [[ $compiler == clang ]] && program=$clang_bench suffix="-clang"
      for floor in serial bare; do
        # shellcheck disable=SC2046  # fib's floors take N, the others nothing
        measure "$workload" "$floor$suffix" "$program" "$workload-$floor" \
          $([[ $workload == fib ]] && echo 39)
      done
    done
  done
done

python3 bench/report_forkjoin.py "$results" docs/BENCHMARKS.md docs/img/forkjoin.png \
  "bench/run_forkjoin.sh"
