#!/usr/bin/env bash
# Experiment P1 (issue 15): RoPE positions of image tokens, sequence index (the reference, the shipped recipe)
# vs grid cell, two arms side by side on one core each, same latents, seeds, batches and orders. Resumable:
# run it again after a kill. Each arm logs the geometry probes every PROBE_EVERY steps; compare with
#   /usr/bin/python3 -m vgt.train.evaluate gen --ar runs/p1-grid/ckpt.pt --ae bundles/vgt-shapes --k 1 4 \
#       --prompts runs/val-prompts.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
STEPS=${STEPS:-1500}
PROBE_EVERY=${PROBE_EVERY:-300}
LATENTS=${LATENTS:-runs/latents-nd}
LIMIT=${LIMIT:-40000}
[ -f runs/probe-set.pt ] || $PY -m vgt.train.probes build --ae bundles/vgt-shapes --out runs/probe-set.pt
for arm in sequence grid; do
  OPENBLAS_NUM_THREADS=1 $PY -m vgt.train.ar --config shapes8 --latents "$LATENTS" --limit "$LIMIT" --steps "$STEPS" --batch 32 \
    --lr 1e-3 --warmup 100 --ema 0.998 --bf16 --threads 1 --diffusion-batch-mul 4 --positions "$arm" \
    --probe-set runs/probe-set.pt --probe-every "$PROBE_EVERY" --save-every 100 --log-every 20 \
    --out "runs/p1-$arm" > "runs/p1-$arm.out" 2>&1 &
done
wait
