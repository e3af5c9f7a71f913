#!/usr/bin/env bash
# Experiment P3 (issue 15): grid positions + coarse-first order (`--order coarse`: the stride-2 lattice of the
# 8x8 grid first, in random order, then the other 48 cells in random order), against the P1b `grid` row of the
# experiment table (same protocol, latents, seeds and batches; one change: the order). Resumable: run it again
# after a kill. Evaluate with the model's own order (the checkpoint's sampling.order):
#   /usr/bin/python3 -m vgt.train.evaluate gen --ar runs/p3-coarse/ckpt.pt --ae bundles/vgt-shapes --k 1 4 \
#       --prompts data/shapes-val-prompts.jsonl --seeds 2
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
STEPS=${STEPS:-1500}
PROBE_EVERY=${PROBE_EVERY:-300}
LATENTS=${LATENTS:-runs/latents-nd}
LIMIT=${LIMIT:-40000}
ARM=${ARM:-p3-coarse}   # P4: ARM=p4-ctxnoise EXTRA="--ctx-noise 0.3" (the same arm plus noisy context latents)
EXTRA=${EXTRA:-}
AE=${AE:-bundles/vgt-shapes}             # the VGT-AE the latents came from (for the probe set)
PROBE_SET=${PROBE_SET:-runs/probe-set.pt}
[ -f "$PROBE_SET" ] || $PY -m vgt.train.probes build --ae "$AE" --out "$PROBE_SET"
OPENBLAS_NUM_THREADS=1 $PY -m vgt.train.ar --config shapes8 --latents "$LATENTS" --limit "$LIMIT" --steps "$STEPS" \
  --batch 32 --lr 1e-3 --warmup 100 --ema 0.998 --bf16 --threads 1 --diffusion-batch-mul 4 --positions grid \
  --order coarse --probe-set "$PROBE_SET" --probe-every "$PROBE_EVERY" --save-every 100 --log-every 20 \
  $EXTRA --out "runs/$ARM" >> "runs/$ARM.out" 2>&1
