#!/usr/bin/env bash
# Stops the cluster cluster-up.sh DIR started (by the pid files in DIR) and cancels its jobs. Idempotent.
set -uo pipefail
DIR=${1:?usage: cluster-down.sh DIR}
PATH=$PATH:/usr/sbin
if [ -f "$DIR/slurm.conf" ]; then
  SLURM_CONF="$DIR/slurm.conf" scancel --full --user="$(id -un)" >/dev/null 2>&1 || true
fi
stop() { # pidfile
  [ -f "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}
stop "$DIR/slurmd.pid"
stop "$DIR/slurmctld.pid"
stop "$DIR/munge/munged.pid"
echo "# single-node Slurm in $DIR stopped" >&2
