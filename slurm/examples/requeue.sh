#!/bin/bash
# A job that Slurm may stop and start again (`scontrol requeue`, preemption
# with PreemptMode=REQUEUE, a node failure): every start resumes from the
# checkpoint the last one wrote, and sqltrack keeps it all in the same run,
# which goes REQUEUED -> RUNNING again (SLURM_RESTART_COUNT tells the wrapper).
#
#   sbatch slurm/examples/requeue.sh
#   STEPS=100 STEP_SECONDS=5 sbatch slurm/examples/requeue.sh
#
# --requeue        lets Slurm requeue the job (also the site default on many clusters);
# --open-mode=append  keeps the output of every start in one file;
# --signal=B:USR1@120 warns the batch shell (here: the wrapper, thanks to exec)
#                  two minutes before the time limit; the wrapper forwards it to
#                  the command, which writes a checkpoint.
#SBATCH --job-name=resumable
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --signal=B:USR1@120
#SBATCH --output=resumable-%j.out

# The checkpoint lives in the submit directory, named by the job id, which a
# requeued job keeps.
export CHECKPOINT=${CHECKPOINT:-${SLURM_SUBMIT_DIR:-.}/checkpoint-$SLURM_JOB_ID}
export STEPS=${STEPS:-20} STEP_SECONDS=${STEP_SECONDS:-1}

# The "training": one step per STEP_SECONDS, the step number as checkpoint,
# written atomically (a requeue may come at any moment). Replace it by your
# program; it only needs to resume from its own checkpoint.
exec sqltrack-run --tag example=requeue -- bash -c '
    step=$(cat "$CHECKPOINT" 2>/dev/null || echo 0)
    echo "start ${SLURM_RESTART_COUNT:-0} of job $SLURM_JOB_ID: resuming at step $step"
    trap '\''echo "USR1: the time limit is near; checkpoint at step $step"'\'' USR1
    while ((step < STEPS)); do
        sleep "$STEP_SECONDS" & wait $!
        step=$((step + 1))
        # One metric line per step (a replayed step after a requeue overwrites, never duplicates).
        if [[ -n ${SQLTRACK_METRICS:-} ]]; then
            echo "step=$step progress=$(awk "BEGIN { print $step / $STEPS }")" >"$SQLTRACK_METRICS"
        fi
        echo "$step" >"$CHECKPOINT.tmp" && mv -f "$CHECKPOINT.tmp" "$CHECKPOINT"
    done
    echo "done at step $step"
'
