#!/usr/bin/env bash
# End-to-end test of `nnuc jobs --target slurm` on a real (single-node, throw-away) Slurm cluster:
#   1. starts the cluster (cluster-up.sh: slurm-wlm + munge from Debian, a fresh munge key, private ports)
#   2. compiles the default recipe for datasets/Dataset004_HippocampusMini (copied into WORK)
#   3. writes the Slurm jobs for a tiny run (3d_fullres, folds 0 and 1, 2 epochs x 2 iterations, no GPU,
#      prediction in 2 parts) and submits them with submit.sh --predict (preprocess -> train array ->
#      select -> predict array, afterok dependencies)
#   4. waits for every job, then submits everything again: the second round must skip all finished work
#   5. stops the cluster (also on failure) and leaves the results in WORK for the caller to check
#
# Usage: bash scripts/slurm/e2e.sh WORK        (needs root; WORK must not exist or be empty)
# Prints `E2E key=value` lines (job states, seconds) that test/jobs-slurm.test.ts reads.
set -euo pipefail
WORK=${1:?usage: e2e.sh WORK}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NNUC="$ROOT/bin/nnuc.mjs"
TIMEOUT=${NNUC_SLURM_E2E_TIMEOUT:-1500}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
CLUSTER="$WORK/cluster"
trap 'bash "$ROOT/scripts/slurm/cluster-down.sh" "$CLUSTER" || true' EXIT
eval "$(bash "$ROOT/scripts/slurm/cluster-up.sh" "$CLUSTER")"
export SLURM_CONF
PATH=$PATH:/usr/sbin
START=$(date +%s)

cp -r "$ROOT/datasets/Dataset004_HippocampusMini" "$WORK/dataset"
cp "$ROOT/examples/inputs/Dataset004_HippocampusMini/fingerprint.json" "$WORK/dataset/fingerprint.json"
"$NNUC" compile "$ROOT/recipes/nnunet.nnu" --dataset "$WORK/dataset" --dataset-name Dataset004_HippocampusMini --out "$WORK/build" --quiet
"$NNUC" jobs "$WORK/build" --target slurm --nnuc "$NNUC" --dataset "$WORK/dataset" \
  --configuration 3d_fullres --folds 0,1 --epochs 2 --iterations 2 --val-iterations 1 \
  --gpus 0 --cpus 1 --mem 2G --time 60 \
  --resource preprocess.cpus=2 --resource preprocess.mem=2G --resource preprocess.time=30 \
  --resource select.cpus=1 --resource select.mem=2G --resource select.time=30 \
  --resource predict.gpus=0 --resource predict.cpus=1 --resource predict.mem=2G --resource predict.time=30 \
  --parts 2 --quiet

# wait_jobs ID...: until no job of ours is pending or running; prints each job's final states
wait_jobs() {
  local deadline=$(( $(date +%s) + TIMEOUT ))
  while [ -n "$(squeue -h -o '%i' 2>/dev/null)" ]; do
    if [ "$(date +%s)" -gt "$deadline" ]; then echo "E2E timeout after ${TIMEOUT}s" >&2; squeue >&2; return 1; fi
    sleep 5
  done
}
# states ID: the distinct states of a job (array tasks included), e.g. COMPLETED
states() { scontrol -o show job "$1" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort -u | tr '\n' ' ' | sed 's/ $//'; }

round() { # NAME
  local out ids
  out=$(bash "$WORK/build/jobs/slurm/submit.sh" --predict "$WORK/dataset/imagesTs" "$WORK/predictions")
  echo "$out" | sed "s/^/[$1] /" >&2
  ids=$(echo "$out" | grep -oE 'job [0-9]+' | awk '{print $2}' | tr '\n' ' ')
  wait_jobs
  local names=(preprocess train select predict) i=0
  for id in $ids; do echo "E2E $1.${names[$i]}=$(states "$id")"; i=$((i + 1)); done
}
round first
FIRST=$(date +%s)
echo "E2E first.seconds=$((FIRST - START))"
round second
echo "E2E second.seconds=$(( $(date +%s) - FIRST ))"
