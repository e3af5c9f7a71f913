#!/usr/bin/env bash
# The whole Shapes World recipe, unattended: stage 0 -> VGT-AE stage 1 -> stage 2 -> reconstruction eval
# -> latents -> QueryAR -> generation eval -> assembled checkpoint. Every step resumes or is skipped when
# done, so after a kill just run it again:
#
#   cd native-models && nohup bash vgt/train/run_recipe.sh > runs/recipe.log 2>&1 &
#
# Sizes are environment variables, e.g. AR_STEPS=2000 bash ...; CPU_PLAN=1 runs stage 2 and QueryAR side by side
# (TRAINING.md has the exact line the shipped model was trained with).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-/usr/bin/python3}
RUNS=${RUNS:-runs}
CONFIG=${CONFIG:-shapes}
S0_STEPS=${S0_STEPS:-300}
AE1_STEPS=${AE1_STEPS:-1500}
AE2_STEPS=${AE2_STEPS:-1500}
AE_BATCH=${AE_BATCH:-8}
SIGMA=${SIGMA:-0.1}
N_LATENTS=${N_LATENTS:-100000}
AR_STEPS=${AR_STEPS:-30000}
AR_BATCH=${AR_BATCH:-32}
AR_LR=${AR_LR:-5e-4}
AR_WARMUP=${AR_WARMUP:-500}
AR_EMA=${AR_EMA:-0.9995}
AR_MUL=${AR_MUL:-4}
AR_EVAL_EVERY=${AR_EVAL_EVERY:-2000}
THREADS=${THREADS:-1}
mkdir -p "$RUNS"
say() { echo "[recipe $(date +%H:%M:%S)] $*"; }

say "stage 0"
$PY -m vgt.train.stage0 --config "$CONFIG" --steps "$S0_STEPS" --batch 16 --lr 1e-3 --warmup 100 \
  --eval-every 100 --save-every 50 --out "$RUNS/stage0"

say "VGT-AE stage 1"
$PY -m vgt.train.ae --stage 1 --config "$CONFIG" --stage0 "$RUNS/stage0/ckpt.pt" --steps "$AE1_STEPS" \
  --batch "$AE_BATCH" --lr 5e-4 --warmup 100 --eval-every 100 --eval-batch 32 --save-every 50 --out "$RUNS/ae1"

AR_CMD=($PY -m vgt.train.ar --config "$CONFIG" --latents "$RUNS/latents" --steps "$AR_STEPS" --batch "$AR_BATCH"
  --lr "$AR_LR" --warmup "$AR_WARMUP" --ema "$AR_EMA" --diffusion-batch-mul "$AR_MUL" --threads "$THREADS"
  --save-every 100 --ae "$RUNS/ae2/ckpt.pt" --eval-every "$AR_EVAL_EVERY" --out "$RUNS/ar")
AE2_CMD=($PY -m vgt.train.ae --stage 2 --config "$CONFIG" --init "$RUNS/ae1/ckpt.pt" --sigma "$SIGMA" --steps "$AE2_STEPS"
  --batch "$AE_BATCH" --lr 5e-4 --warmup 100 --eval-every 100 --eval-batch 32 --save-every 50 --out "$RUNS/ae2")
latents() {  # encode the training scenes once, on both cores
  say "latents (from $1)"
  $PY -m vgt.train.encode_latents --ae "$1" --out "$RUNS/latents" --n "$N_LATENTS" --worker 0 --workers 2 &
  $PY -m vgt.train.encode_latents --ae "$1" --out "$RUNS/latents" --n "$N_LATENTS" --worker 1 --workers 2
  wait
}

if [ "${CPU_PLAN:-0}" = 1 ]; then
  # The CPU plan (TRAINING.md): stage 2 freezes the projector as well, so the latents are final after stage 1 and
  # QueryAR trains on them on one core while the decoder adapts to LayerNorm + noise on the other.
  latents "$RUNS/ae1/ckpt.pt"
  say "VGT-AE stage 2 (projector frozen) and QueryAR, side by side"
  "${AE2_CMD[@]}" --freeze-projector > "$RUNS/ae2.out" 2>&1 &
  "${AR_CMD[@]}"
  wait
  [ -f "$RUNS/ae2/eval-recon.json" ] || { say "reconstruction eval"; $PY -m vgt.train.evaluate recon --ae "$RUNS/ae2/ckpt.pt" --n 1000; }
else
  say "VGT-AE stage 2"
  "${AE2_CMD[@]}"
  [ -f "$RUNS/ae2/eval-recon.json" ] || { say "reconstruction eval"; $PY -m vgt.train.evaluate recon --ae "$RUNS/ae2/ckpt.pt" --n 1000; }
  latents "$RUNS/ae2/ckpt.pt"
  say "QueryAR"
  "${AR_CMD[@]}"
fi

[ -f "$RUNS/ar/eval-gen.json" ] || { say "generation eval"; $PY -m vgt.train.evaluate gen --ar "$RUNS/ar/ckpt.pt" --ae "$RUNS/ae2/ckpt.pt" --k 1 4 16 --out "$RUNS/ar/eval-gen.json"; }
$PY -m vgt.train.assemble --ae "$RUNS/ae2/ckpt.pt" --ar "$RUNS/ar/ckpt.pt" --out "$RUNS/vgt-shapes.pt"
say "done: $RUNS/vgt-shapes.pt"
