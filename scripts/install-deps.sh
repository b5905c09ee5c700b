#!/usr/bin/env bash
# Installs the Debian packages that building, testing (and, with --bench, benchmarking)
# tiny_coro needs. Idempotent: installs only what is missing. Run as root (or with sudo).
set -euo pipefail

# chromium: tiny_httpd's browser test (tests/httpd/browser_test.cpp); python3-prometheus-client:
# the parser its metrics test reads the exposition with (tests/httpd/check_prometheus.py);
# nginx-light: the reverse proxy of docs/DEPLOY.md, run by tests/httpd/nginx_upstream_test.cpp.
packages=(g++ clang libclang-rt-14-dev cmake ninja-build libgtest-dev libgmock-dev
          libbenchmark-dev python3 python3-prometheus-client curl chromium nginx-light)
if [[ "${1:-}" == "--bench" ]]; then
  # librust-tokio-dev: the Tokio peer (bench/tokio), built offline from Debian's crates;
  # Debian's cargo only where no other cargo is on the PATH.
  packages+=(libboost1.81-dev gnuplot-nox wrk librust-tokio-dev)
  # libhwloc15, libtcmalloc-minimal4: what the prebuilt fork-join peers link (run_forkjoin.sh).
  packages+=(libhwloc15 libtcmalloc-minimal4)
  command -v cargo >/dev/null || packages+=(cargo)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$package")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
