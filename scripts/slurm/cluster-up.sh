#!/usr/bin/env bash
# Starts a throw-away single-node Slurm cluster on this machine, for testing the job scripts of `nnuc jobs`.
#
#   eval "$(bash scripts/slurm/cluster-up.sh DIR)"     # prints `export SLURM_CONF=...` (and more) on stdout
#   ... sbatch / squeue / sacct-free polling with scontrol ...
#   bash scripts/slurm/cluster-down.sh DIR
#
# Needs root and Debian's packages: apt-get install -y slurm-wlm munge. Everything lives in DIR (a fresh
# munge key, slurm.conf, state, spool, logs, sockets, pid files): nothing in /etc is read or changed, the
# daemons listen on private ports, and cluster-down.sh stops exactly the daemons this script started.
# The node is this machine with all its CPUs and memory; no cgroups, no accounting, no GPUs (gres).
set -euo pipefail
DIR=${1:?usage: cluster-up.sh DIR}
for cmd in munged slurmctld slurmd sinfo scontrol; do
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
    echo "cluster-up.sh: $cmd not found (apt-get install -y slurm-wlm munge)" >&2
    exit 3
  fi
done
if [ "$(id -u)" -ne 0 ]; then echo "cluster-up.sh: run as root (the daemons run as root here)" >&2; exit 3; fi
PATH=$PATH:/usr/sbin
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
mkdir -p "$DIR/munge" "$DIR/state" "$DIR/spool" "$DIR/log"
chmod 755 "$DIR" "$DIR/munge"
# ports: SLURM_TEST_PORT (controller) and +1 (node daemon); default from the PID so parallel runs differ
PORT=${SLURM_TEST_PORT:-$((20000 + ($$ % 20000) * 2))}
NODE=nnuctest
HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)

# munge: a fresh key, a private socket
dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$DIR/munge/munge.key"
munged --force --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
  --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed" \
  </dev/null >/dev/null 2>&1

cat > "$DIR/slurm.conf" <<CONF
ClusterName=nnuctest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=3600
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=10
NodeName=$NODE NodeHostname=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
echo "# no cgroups" > "$DIR/cgroup.conf"
export SLURM_CONF="$DIR/slurm.conf"
slurmctld -f "$SLURM_CONF" -i </dev/null >/dev/null 2>&1
slurmd -f "$SLURM_CONF" -N "$NODE" </dev/null >/dev/null 2>&1
# wait until the node is up
for _ in $(seq 1 60); do
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
  case "$state" in idle*|mixed*|allocated*) break ;; esac
  sleep 1
done
state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
case "$state" in
  idle*|mixed*|allocated*) ;;
  *)
    echo "cluster-up.sh: the node did not come up (state '$state'); logs in $DIR/log" >&2
    tail -20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
    exit 1 ;;
esac
echo "export SLURM_CONF=$DIR/slurm.conf"
echo "# single-node Slurm up: node $NODE ($CPUS CPUs, $MEM_MB MB), controller port $PORT, files in $DIR" >&2
