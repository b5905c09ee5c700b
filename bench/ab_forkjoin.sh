#!/usr/bin/env bash
# Two or more builds of forkjoin_bench (or of a peer's program taking the same arguments),
# one workload, alternating rounds: on this machine a phase can slow everything by a third
# for a minute, and only binaries run turn about in the same minutes compare. Prints each
# binary's median, fastest and slowest "duration" of its timed runs, in milliseconds.
#   bench/ab_forkjoin.sh ROUNDS "WORKLOAD ARGS" BINARY...
#   e.g. bench/ab_forkjoin.sh 5 "skynet 1" old/forkjoin_bench build/release/bench/forkjoin_bench
set -euo pipefail
usage="usage: bench/ab_forkjoin.sh ROUNDS \"WORKLOAD ARGS\" BINARY..."
rounds=${1:?$usage}
read -r -a args <<<"${2:?$usage}"
shift 2
[[ $# -ge 1 ]] || { echo "$usage" >&2; exit 2; }

declare -A durations
for ((round = 0; round < rounds; round++)); do
  for binary in "$@"; do
    us=$("$binary" "${args[@]}" | awk '/duration:/ {print $2}')
    [[ -n $us ]] || { echo "$binary ${args[*]}: no duration printed" >&2; exit 1; }
    durations[$binary]+=" $us"
  done
done
for binary in "$@"; do
  # shellcheck disable=SC2086  # the list is numbers, one per round
  printf '%s\n' ${durations[$binary]} | sort -n | awk -v name="$binary" -v what="${args[*]}" '
    { us[NR] = $1 }
    END { printf "%s %s: median %.0f ms (%.0f-%.0f, %d rounds)\n", name, what,
                 us[int((NR + 1) / 2)] / 1000, us[1] / 1000, us[NR] / 1000, NR }'
done
