#!/bin/bash
# A job array: one run per task, all in one experiment; each run records the
# array job id and its task id (`sqltrack-run status --job 12_3` finds one).
#
#   sbatch slurm/examples/array.sh
#   sqltrack submit -e sweep -- sbatch slurm/examples/array.sh   # runs PENDING from now on
#SBATCH --job-name=sweep
#SBATCH --array=0-3
#SBATCH --output=sweep-%A_%a.out

learning_rates=(0.1 0.03 0.01 0.003)
lr=${learning_rates[${SLURM_ARRAY_TASK_ID:-0}]}

exec sqltrack-run --tag lr="$lr" -- bash -c 'echo "task $SLURM_ARRAY_TASK_ID: lr=$1"; sleep 1' sweep "$lr"
