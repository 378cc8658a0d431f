#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds with -Werror (and a second time with ASan + UBSan), starts a
# throwaway PostgreSQL server and a single-node Slurm cluster, runs ctest, and
# stops the servers again, also when a test fails.
#
# Usage: scripts/test.sh [-L LABEL_REGEX] [--no-sanitize] [--no-slurm]
#   -L unit|integration|slurm|package   run one group (a ctest label regex)
#   --no-sanitize               skip the ASan/UBSan build and run
#   --no-slurm                  do not start the Slurm cluster (implies no slurm tests)
set -euo pipefail
cd "$(dirname "$0")/.."

label=""
sanitize=1
slurm=1
while [ $# -gt 0 ]; do
  case "$1" in
    -L) label="$2"; shift 2 ;;
    --no-sanitize) sanitize=0; shift ;;
    --no-slurm) slurm=0; shift ;;
    *) echo "test.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
# The folder rules of ARCHITECTURE.md, before anything is built.
scripts/check-layering.sh

jobs=$(nproc)
build=${SQLTRACK_BUILD_DIR:-build/test}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSQLTRACK_WERROR=ON \
  -DSQLTRACK_FAULT_INJECTION=ON >/dev/null
ninja -C "$build" -j "$jobs"
if [ $sanitize -eq 1 ]; then
  cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSQLTRACK_WERROR=ON \
    -DSQLTRACK_SANITIZE=ON -DSQLTRACK_BUILD_BENCH=OFF -DSQLTRACK_FAULT_INJECTION=ON >/dev/null
  ninja -C build/sanitize -j "$jobs"
fi

work=$(mktemp -d /tmp/sqltrack-test.XXXXXX)
chmod 755 "$work"
cleanup() {
  scripts/stop-slurm.sh "$work/slurm" >/dev/null 2>&1 || true
  scripts/stop-postgres.sh --clean "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

# Separate steps, so that a server that fails to start stops the script (set -e).
pg_env=$(scripts/start-postgres.sh "$work/pg")
eval "$(tail -1 <<<"$pg_env")"
if [ $slurm -eq 1 ] && [ -x scripts/start-slurm.sh ]; then
  slurm_env=$(scripts/start-slurm.sh "$work/slurm")
  eval "$(tail -1 <<<"$slurm_env")"
else
  label=${label:-"unit|integration|package"}
fi

# A test that fails is run once more, so one unlucky schedule on a loaded machine does not
# hide the rest; every test that failed, even once, is named again at the very end.
ctest_args=(--output-on-failure --timeout 900 -j "$jobs" --repeat until-pass:2)
[ -n "$label" ] && ctest_args+=(-L "$label")
status=0
ctest --test-dir "$build" "${ctest_args[@]}" 2>&1 | tee "$work/release.log" || status=$?
if [ -z "$label" ]; then
  # Smoke runs of the benchmarks: they must work and store every row; timings are not judged.
  python3 bench/ingest.py --build "$build" --rows 20000 --peer-rows 1000 --repeat 1 || status=$?
  python3 bench/wrapper_overhead.py "$build" --runs 5 --rss-runs 2 || status=$?
  # The load generator on the test server: 50 jobs for 10 s through the wrapper's write path.
  SQLTRACK_DSN_HOST=$SQLTRACK_TEST_PGHOST SQLTRACK_DSN_PORT=$SQLTRACK_TEST_PGPORT \
    SQLTRACK_DSN_USER=$SQLTRACK_TEST_PGUSER SQLTRACK_DSN_DBNAME=sqltrack \
    "$build/bench/swarm" --jobs 50 --seconds 10 --check || status=$?
  # A bounded fuzz run of the metric line and config parsers (the 10-minute run: scripts/fuzz.sh).
  if command -v clang++ >/dev/null; then
    scripts/fuzz.sh 60 || status=$?
  else
    echo "test.sh: fuzzing skipped: clang++ is missing (scripts/install-deps.sh installs it)"
  fi
fi
if [ $sanitize -eq 1 ]; then
  # The sanitizer build runs the groups that need no cluster; Slurm jobs run the release build.
  san_label=${label:-"unit|integration"}
  [ "$san_label" = "slurm" ] || \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
      ctest --test-dir build/sanitize --output-on-failure --timeout 900 -j "$jobs" \
        -L "$san_label" -E 'Slurm' --repeat until-pass:2 2>&1 | tee "$work/sanitize.log" ||
      status=$?
fi
for run in release sanitize; do
  [ -f "$work/$run.log" ] || continue
  echo "test.sh: tests that failed at least once in the $run build:"
  failed=$(grep -aE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*(\*\*\*|\(Failed\)|\(Timeout\)|Exception)' \
    "$work/$run.log" | sed -E 's/ \.{3,}/ /' || true)
  echo "${failed:-  none}"
done
echo "test.sh: exit $status"
exit $status
