#!/usr/bin/env bash
# Peak memory of `sqltrack export --metrics all` on PostgreSQL for 100 000 and 1 000 000
# metric rows. The export streams through a server-side cursor, so both peaks should be the
# same (ratio ~1.0) while the output grows tenfold; holding the rows would grow with them.
#
# Usage: bench/export_memory.sh [BUILD_DIR] [ROWS...]     (default: build, 100000 1000000)
# The server: $SQLTRACK_TEST_PGHOST/PGPORT/PGUSER as scripts/start-postgres.sh prints them,
# else libpq's PGHOST/PGPORT/PGUSER. A scratch database is made and dropped again.
# Exits 1 when the largest export's peak RSS is more than 1.25 x the smallest one's.
set -euo pipefail

build=${1:-build}
shift || true
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(100000 1000000)

sqltrack=
for candidate in "$build/src/cli/sqltrack" "$build/sqltrack" "$build/bin/sqltrack"; do
  if [ -x "$candidate" ]; then sqltrack=$candidate; break; fi
done
[ -n "$sqltrack" ] || { echo "export_memory: no sqltrack executable in $build" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "export_memory: needs GNU time (apt-get install time)" >&2; exit 2; }

export PGHOST=${SQLTRACK_TEST_PGHOST:-${PGHOST:-/var/run/postgresql}}
export PGPORT=${SQLTRACK_TEST_PGPORT:-${PGPORT:-5432}}
export PGUSER=${SQLTRACK_TEST_PGUSER:-${PGUSER:-postgres}}
db=sqltrack_export_bench_$$
work=$(mktemp -d)
cleanup() {
  dropdb --if-exists "$db" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

createdb "$db"
flags=(-a "$PGHOST" -u "$PGUSER" -d "$db")
printf 'ALTER TABLE metrics ADD COLUMN loss DOUBLE PRECISION;\nALTER TABLE metrics ADD COLUMN val_acc DOUBLE PRECISION;\n' \
  >"$work/v001.sql"
"$sqltrack" "${flags[@]}" setup "$work/v001.sql" >/dev/null

printf '%-10s %9s %15s %15s\n' rows seconds "max RSS (KiB)" "output (bytes)"
first_rss=
last_rss=
for n in "${rows[@]}"; do
  psql -qX -v ON_ERROR_STOP=1 -d "$db" -v n="$n" >/dev/null <<'SQL'
INSERT INTO experiments (name) VALUES ('rows_' || :'n');
INSERT INTO runs (experiment_id, status)
  SELECT id, 'COMPLETED' FROM experiments WHERE name = 'rows_' || :'n';
INSERT INTO metrics (run_id, step, progress, loss, val_acc)
  SELECT (SELECT max(id) FROM runs), g, g / :n::double precision, g * 0.5, g * 0.25
  FROM generate_series(0, :n - 1) AS g;
SQL
  out="$work/rows_$n.csv"
  /usr/bin/time -f '%e %M' -o "$work/time" \
    "$sqltrack" "${flags[@]}" export -e "rows_$n" --metrics all -o "$out" >/dev/null
  read -r seconds rss <"$work/time"
  lines=$(wc -l <"$out")
  if [ "$lines" -ne $((n + 1)) ]; then
    echo "export_memory: $out has $lines lines, expected $((n + 1))" >&2
    exit 1
  fi
  printf '%-10s %9s %15s %15s\n' "$n" "$seconds" "$rss" "$(stat -c %s "$out")"
  first_rss=${first_rss:-$rss}
  last_rss=$rss
  rm -f "$out"
done

ratio=$(awk -v a="$last_rss" -v b="$first_rss" 'BEGIN { printf "%.2f", a / b }')
echo "max RSS ratio ${rows[-1]} / ${rows[0]} rows: $ratio"
awk -v r="$ratio" 'BEGIN { exit !(r <= 1.25) }' || {
  echo "export_memory: peak memory grows with the rows: the export does not stream" >&2
  exit 1
}
