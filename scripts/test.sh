#!/usr/bin/env bash
# Builds tiny_coro and runs the whole test suite in one build mode (a CMakePresets.json
# preset: release — the default —, debug, asan or tsan), installing what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"

scripts/install-deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset"
