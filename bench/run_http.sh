#!/usr/bin/env bash
# HTTP benchmarks (issue 5), tiny_coro against nginx in the same run on the same machine:
#   - parser: bench/http_parser_bench (browser request, minimal request, chunked decoding);
#   - plaintext with wrk: bench/http_hello_server against nginx-light `return 200
#     "Hello, World!"` (access log off): (i) each server on core 0 with one worker, wrk on
#     core 1, 64 connections; (ii) unpinned, 2 workers, wrk with 2 threads, 256 connections;
#     (iii) as (i) with 16 requests pipelined per connection. 5 alternating rounds of 10 s,
#     medians; server CPU per request is user+sys from /proc over each round. A third server,
#     bench/floor_server (one recv and one send per request, nothing else), shows how far
#     any server can get below nginx on this machine's kernel;
#   - memory per idle keep-alive connection: RSS growth over 10,000 idle connections;
#   - upload: a 1 GiB PUT to tiny_httpd against the loopback+disk limit (a blocking
#     recv/write sink), both driven by bench/upload_bench, 5 alternating rounds;
#   - then bench/run_static.sh: tiny_httpd serving files against nginx serving the same
#     root (its own section; it can also run alone).
# Rewrites the "http" section of docs/BENCHMARKS.md and docs/img/http_vs_nginx.png.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --bench
cmake --preset release >/dev/null
cmake --build --preset release --target http_hello_server floor_server idle_connections upload_bench \
  tiny_httpd http_parser_bench

out=build/bench-results
mkdir -p "$out"
bin=build/release
scratch="$(mktemp -d)"
trap 'pkill -P $$ 2>/dev/null || true; rm -rf "$scratch"' EXIT
results="$out/http.txt"
: >"$results"
ulimit -n "$(ulimit -Hn)"  # 10,000 idle connections need as many descriptors

"$bin/bench/http_parser_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_format=json >"$out/http_parser.json"

source bench/server_helpers.sh

# nginx's config for N workers on PORT: `return 200`, as plaintext benchmarks use.
nginx_conf() { write_nginx_conf "$1" "$2" "" 'location / { return 200 "Hello, World!"; }'; }

server_pid=""
server_port=""
# start_server NAME WORKERS PINNED: starts tiny_coro's or nginx's plaintext server.
start_server() {
  local name=$1 workers=$2 pinned=$3
  local pin=()
  [[ $pinned == yes ]] && pin=(taskset -c 0)
  if [[ $name == tiny_coro || $name == floor ]]; then
    local program=("$bin/bench/http_hello_server")
    [[ $name == floor ]] && program=("$bin/bench/floor_server" http)
    "${pin[@]}" "${program[@]}" 0 "$workers" >"$scratch/server.log" &
    server_pid=$!
    await_listening_line "$scratch/server.log"
  else
    start_nginx "$workers" / "${pin[@]}"
  fi
}

# run_case CASE NAME: one wrk round against a fresh server.
run_case() {
  local case=$1 name=$2
  local workers=1 pinned=yes wrk_args=(-t1 -c64) wrk_pin=(taskset -c 1) script=()
  if [[ $case == ii ]]; then workers=2; pinned=no; wrk_args=(-t2 -c256); wrk_pin=(); fi
  if [[ $case == iii ]]; then script=(-s bench/wrk_pipeline.lua); fi
  start_server "$name" "$workers" "$pinned"
  # Warm-up: connections, caches, the page cache for the binary.
  "${wrk_pin[@]}" wrk "${wrk_args[@]}" -d2s "${script[@]}" "http://127.0.0.1:$server_port/" >/dev/null
  local before after
  before=$(cpu_ticks)
  "${wrk_pin[@]}" wrk "${wrk_args[@]}" -d10s --latency "${script[@]}" "http://127.0.0.1:$server_port/" \
    >"$scratch/wrk.txt"
  after=$(cpu_ticks)
  stop_server
  python3 bench/parse_wrk.py "$case" "$name" "$((after - before))" "$scratch/wrk.txt" >>"$results"
}

for case in i ii iii; do
  # Five rounds: a single round on this VM swings by ±10%, for nginx as much as for us.
  for _ in 1 2 3 4 5; do
    run_case "$case" tiny_coro
    run_case "$case" nginx
    run_case "$case" floor
  done
done

# Memory per idle keep-alive connection: RSS before and with 10,000 idle connections.
for name in tiny_coro nginx; do
  start_server "$name" 2 no
  curl -s "http://127.0.0.1:$server_port/" >/dev/null
  base=$(rss_kib)
  coproc IDLE { "$bin/bench/idle_connections" "$server_port" 10000; }
  read -r ready <&"${IDLE[0]}"
  loaded=$(rss_kib)
  eval "exec ${IDLE[1]}>&-"
  wait "$IDLE_PID" || true
  stop_server
  echo "idle server $name connections 10000 base_kib $base loaded_kib $loaded ($ready)" >>"$results"
done

# Upload: 1 GiB PUT, tiny_httpd against the loopback+disk limit, 5 alternating rounds (the
# page cache's writeback makes single runs swing by 2x).
upload_dir="$out/upload"
for _ in 1 2 3 4 5; do
  # Each run starts with no dirty pages, so neither side pays for the other's writeback.
  rm -rf "$upload_dir" && mkdir -p "$upload_dir" && sync
  "$bin/bench/upload_bench" sink 0 "$upload_dir" >"$scratch/sink.log" &
  sink_pid=$!
  await_listening_line "$scratch/sink.log"
  echo "upload limit $("$bin/bench/upload_bench" put "$server_port" /sink.bin 1073741824)" >>"$results"
  wait "$sink_pid" || true
  rm -rf "$upload_dir" && mkdir -p "$upload_dir" && sync
  "$bin/apps/tiny_httpd/tiny_httpd" --root "$upload_dir" --port 0 --host 127.0.0.1 --threads 2 \
    --quiet >"$scratch/httpd.log" &
  httpd_pid=$!
  await_listening_line "$scratch/httpd.log"
  rate=$("$bin/bench/upload_bench" put "$server_port" /big.bin 1073741824)
  echo "upload tiny_httpd $rate peak_rss_kib $(awk '/^VmHWM/ {print $2}' "/proc/$httpd_pid/status")" >>"$results"
  kill -TERM "$httpd_pid"
  wait "$httpd_pid" || true
done
rm -rf "$upload_dir"

python3 bench/report_http.py "$out" docs/BENCHMARKS.md "bench/run_http.sh"

bench/run_static.sh
