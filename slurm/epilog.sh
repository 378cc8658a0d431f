#!/usr/bin/env bash
# Slurm Epilog: slurmd runs this as root on the node after every job, with
# SLURM_JOB_ID, SLURM_JOB_EXIT_CODE2, SLURM_JOB_RESTART_COUNT, SLURM_CONF, ...
# and a PATH of slurmd's choosing, but nothing from slurmd's own environment.
#
# It lets sqltrack reconcile the job's run with what Slurm says about it:
#   sqltrack slurm-sync --job "$SLURM_JOB_ID" --wait 60   (detached, see below)
# when a sqltrack binary is found: $SQLTRACK_BIN, else SQLTRACK_BIN= in
# epilog.env next to $SLURM_CONF (written by scripts/start-slurm.sh), else PATH.
#
# The database: the sqltrack configuration as for any other call
# (SQLTRACK_CONFIG_PATH, SQLTRACK_DSN_*), where SQLTRACK_CONFIG_PATH= in
# epilog.env counts too, e.g. SQLTRACK_CONFIG_PATH=/etc/sqltrack.conf. Without
# one, the sync finds no database and does nothing.
#
# It always exits 0, whatever happens: a failing epilog drains the node. It
# returns at once; the detached sync ends within ~95 s. Output goes to a log
# file, never to the job's output: the test cluster's STATE_DIR/log/epilog.log,
# else $SQLTRACK_EPILOG_LOG, else /var/log/sqltrack-epilog.log.
#
# No `set -e`: a failed step must not end the script before it is logged, and
# the exit status is forced to 0 by the EXIT trap.
set -uo pipefail
trap 'exit 0' EXIT

# slurmd's PATH for scripts ends in "."; use the standard one instead.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

job_id=${SLURM_JOB_ID:-${SLURM_JOBID:-}}
conf_dir=""
[[ -n ${SLURM_CONF:-} ]] && conf_dir=$(dirname "$SLURM_CONF")

# Where to log: the test cluster's state dir (start-slurm.sh leaves a marker).
if [[ -n $conf_dir && -e $conf_dir/.sqltrack-slurm ]]; then
    log_file="$conf_dir/log/epilog.log"
else
    log_file=${SQLTRACK_EPILOG_LOG:-/var/log/sqltrack-epilog.log}
fi
{ : >>"$log_file"; } 2>/dev/null || log_file=/dev/null
exec </dev/null >>"$log_file" 2>&1

log() { printf '%s epilog job=%s: %s\n' "$(date '+%Y-%m-%dT%H:%M:%S')" "$job_id" "$*"; }

log "start exit=${SLURM_JOB_EXIT_CODE2:-?} restarts=${SLURM_JOB_RESTART_COUNT:-0}" \
    "partition=${SLURM_JOB_PARTITION:-?} user=${SLURM_JOB_USER:-?}"

if [[ -z $job_id ]]; then
    log "no SLURM_JOB_ID in the environment; nothing to do"
    exit 0
fi

# Find the binary.
bin=${SQLTRACK_BIN:-}
if [[ -z $bin && -n $conf_dir && -r $conf_dir/epilog.env ]]; then
    bin=$(sed -n 's/^SQLTRACK_BIN=//p' "$conf_dir/epilog.env" | tail -n 1)
fi
if [[ -z $bin ]]; then
    bin=$(command -v sqltrack 2>/dev/null || true)
fi
if [[ -z ${SQLTRACK_CONFIG_PATH:-} && -n $conf_dir && -r $conf_dir/epilog.env ]]; then
    config=$(sed -n 's/^SQLTRACK_CONFIG_PATH=//p' "$conf_dir/epilog.env" | tail -n 1)
    [[ -n $config ]] && export SQLTRACK_CONFIG_PATH=$config
fi
if [[ -z $bin || ! -x $bin ]]; then
    log "no sqltrack binary (SQLTRACK_BIN, epilog.env, PATH); skipped"
    exit 0
fi

# While the epilog runs, Slurm still calls the job COMPLETING: its final state
# (CANCELLED, FAILED, TIMEOUT, ...) appears only after the epilog has exited.
# So the sync runs detached, in a session of its own (slurmd may kill the
# epilog's process group), and waits for that state for up to a minute.
setsid --fork bash -c '
    start=$SECONDS
    timeout -k 5 90 "$1" slurm-sync --job "$2" --wait 60
    rc=$?
    printf "%s epilog job=%s: %s slurm-sync rc=%s in %ss\n" "$(date +%Y-%m-%dT%H:%M:%S)" \
        "$2" "$1" "$rc" "$((SECONDS - start))"
' epilog-sync "$bin" "$job_id" </dev/null >>"$log_file" 2>&1
log "started $bin slurm-sync --job $job_id --wait 60 in the background"
exit 0
