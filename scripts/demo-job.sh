#!/usr/bin/env bash
# A stand-in for a training script: a few steps of made-up metrics, written to
# the FIFO that sqltrack-run exports (or to stdout when run on its own).
set -euo pipefail
out=${SQLTRACK_METRICS:-/dev/stdout}
echo "demo job: run ${SQLTRACK_RUN_ID:-?} writing metrics to $out"
loss=1.0
for step in 1 2 3 4 5; do
  loss=$(awk -v l="$loss" 'BEGIN { printf "%.4f", l * 0.7 }')
  echo "step=$step progress=0.$((step * 2)) train_loss=$loss" >"$out"
  sleep 0.2
done
echo "demo job: done"
