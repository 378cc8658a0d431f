#!/usr/bin/env bash
# Start a single-node Slurm test cluster (slurmctld + slurmd on this machine).
#
#   scripts/start-slurm.sh [STATE_DIR]
#   eval "$(scripts/start-slurm.sh | tail -1)"     # sets SLURM_CONF
#
# STATE_DIR defaults to ${SQLTRACK_SLURM_DIR:-/tmp/sqltrack-slurm}; it holds the
# generated slurm.conf, the daemons' state, spool, pid and log files. Needs
# root and Debian's slurm-wlm and munge packages (installed when missing).
# Running it again while the cluster is up does nothing. Progress goes to
# stderr; the last line on stdout is `export SLURM_CONF=...`, also written to
# STATE_DIR/env. Stop with scripts/stop-slurm.sh [--clean] [STATE_DIR].
#
# Environment:
#   SQLTRACK_SLURMCTLD_PORT  slurmctld port (default 29817)
#   SQLTRACK_SLURMD_PORT     slurmd port (default 29818)
#   SQLTRACK_SLURM_CLUSTER   ClusterName (default sqltrack)
#   SQLTRACK_SLURM_CRED_EXPIRE  seconds a requeued job is held, minus 1 (default 10, min 5)
#   SQLTRACK_SLURM_TIMEOUT   seconds to wait for the node to become idle (default 30)
#   SQLTRACK_BIN             sqltrack binary for the epilog (recorded in STATE_DIR/epilog.env)
set -euo pipefail

export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"

repo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
template="$repo_dir/slurm/test-cluster/slurm.conf.in"
epilog="$repo_dir/slurm/epilog.sh"

state_dir=${1:-${SQLTRACK_SLURM_DIR:-/tmp/sqltrack-slurm}}
ctld_port=${SQLTRACK_SLURMCTLD_PORT:-29817}
slurmd_port=${SQLTRACK_SLURMD_PORT:-29818}
cluster_name=${SQLTRACK_SLURM_CLUSTER:-sqltrack}
cred_expire=${SQLTRACK_SLURM_CRED_EXPIRE:-10}
timeout_s=${SQLTRACK_SLURM_TIMEOUT:-30}

log() { printf 'start-slurm: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- helpers -----------------------------------------------------------------

# The pid in pid file $1 if it is a live $2 process started with our config.
daemon_pid() {
    local pid_file=$1 name=$2 pid
    [[ -r $pid_file ]] || return 1
    pid=$(<"$pid_file")
    [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]] || return 1
    # Another cluster's daemon may have reused the pid: check its config.
    { tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qxF "$conf" || return 1
    printf '%s\n' "$pid"
}

node_state() {
    sinfo -h -N -n "$node" -o %T 2>/dev/null | head -n 1
}

node_ready() {
    [[ $(node_state) =~ ^(idle|mixed|allocated|completing)$ ]]
}

munge_ok() {
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

show_logs() {
    local f
    for f in "$state_dir/log/slurmctld.log" "$state_dir/log/slurmd.log" \
             "$state_dir/log/slurmctld.out" "$state_dir/log/slurmd.out" \
             "$state_dir/log/munged.out"; do
        [[ -s $f ]] || continue
        printf '\n==> %s (last 25 lines) <==\n' "$f" >&2
        tail -n 25 "$f" >&2 || true
    done
}

started_now=()  # pids of daemons this run started; stopped again on failure

fail() {
    log "error: $*"
    show_logs
    local pid
    for pid in "${started_now[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    exit 1
}

# --- packages ----------------------------------------------------------------

ensure_packages() {
    local cmd missing=()
    for cmd in slurmctld slurmd sinfo sbatch squeue scontrol scancel munged munge unmunge; do
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
    done
    ((${#missing[@]} == 0)) && return 0
    command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install slurm-wlm munge"
    log "installing slurm-wlm munge (missing: ${missing[*]})"
    local apt_log="$state_dir/log/apt-get.log"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q slurm-wlm munge </dev/null >"$apt_log" 2>&1; then
        # Fresh images often have no package lists yet.
        apt-get update -q </dev/null >>"$apt_log" 2>&1 || true
        apt-get install -y -q slurm-wlm munge </dev/null >>"$apt_log" 2>&1 ||
            { tail -n 30 "$apt_log" >&2; die "apt-get install slurm-wlm munge failed"; }
    fi
}

# --- munge -------------------------------------------------------------------

ensure_munge() {
    local key=/etc/munge/munge.key marker="$state_dir/munged.pid" pid
    if [[ ! -s $key ]]; then
        log "creating $key"
        install -d -o munge -g munge -m 0700 /etc/munge
        (umask 077 && dd if=/dev/urandom of="$key" bs=1024 count=1 status=none)
        chown munge:munge "$key"
        chmod 0400 "$key"
    fi
    install -d -o munge -g munge -m 0755 /run/munge

    if munge_ok; then
        # Forget a munged we started earlier if it is no longer the one running.
        if [[ -r $marker ]]; then
            pid=$(<"$marker")
            [[ $(cat "/proc/$pid/comm" 2>/dev/null) == munged ]] || rm -f "$marker"
        fi
        return 0
    fi

    log "starting munged"
    runuser -u munge -- munged </dev/null >>"$state_dir/log/munged.out" 2>&1 9>&- ||
        fail "munged did not start"
    local i
    for ((i = 0; i < 50; i++)); do
        munge_ok && break
        sleep 0.2
    done
    if ! munge_ok; then
        tail -n 15 /var/log/munge/munged.log >&2 2>/dev/null || true
        fail "munge -n | unmunge fails after starting munged"
    fi
    pid=$(cat /run/munge/munged.pid 2>/dev/null || true)
    [[ -n $pid ]] && printf '%s\n' "$pid" >"$marker"  # stop-slurm.sh stops it
    return 0
}

# --- configuration -----------------------------------------------------------

node_hardware() {
    # e.g. "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2
    # ThreadsPerCore=1 RealMemory=24105"; keep all but the NodeName.
    local line
    line=$(env -u SLURM_CONF slurmd -C 2>/dev/null | head -n 1 || true)
    if [[ $line == NodeName=*CPUs=*RealMemory=* ]]; then
        printf '%s\n' "${line#NodeName=* }"
    else
        printf 'CPUs=%s RealMemory=%s\n' "$(nproc)" \
            "$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)"
    fi
}

write_conf() {
    [[ -r $template ]] || die "template not found: $template"
    if [[ ! $cred_expire =~ ^[0-9]+$ ]] || ((cred_expire < 5)); then
        die "SQLTRACK_SLURM_CRED_EXPIRE must be an integer >= 5"
    fi
    # slurmd runs the epilog directly: it must be executable.
    [[ -x $epilog ]] || chmod +x "$epilog"

    local hardware cpus mem text
    hardware=$(node_hardware)
    cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$hardware")
    mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hardware")
    text=$(<"$template")
    text=${text//@STATE_DIR@/$state_dir}
    text=${text//@NODE_NAME@/$node}
    text=${text//@NODE_HARDWARE@/$hardware}
    text=${text//@SLURMCTLD_PORT@/$ctld_port}
    text=${text//@SLURMD_PORT@/$slurmd_port}
    text=${text//@CLUSTER_NAME@/$cluster_name}
    text=${text//@CRED_EXPIRE@/$cred_expire}
    text=${text//@DEF_MEM_PER_CPU@/$((mem / cpus))}
    text=${text//@EPILOG@/$epilog}
    if [[ $text =~ @[A-Z_]+@ ]]; then
        die "unreplaced placeholder ${BASH_REMATCH[0]} in $template"
    fi
    printf '%s\n' "$text" >"$conf.tmp"
    mv -f "$conf.tmp" "$conf"
    # A fresh start forgets the sqltrack binary of an earlier one.
    [[ -n ${SQLTRACK_BIN:-} ]] || rm -f "$state_dir/epilog.env"
}

# slurm/epilog.sh runs in an environment of slurmd's making: it learns which
# sqltrack to call from epilog.env next to SLURM_CONF. Read for every job, so
# this takes effect at once, also when the cluster is already up.
record_sqltrack_bin() {
    [[ -n ${SQLTRACK_BIN:-} ]] || return 0
    local bin
    bin=$(realpath -e -- "$SQLTRACK_BIN" 2>/dev/null) ||
        die "SQLTRACK_BIN=$SQLTRACK_BIN does not exist"
    printf 'SQLTRACK_BIN=%s\n' "$bin" >"$state_dir/epilog.env"
}

# --- daemons -----------------------------------------------------------------

# Start daemon $1 (slurmctld or slurmd) with the remaining arguments and wait
# for its pid file. The marker variable lets stop-slurm.sh recognise leftover
# slurmstepd processes of this cluster (they inherit slurmd's environment).
start_daemon() {
    local name=$1 pid_file="$state_dir/$1.pid" pid i
    shift
    rm -f "$pid_file"
    (cd "$state_dir/log" &&
        exec env SLURM_CONF="$conf" SQLTRACK_SLURM_DIR="$state_dir" \
            "$name" -f "$conf" "$@" </dev/null >>"$state_dir/log/$name.out" 2>&1 9>&-) ||
        fail "$name exited with status $?"
    for ((i = 0; i < 100; i++)); do
        if pid=$(daemon_pid "$pid_file" "$name"); then
            started_now+=("$pid")
            log "$name running, pid $pid"
            return 0
        fi
        sleep 0.1
    done
    fail "$name did not write $pid_file"
}

# --- main --------------------------------------------------------------------

if [[ ${1:-} == -* ]]; then
    sed -n '2,12s/^# \{0,1\}//p' "$0"
    [[ $1 == -h || $1 == --help ]] && exit 0
    exit 2
fi
((EUID == 0)) || die "must run as root (SlurmUser=root, munged, apt-get)"
[[ $ctld_port =~ ^[0-9]+$ && $slurmd_port =~ ^[0-9]+$ ]] || die "ports must be numbers"

mkdir -p "$state_dir"
state_dir=$(cd "$state_dir" && pwd -P)
conf="$state_dir/slurm.conf"
export SLURM_CONF="$conf"
node=$(hostname -s 2>/dev/null || uname -n)
node=${node%%.*}

# One start/stop at a time per state directory. Daemons must not inherit fd 9.
exec 9>"$state_dir/.lock"
flock -w 120 9 || die "$state_dir is locked by another start/stop"

mkdir -p "$state_dir/state" "$state_dir/spool" "$state_dir/log"
printf 'sqltrack Slurm test cluster state; stop with scripts/stop-slurm.sh --clean to remove\n' \
    >"$state_dir/.sqltrack-slurm"

ensure_packages
ensure_munge

ctld_pid=$(daemon_pid "$state_dir/slurmctld.pid" slurmctld || true)
slurmd_pid=$(daemon_pid "$state_dir/slurmd.pid" slurmd || true)

record_sqltrack_bin

if [[ -n $ctld_pid && -n $slurmd_pid ]] && node_ready; then
    log "already running (slurmctld $ctld_pid, slurmd $slurmd_pid)"
else
    if [[ -z $ctld_pid && -z $slurmd_pid ]]; then
        port_in_use "$ctld_port" && die "port $ctld_port is in use (set SQLTRACK_SLURMCTLD_PORT)"
        port_in_use "$slurmd_port" && die "port $slurmd_port is in use (set SQLTRACK_SLURMD_PORT)"
        write_conf
    fi
    [[ -r $conf ]] || die "$conf is missing while a daemon runs; run scripts/stop-slurm.sh first"

    if [[ -z $ctld_pid ]]; then
        if compgen -G "$state_dir/state/*_state" >/dev/null; then
            start_daemon slurmctld        # recover jobs/nodes from the state files
        else
            start_daemon slurmctld -i     # fresh state directory: nothing to recover
        fi
    fi
    [[ -n $slurmd_pid ]] || start_daemon slurmd -N "$node"

    resumed=false
    for ((i = 0; i < timeout_s * 5; i++)); do
        node_ready && break
        daemon_pid "$state_dir/slurmctld.pid" slurmctld >/dev/null || fail "slurmctld died"
        daemon_pid "$state_dir/slurmd.pid" slurmd >/dev/null || fail "slurmd died"
        state=$(node_state)
        # A drain or down from an earlier run (e.g. a failed epilog) is kept in
        # the state files; give registration a second, then resume the node.
        if [[ $resumed == false && $state =~ drain|down|fail ]] && ((i >= 5)); then
            log "node $node is $state ($(sinfo -h -N -n "$node" -o %E 2>/dev/null | head -n 1)); resuming it"
            scontrol update NodeName="$node" State=RESUME >&2 || true
            resumed=true
        fi
        sleep 0.2
    done
    node_ready || fail "node $node not idle after ${timeout_s}s (state: $(node_state || true))"
    log "node $node is $(node_state); cluster $cluster_name up (slurmctld port $ctld_port, slurmd port $slurmd_port)"
fi

export_line="export SLURM_CONF=$(printf '%q' "$conf")"
printf '%s\n' "$export_line" >"$state_dir/env"
printf '%s\n' "$export_line"
