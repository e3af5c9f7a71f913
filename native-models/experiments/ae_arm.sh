#!/usr/bin/env bash
# Issue 15, item 5 then 2: a generator on a new VGT-AE's latents. Encodes the first LIMIT distractor-free training
# scenes with the AE checkpoint AE_RUN/ckpt.pt, builds that AE's probe set, then trains the P4 recipe (grid
# positions, coarse-first order, --ctx-noise 0.3; experiments/coarse.sh) on them. Resumable: run it again after a kill
# (finished shards and the probe set are kept, training resumes from its checkpoint).
#   AE_RUN=runs/ae-B NAME=aeB bash experiments/ae_arm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
: "${AE_RUN:?AE_RUN=runs/<ae run>}" "${NAME:?NAME=<short arm name>}"
LIMIT=${LIMIT:-40000}
OPENBLAS_NUM_THREADS=1 $PY -m vgt.train.encode_latents --ae "$AE_RUN/ckpt.pt" --out "runs/latents-$NAME" \
  --n "$LIMIT" --distractor-p 0 >> "runs/p4-$NAME.out" 2>&1
AE="$AE_RUN/ckpt.pt" PROBE_SET="runs/probe-set-$NAME.pt" LATENTS="runs/latents-$NAME" LIMIT="$LIMIT" \
  ARM="p4-$NAME" EXTRA="--ctx-noise 0.3 ${EXTRA:-}" bash experiments/coarse.sh
