#!/usr/bin/env bash
# From a fresh Debian 12 machine to a recorded run: installs what is missing,
# builds, and runs a small demo job under sqltrack-run on the default SQLite
# database in a demo directory, then shows what was recorded.
# Usage: scripts/quickstart.sh [DEMO_DIR]   (default ./demo)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
demo=${1:-$repo/demo}

scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSQLTRACK_BUILD_TESTS=OFF \
  -DSQLTRACK_BUILD_BENCH=OFF >/dev/null
ninja -C build/release
bin=$repo/build/release/src/cli

mkdir -p "$demo"
cd "$demo"
"$bin/sqltrack" setup
if "$bin/sqltrack-run" --help >/dev/null 2>&1; then
  "$bin/sqltrack-run" -e quickstart --tag lr=0.1 -- bash "$repo/scripts/demo-job.sh"
  "$bin/sqltrack-run" status
else
  sqlite3 -header -column sqltrack.db "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"
fi
echo "quickstart: the database is $demo/sqltrack.db"
