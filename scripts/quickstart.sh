#!/usr/bin/env bash
# From a fresh Debian 12 machine to a recorded run: installs what is missing,
# builds, and runs scripts/demo.sh: a small demo job under sqltrack-run on the
# default SQLite database in a demo directory, then what was recorded.
# Usage: scripts/quickstart.sh [DEMO_DIR]   (default ./demo)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
demo=${1:-$repo/demo}

scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSQLTRACK_BUILD_TESTS=OFF \
  -DSQLTRACK_BUILD_BENCH=OFF >/dev/null
ninja -C build/release
scripts/demo.sh build/release "$demo"
