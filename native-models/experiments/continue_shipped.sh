#!/usr/bin/env bash
# Continue the shipped generator from the bundle itself (its checkpoints need not survive): rebuild the bundle in
# PyTorch, encode LIMIT fresh distractor-free scenes (SEED; the shipped run used seed 1) with its VGT-AE on both cores,
# build the probe set, then train QueryAR from the bundle's generator (--init: fresh AdamW, warmup, one cosine to
# STEPS) with the shipped recipe (P4 + object weight 4). Resumable: run it again after a kill. Start a second arm
# (ARM, EXTRA) beside it once the first has made the latents and the probe set: it skips both.
# The shipped bundle has phrase tokens (TRAINING.md, "Binding"): continuing it needs EXTRA="--phrase-tokens ...".
#
#   cd native-models && setsid nohup nice -n -10 bash experiments/continue_shipped.sh >> runs/continue.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
ARM=${ARM:-ow-cont}
STEPS=${STEPS:-3000}
LR=${LR:-5e-4}
LIMIT=${LIMIT:-40000}
SEED=${SEED:-2}
INIT=${INIT:-runs/rebuilt.pt}  # or a run's ckpt.pt (its EMA), e.g. INIT=runs/ow-par/ckpt.pt to continue the shipped run
EXTRA=${EXTRA:-}   # more QueryAR flags, e.g. the parallel-layout arm: ARM=ow-par EXTRA="--parallel-p 0.5"
LATENTS=${LATENTS:-runs/latents-ship-s$SEED}  # or a folder of shard links (a data mix; the encoding step skips it)
say() { echo "[continue $(date +%H:%M:%S)] $*"; }
export OPENBLAS_NUM_THREADS=1

[ -f runs/rebuilt.pt ] || $PY -m vgt.bundle bundles/vgt-shapes --rebuild runs/rebuilt.pt
say "latents"
for w in 0 1; do
  $PY -m vgt.train.encode_latents --ae runs/rebuilt.pt --out "$LATENTS" --n "$LIMIT" --seed "$SEED" \
    --distractor-p 0 --worker $w --workers 2 &
done
wait
[ -f runs/probe-set-ship.pt ] || $PY -m vgt.train.probes build --ae runs/rebuilt.pt --out runs/probe-set-ship.pt

say "QueryAR $ARM to step $STEPS"
$PY -m vgt.train.ar --config shapes8 --latents "$LATENTS" --limit "$LIMIT" --steps "$STEPS" --init "$INIT" \
  --batch 32 --lr "$LR" --warmup 100 --ema 0.998 --bf16 --threads 1 --diffusion-batch-mul 4 --positions grid \
  --order coarse --ctx-noise 0.3 --object-weight 4 --probe-set runs/probe-set-ship.pt --probe-every 300 \
  --save-every 100 --log-every 20 --out "runs/$ARM" $EXTRA
say "done"
