#!/usr/bin/env bash
# A stand-in for a training script: a few steps of made-up metrics, written to
# the FIFO that sqltrack-run exports (or to stdout when run on its own).
set -euo pipefail
out=${SQLTRACK_METRICS:-stdout}
if [ -n "${SQLTRACK_METRICS:-}" ]; then exec 3>"$SQLTRACK_METRICS"; else exec 3>&1; fi
echo "demo job: run ${SQLTRACK_RUN_ID:-?} writing metrics to $out"
steps=5
loss=1.0
for ((step = 1; step <= steps; step++)); do
  loss=$(awk -v l="$loss" 'BEGIN { printf "%.4f", l * 0.7 }')
  progress=$(awk -v s="$step" -v n="$steps" 'BEGIN { printf "%.1f", s / n }')
  echo "step=$step progress=$progress train_loss=$loss" >&3
  sleep 0.2
done
echo "demo job: done"
