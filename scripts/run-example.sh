#!/usr/bin/env bash
# Builds tiny_coro and runs one of the manual's examples (default: hello).
set -euo pipefail
cd "$(dirname "$0")/.."
example="${1:-hello}"

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target "$example"
exec "build/release/examples/$example"
