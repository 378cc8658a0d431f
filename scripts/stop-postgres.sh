#!/usr/bin/env bash
# Stops the server that start-postgres.sh started. --clean also removes its directory.
set -euo pipefail
clean=0
[ "${1:-}" = "--clean" ] && { clean=1; shift; }
dir=${1:-${SQLTRACK_PG_DIR:-/tmp/sqltrack-pg}}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -f "$dir/data/postmaster.pid" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  else
    "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
fi
[ $clean -eq 1 ] && rm -rf "$dir"
exit 0
