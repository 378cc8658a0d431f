#!/usr/bin/env bash
# The demo part of the quick start, on a tree that is already built: sets up the
# default SQLite database in a demo directory, runs scripts/demo-job.sh under
# sqltrack-run and shows the run with its metric.
# Usage: scripts/demo.sh BUILD_DIR [DEMO_DIR]   (default ./demo; BUILD_DIR holds src/cli/)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: scripts/demo.sh BUILD_DIR [DEMO_DIR]}" && pwd)
bin=$build/src/cli
demo=${2:-$repo/demo}

mkdir -p "$demo"
cd "$demo"
"$bin/sqltrack" setup
"$bin/sqltrack-run" -e quickstart --tag lr=0.1 -- bash "$repo/scripts/demo-job.sh"
"$bin/sqltrack-run" status --metric train_loss
echo "demo: the database is $demo/sqltrack.db"
