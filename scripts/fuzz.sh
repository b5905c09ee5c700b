#!/usr/bin/env bash
# Builds the libFuzzer targets (the fuzz preset) and runs each for a share of SECONDS (default
# 60 in all), starting from fuzz/corpus/<target> with fuzz/http.dict. The corpus grows in a
# scratch directory, never in the tree. A crash fails the script and leaves its input in
# build/fuzz-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
total="${1:-60}"

scripts/install-deps.sh
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

targets=(http_parser_fuzz:http_request chunked_decoder_fuzz:chunked http_server_fuzz:http_server)
share=$(( total / ${#targets[@]} ))
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for entry in "${targets[@]}"; do
  target="${entry%%:*}"
  seeds="fuzz/corpus/${entry##*:}"
  corpus="$scratch/$target"
  mkdir -p "$corpus"
  cp "$seeds"/* "$corpus"/
  echo "fuzzing $target for ${share}s"
  mkdir -p build/fuzz-artifacts
  "build/fuzz/fuzz/$target" -max_total_time="$share" -dict=fuzz/http.dict -max_len=4096 \
    -artifact_prefix=build/fuzz-artifacts/ -print_final_stats=1 "$corpus" 2>&1 | tail -12
done
