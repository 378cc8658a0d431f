#!/usr/bin/env bash
# Fuzzes the metric line parser, the config file parsers, the journal reader and the queue file
# reader with libFuzzer (fuzz/): configures and builds the clang build with ASan + UBSan, runs
# each fuzzer for its share of SECONDS, and prints a summary. Exits 1 when a fuzzer found a
# crash (its input file is named), 2 when the fuzzers cannot be built.
#
# Usage: scripts/fuzz.sh [SECONDS]      (default 600: the documented 10-minute run)
#   SQLTRACK_FUZZ_BUILD_DIR  build directory (default build/fuzz)
#   SQLTRACK_FUZZ_JOBS       parallel compile jobs (default: nproc)
# The corpus grows in BUILD/fuzz-runs/NAME/corpus (seeded from fuzz/corpus/NAME) and is reused
# by the next run; crash inputs go to BUILD/fuzz-runs/NAME/crashes/. Reproduce one with
#   BUILD/fuzz/NAME_fuzzer CRASH_FILE
set -euo pipefail
cd "$(dirname "$0")/.."

total=${1:-600}
if ! [[ "$total" =~ ^[0-9]+$ ]] || [ "$total" -lt 2 ]; then
  echo "fuzz.sh: SECONDS must be a whole number of at least 2, got '$total'" >&2
  exit 2
fi
if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (scripts/install-deps.sh installs clang and libclang-rt-14-dev)" >&2
  exit 2
fi

build=${SQLTRACK_FUZZ_BUILD_DIR:-build/fuzz}
jobs=${SQLTRACK_FUZZ_JOBS:-$(nproc)}
fuzzers=(metric_line config journal_reader queue_file)
per=$((total / ${#fuzzers[@]}))

# Quiet unless something fails (CMake's FindBoost warns on every configure).
if ! out=$(CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSQLTRACK_BUILD_FUZZ=ON \
  -DSQLTRACK_BUILD_TESTS=OFF -DSQLTRACK_BUILD_BENCH=OFF 2>&1) ||
  ! out=$(ninja -C "$build" -j "$jobs" "${fuzzers[@]/%/_fuzzer}" 2>&1); then
  echo "$out" >&2
  echo "fuzz.sh: building the fuzzers in $build failed" >&2
  exit 2
fi

# A final statistic of the last run ("stat::NAME: VALUE" lines).
stat_of() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }

declare -A max_len=([metric_line]=70000 [config]=16384 [journal_reader]=65536 [queue_file]=140000)
summary=()
status=0
for name in "${fuzzers[@]}"; do
  run="$build/fuzz-runs/$name"
  mkdir -p "$run/corpus" "$run/crashes"
  log="$run/last.log"
  echo "fuzz.sh: $name for ${per}s (log: $log)"
  rc=0
  "$build/fuzz/${name}_fuzzer" -max_total_time="$per" -max_len="${max_len[$name]}" \
    -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$run/crashes/" \
    "$run/corpus" "fuzz/corpus/$name" >"$log" 2>&1 || rc=$?

  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  line="$name: $(stat_of number_of_executed_units) execs ($(stat_of average_exec_per_sec)/s),"
  line+=" coverage ${cov:-?} edges / ${ft:-?} features, corpus ${corp:-?} inputs"
  line+=" (+$(stat_of new_units_added) new), peak RSS $(stat_of peak_rss_mb) MB"
  if [ $rc -eq 0 ]; then
    line+=", no crash"
  else
    status=1
    artifact=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
    line+=", CRASH (exit $rc): ${artifact:-see $log}"
    # The fuzzer's own report: the first lines of the failure.
    grep -m1 -E '^(==[0-9]+==|[a-z_]+_fuzzer: |SUMMARY: )' "$log" | sed 's/^/  /' >&2 || true
    grep -m1 '^SUMMARY: ' "$log" | sed 's/^/  /' >&2 || true
  fi
  summary+=("$line")
done

echo "fuzz.sh: summary (${per}s per fuzzer, build $build)"
printf '  %s\n' "${summary[@]}"
[ $status -eq 0 ] || echo "fuzz.sh: reproduce a crash with $build/fuzz/NAME_fuzzer CRASH_FILE" >&2
exit $status
