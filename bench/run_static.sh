#!/usr/bin/env bash
# tiny_httpd serving files against nginx serving the same files (issue: tiny_httpd vs nginx),
# in alternating rounds on one machine. nginx is tuned as its users tune it for static files:
# sendfile, tcp_nopush, open_file_cache (max=1000, valid 60 s), access log off (tiny_httpd
# --quiet). Cases, each ROUNDS (default 5) rounds of 10 s per server, medians:
#   i    /hello.txt (13 B), each server one worker on core 0, wrk on core 1, 64 connections;
#   ii   the same unpinned, 2 workers, wrk 2 threads, 256 connections;
#   iii  as (i) with 16 requests pipelined per connection;
#   mix  200 files of 1 KiB-1 MiB, Zipf-like popularity, 10% conditional (make_site.py),
#        2 workers, 64 connections;
#   1m   a 1 MiB file, 2 workers, 16 connections;   1g  a 1 GiB file, 2 workers, 4 connections.
# ROUNDS and CASES (a subset, e.g. CASES="i mix") shorten a run made to try a change.
# Server CPU per request is user+sys from /proc over each round. bench/floor_server runs in
# the same rounds as the floor (files mode: every file opened at start, one recv, head and
# sendfile per request, no freshness; for the 13-byte cases its canned 13-byte answer): no
# server can use less CPU per request, so a ratio it cannot reach is below the floor.
# Then freshness_check.py against tiny_httpd and nginx: is either ever stale 10 ms after a
# change?
# Writes build/bench-results/static.txt; report_static.py turns it into docs/BENCHMARKS.md's
# "tiny_httpd serving files" section and docs/img/static_vs_nginx.png.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --bench
cmake --preset release >/dev/null
cmake --build --preset release --target tiny_httpd floor_server

rounds=${ROUNDS:-5}
cases=${CASES:-i ii iii mix 1m 1g}  # a subset to try a change: CASES="i mix"
out=build/bench-results
mkdir -p "$out"
bin=build/release
site="$out/static-site"  # kept between runs: the 1 GiB file takes a while to write
scratch="$(mktemp -d)"
trap 'pkill -P $$ 2>/dev/null || true; rm -rf "$scratch"' EXIT
results="$out/static.txt"
: >"$results"
python3 bench/make_site.py "$site" "$scratch/mix_requests.txt"
root="$(cd "$site" && pwd)"

source bench/server_helpers.sh

# nginx as its users tune it for static files (the issue's configuration).
nginx_conf() {
  write_nginx_conf "$1" "$2" "include /etc/nginx/mime.types; sendfile on; tcp_nopush on;
  open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s;" "root $root;"
}

server_pid=""
server_port=""
start_server() {  # NAME WORKERS PINNED CASE
  local name=$1 workers=$2 pinned=$3 case=${4:-}
  local pin=()
  [[ $pinned == yes ]] && pin=(taskset -c 0)
  if [[ $name == tiny_httpd || $name == floor ]]; then
    if [[ $name == tiny_httpd ]]; then
      "${pin[@]}" "$bin/apps/tiny_httpd/tiny_httpd" --root "$root" --host 127.0.0.1 --port 0 \
        --threads "$workers" --quiet >"$scratch/server.log" &
    elif [[ $case == i || $case == ii || $case == iii ]]; then
      "${pin[@]}" "$bin/bench/floor_server" http 0 "$workers" >"$scratch/server.log" &
    else
      "${pin[@]}" "$bin/bench/floor_server" files 0 "$workers" "$root" >"$scratch/server.log" &
    fi
    server_pid=$!
    await_listening_line "$scratch/server.log"
  else
    start_nginx "$workers" /hello.txt "${pin[@]}"
  fi
}

run_case() {  # CASE NAME
  local case=$1 name=$2
  local workers=2 pinned=no wrk_pin=() wrk_args=(-t2 -c256) path=/hello.txt script=()
  case $case in
    i) workers=1 pinned=yes wrk_pin=(taskset -c 1) wrk_args=(-t1 -c64) ;;
    iii) workers=1 pinned=yes wrk_pin=(taskset -c 1) wrk_args=(-t1 -c64)
         script=(-s bench/wrk_pipeline.lua) ;;
    mix) wrk_args=(-t2 -c64) path=/ script=(-s bench/wrk_site_mix.lua) ;;
    1m) wrk_args=(-t2 -c16) path=/1m.bin ;;
    1g) wrk_args=(-t2 -c4 --timeout 60s) path=/1g.bin ;;
  esac
  local tail_args=()
  [[ $case == iii ]] && tail_args=(-- "$path")
  [[ $case == mix ]] && tail_args=(-- "$scratch/mix_requests.txt")
  start_server "$name" "$workers" "$pinned" "$case"
  "${wrk_pin[@]}" wrk "${wrk_args[@]}" -d2s "${script[@]}" "http://127.0.0.1:$server_port$path" \
    "${tail_args[@]}" >/dev/null
  local before after
  before=$(cpu_ticks)
  "${wrk_pin[@]}" wrk "${wrk_args[@]}" -d10s --latency "${script[@]}" \
    "http://127.0.0.1:$server_port$path" "${tail_args[@]}" >"$scratch/wrk.txt"
  after=$(cpu_ticks)
  stop_server
  python3 bench/parse_wrk.py "$case" "$name" "$((after - before))" "$scratch/wrk.txt" >>"$results"
}

for case in $cases; do
  for _ in $(seq "$rounds"); do
    run_case "$case" tiny_httpd
    run_case "$case" nginx
    run_case "$case" floor
  done
done

for name in tiny_httpd nginx; do
  start_server "$name" 2 no
  python3 bench/freshness_check.py "$server_port" "$root" | sed "s/^/fresh server $name /" >>"$results"
  stop_server
done
rm -f "$root"/fresh_*

python3 bench/report_static.py "$out" docs/BENCHMARKS.md "bench/run_static.sh"
