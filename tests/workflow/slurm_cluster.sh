#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for the workflow's SLURM test.
#
#   slurm_cluster.sh start STATE_DIR   install (Debian slurm-wlm, munge) if needed, start
#                                      munged, slurmctld and slurmd; wait until the
#                                      node is idle; print the SLURM_CONF to export
#   slurm_cluster.sh stop STATE_DIR    stop what start started (by the PIDs it saved)
#
# Needs root (no systemd: the daemons run in the foreground, in the background of
# this script). Everything SLURM writes (config, state, logs, PIDs) stays in
# STATE_DIR; /etc/slurm/slurm.conf is a symbolic link to the config there, since
# the jobs' own srun calls (snakemake-executor-plugin-slurm-jobstep) drop
# SLURM_CONF and read the default place. An existing config that is not such a
# link is never touched: start refuses. stop removes the link. munge uses the
# package's key and socket. The config is the one that worked here
# (/work/shared/notes/snakemake.md): cons_tres on one node, no accounting daemon.
set -euo pipefail

usage() { echo "usage: $0 start|stop STATE_DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
state=$(realpath -m "$2")
conf="$state/slurm.conf"
SYSTEM_CONF=/etc/slurm/slurm.conf
DEADLINE_S=60

wait_for() {  # wait_for WHAT COMMAND...: poll until COMMAND succeeds, at most DEADLINE_S
    local what=$1 deadline=$((SECONDS + DEADLINE_S))
    shift
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS > deadline)); then
            echo "slurm_cluster: timed out after ${DEADLINE_S} s waiting for $what" >&2
            tail -n 20 "$state"/*.log >&2 || true
            exit 1
        fi
        sleep 0.2
    done
}

install_packages() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
        return
    fi
    # the lock tests/support.py's apt_install takes: one apt run at a time across test workers
    local lock=/var/lock/swxsoc-reach-tests-apt
    flock "$lock" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive flock "$lock" \
        apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

start_munge() {
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        mungekey --create --keyfile /etc/munge/munge.key
        chown munge:munge /etc/munge/munge.key
        chmod 0400 /etc/munge/munge.key
    fi
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        return  # a munged already answers: leave it alone
    fi
    runuser -u munge -- /usr/sbin/munged  # it cannot reach STATE_DIR: default PID file
    wait_for "munged" bash -c "munge -n | unmunge"
    cp /run/munge/munged.pid "$state/munged.pid"  # so stop ends only a munged started here
}

write_conf() {
    local node
    node=$(slurmd -C | head -n 1)  # NodeName=<host> CPUs=... RealMemory=...
    local host=${node#NodeName=}
    host=${host%% *}
    mkdir -p "$state/ctld" "$state/spool"
    cat >"$conf" <<EOF
ClusterName=swxsoctest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SchedulerParameters=sched_interval=1
MinJobAge=300
KillWait=5
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

node_idle() { [[ "$(sinfo -h -o %t)" == idle* ]]; }

start() {
    [[ $(id -u) -eq 0 ]] || { echo "slurm_cluster: needs root" >&2; exit 3; }
    mkdir -p "$state"
    install_packages
    start_munge
    if [[ -e $SYSTEM_CONF && ! -L $SYSTEM_CONF ]]; then
        echo "slurm_cluster: $SYSTEM_CONF exists and is not ours: not touching it" >&2
        exit 4
    fi
    write_conf
    mkdir -p "$(dirname "$SYSTEM_CONF")"
    ln -sfn "$conf" "$SYSTEM_CONF"
    export SLURM_CONF=$conf
    # -D keeps each daemon in the foreground; its PID is then the one saved here
    nohup slurmctld -D -f "$conf" >>"$state/slurmctld.out" 2>&1 &
    echo $! >"$state/slurmctld.launcher.pid"
    wait_for "slurmctld" scontrol ping
    nohup slurmd -D -f "$conf" >>"$state/slurmd.out" 2>&1 &
    echo $! >"$state/slurmd.launcher.pid"
    wait_for "the node to be idle" node_idle
    echo "SLURM_CONF=$conf"
}

stop() {
    local name pid
    for name in slurmd.launcher slurmctld.launcher munged; do
        [[ -s "$state/$name.pid" ]] || continue
        pid=$(<"$state/$name.pid")
        if kill "$pid" 2>/dev/null; then
            local deadline=$((SECONDS + DEADLINE_S))
            while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$state/$name.pid"
    done
    if [[ -L $SYSTEM_CONF && $(readlink "$SYSTEM_CONF") == "$conf" ]]; then
        rm -f "$SYSTEM_CONF"
    fi
}

case $action in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
