#!/usr/bin/env bash
# Builds tiny_httpd and serves the directory this is run from (on port 8080 unless told
# otherwise; extra arguments go to tiny_httpd, e.g. --port 0). Ctrl-C stops it.
set -euo pipefail
here="$PWD"
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target tiny_httpd >&2
exec build/release/apps/tiny_httpd/tiny_httpd --root "$here" "$@"
