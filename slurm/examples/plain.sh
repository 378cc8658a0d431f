#!/bin/bash
# A plain job: one command, recorded as one run.
#
#   sbatch slurm/examples/plain.sh [COMMAND [ARGS...]]     (default: a short demo)
#
# sqltrack-run must be on the job's PATH, and the database configured where the
# job runs: a sqltrack.conf in the directory sbatch is called from (the job's
# working directory), or SQLTRACK_DSN_* variables exported to the job.
#SBATCH --job-name=plain-example
#SBATCH --time=10:00
#SBATCH --output=plain-%j.out

# exec: the wrapper becomes the batch shell, so signals Slurm sends to the
# batch shell only (--signal=B:..., scancel -b) reach it and the command.
if (($# > 0)); then
    exec sqltrack-run --tag example=plain -- "$@"
fi
exec sqltrack-run --tag example=plain -- bash -c 'echo "job $SLURM_JOB_ID on $(hostname)"; sleep 1'
