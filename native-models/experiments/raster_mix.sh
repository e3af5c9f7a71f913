#!/usr/bin/env bash
# Experiment P2 (issue 15): grid positions (as P1's grid arm) with a share of batches in raster order
# (--raster-p): raster order teaches "use the neighbour you just saw" densely, and with grid positions the
# neighbour offsets are the same in every order, so it should carry over to random order. One arm per call:
#   bash experiments/raster_mix.sh 0.5
# Resumable: run it again after a kill. Same latents, seeds and schedule as P1 (experiments/positions.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
P=${1:?raster share, e.g. 0.5}
STEPS=${STEPS:-1500}
OPENBLAS_NUM_THREADS=1 exec $PY -m vgt.train.ar --config shapes8 --latents runs/latents-nd --limit 40000 \
  --steps "$STEPS" --batch 32 --lr 1e-3 --warmup 100 --ema 0.998 --bf16 --threads 1 --diffusion-batch-mul 4 \
  --positions grid --raster-p "$P" --probe-set runs/probe-set.pt --probe-every 300 --save-every 100 --log-every 20 \
  --out "runs/p2-r$P"
