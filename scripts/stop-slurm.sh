#!/usr/bin/env bash
# Stop the test cluster that scripts/start-slurm.sh started.
#
#   scripts/stop-slurm.sh [--clean] [STATE_DIR]
#
# STATE_DIR defaults to ${SQLTRACK_SLURM_DIR:-/tmp/sqltrack-slurm}. Cancels
# every job, waits for the jobs to end, stops the slurmd and slurmctld named
# in STATE_DIR's pid files (only if they run with STATE_DIR/slurm.conf), kills
# job processes of this cluster that Slurm left behind, and stops munged only
# if start-slurm.sh started it. --clean then removes STATE_DIR (and nothing
# else). Stopping a cluster that is not running is not an error.
set -euo pipefail

export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"

clean=false
state_dir=""
for arg in "$@"; do
    case $arg in
        --clean) clean=true ;;
        -h | --help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
        -*) printf 'stop-slurm: unknown option %s\n' "$arg" >&2; exit 2 ;;
        *) state_dir=$arg ;;
    esac
done
state_dir=${state_dir:-${SQLTRACK_SLURM_DIR:-/tmp/sqltrack-slurm}}

log() { printf 'stop-slurm: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ ! -d $state_dir ]]; then
    log "$state_dir does not exist; nothing to stop"
    exit 0
fi
state_dir=$(cd "$state_dir" && pwd -P)
[[ -e $state_dir/.sqltrack-slurm ]] ||
    die "$state_dir was not made by start-slurm.sh (no .sqltrack-slurm); not touching it"
conf="$state_dir/slurm.conf"
export SLURM_CONF="$conf"

exec 9>"$state_dir/.lock"
flock -w 120 9 || die "$state_dir is locked by another start/stop"

# --- helpers -----------------------------------------------------------------

# The pid in pid file $1 if it is a live $2 process started with our config.
daemon_pid() {
    local pid_file=$1 name=$2 pid
    [[ -r $pid_file ]] || return 1
    pid=$(<"$pid_file")
    [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]] || return 1
    { tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qxF "$conf" || return 1
    printf '%s\n' "$pid"
}

alive() { kill -0 "$1" 2>/dev/null; }

# Wait up to $1 seconds for all pids $2... to exit; returns 1 if some still run.
wait_gone() {
    local secs=$1 pid i any
    shift
    for ((i = 0; i <= secs * 5; i++)); do
        any=false
        for pid in "$@"; do
            alive "$pid" && any=true
        done
        [[ $any == false ]] && return 0
        sleep 0.2
    done
    return 1
}

# TERM, wait $1 s, then KILL the pids $2...
terminate() {
    local secs=$1 pid
    shift
    (($# == 0)) && return 0
    kill -TERM "$@" 2>/dev/null || true
    wait_gone "$secs" "$@" && return 0
    log "still running after ${secs}s, killing: $*"
    for pid in "$@"; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    wait_gone 5 "$@" || log "could not kill: $*"
}

# Whether the environment of pid $1 has every entry $2...: `KEY=VALUE` for
# exactly that entry, `KEY=*` for any value.
env_has() {
    local pid=$1 env want entries=()
    shift
    # Builtins only: this runs for every process on the machine.
    { mapfile -d '' -t entries <"/proc/$pid/environ"; } 2>/dev/null || return 1
    ((${#entries[@]} > 0)) || return 1
    printf -v env '\n%s' "${entries[@]}"
    env+=$'\n'
    for want in "$@"; do
        if [[ $want == *=\* ]]; then
            [[ $env == *$'\n'"${want%\*}"* ]] || return 1
        else
            [[ $env == *$'\n'"$want"$'\n'* ]] || return 1
        fi
    done
}

# Pids of processes, other than this script and its ancestors, whose
# environment has every entry $1... (see env_has).
pids_with_env() {
    local pid dir
    local -A mine=()
    pid=$$
    while [[ $pid =~ ^[0-9]+$ ]] && ((pid > 1)); do
        mine[$pid]=1
        pid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    done
    for dir in /proc/[0-9]*; do
        pid=${dir#/proc/}
        [[ -z ${mine[$pid]:-} ]] && env_has "$pid" "$@" && printf '%s\n' "$pid"
    done
    return 0
}

# --- jobs --------------------------------------------------------------------

ctld_pid=$(daemon_pid "$state_dir/slurmctld.pid" slurmctld || true)
slurmd_pid=$(daemon_pid "$state_dir/slurmd.pid" slurmd || true)

if [[ -n $ctld_pid ]]; then
    mapfile -t jobs < <(squeue -h -o %A 2>/dev/null | sort -u)
    if ((${#jobs[@]} > 0)); then
        log "cancelling ${#jobs[@]} job$([ ${#jobs[@]} -eq 1 ] || echo s): ${jobs[*]}"
        scancel "${jobs[@]}" 2>/dev/null || true
        # KillWait=5, then the epilog (at most ~25 s).
        for ((i = 0; i < 40 * 5; i++)); do
            [[ -z $(squeue -h -o %A 2>/dev/null) ]] && break
            if [[ -z $slurmd_pid ]] || ! alive "$slurmd_pid"; then break; fi
            sleep 0.2
        done
        left=$(squeue -h -o '%A %T' 2>/dev/null | tr '\n' ' ')
        [[ -z $left ]] || log "jobs still not finished: $left"
    fi
fi

# --- daemons -----------------------------------------------------------------

# Both at once (each takes a second or two to shut down); slurmctld's helper
# process (slurmscriptd) goes with it.
daemons=()
[[ -z $slurmd_pid ]] || daemons+=("$slurmd_pid")
if [[ -n $ctld_pid ]]; then
    daemons+=("$ctld_pid")
    mapfile -t -O "${#daemons[@]}" daemons < <(pgrep -P "$ctld_pid" 2>/dev/null || true)
fi
if ((${#daemons[@]} > 0)); then
    log "stopping slurmctld (${ctld_pid:-not running}) and slurmd (${slurmd_pid:-not running})"
    terminate 15 "${daemons[@]}"
else
    log "no slurmctld/slurmd of $state_dir running"
fi

# Leftovers: slurmstepd processes of this cluster (they inherit slurmd's
# SQLTRACK_SLURM_DIR) and job processes that outlived their batch shell
# (with proctrack/linuxproc Slurm never kills those).
mapfile -t leftovers < <(
    pids_with_env "SQLTRACK_SLURM_DIR=$state_dir"
    pids_with_env "SLURM_CONF=$conf" 'SLURM_JOB_ID=*'
)
if ((${#leftovers[@]} > 0)); then
    log "killing leftover job processes: ${leftovers[*]}"
    terminate 3 "${leftovers[@]}"
fi

# --- munged ------------------------------------------------------------------

marker="$state_dir/munged.pid"
if [[ -r $marker ]]; then
    munged_pid=$(<"$marker")
    if [[ $munged_pid =~ ^[0-9]+$ && $(cat "/proc/$munged_pid/comm" 2>/dev/null) == munged ]]; then
        # Another start-slurm.sh cluster may be using the same munged.
        others=$(pids_with_env 'SQLTRACK_SLURM_DIR=*' | while read -r pid; do
            env_has "$pid" "SQLTRACK_SLURM_DIR=$state_dir" || echo "$pid"
        done)
        if [[ -n $others ]]; then
            log "leaving munged ($munged_pid) running: other test clusters use it"
        else
            log "stopping munged ($munged_pid)"
            terminate 10 "$munged_pid"
        fi
    fi
    rm -f "$marker"
fi

rm -f "$state_dir/slurmctld.pid" "$state_dir/slurmd.pid"

if [[ $clean == true ]]; then
    log "removing $state_dir"
    exec 9>&-
    rm -rf -- "$state_dir"
fi
log "stopped"
