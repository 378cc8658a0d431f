#!/usr/bin/env bash
# `cmake --install` puts python/sqltrack_run.py where Debian's python3 looks: installs the
# build under a temporary DESTDIR and imports the helper with Debian's python3, its own
# dist-packages directories looked up under that DESTDIR first.
# Usage: python_helper_install.sh CMAKE BUILD_DIR
set -euo pipefail
cmake=$1
build=$2
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
DESTDIR=$dest "$cmake" --install "$build" >/dev/null
/usr/bin/python3 - "$dest" <<'PY'
import sys
dest = sys.argv[1]
sys.path[:0] = [dest + p for p in sys.path if p.endswith("dist-packages")]
import sqltrack_run
if not sqltrack_run.__file__.startswith(dest):
    sys.exit("expected sqltrack_run from " + dest + ", got " + sqltrack_run.__file__)
print("imported", sqltrack_run.__file__)
PY
