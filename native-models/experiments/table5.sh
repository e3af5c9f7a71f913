#!/usr/bin/env bash
# The miniature of the paper's Table 5: does QueryAR learn better from stage-2 latents (per-token LayerNorm, a decoder
# trained with latent noise) than from stage-1 latents? Three arms, one generator budget (T5_AR_STEPS at batch 32 on
# T5_N latents each), ShapesEval at k = 4 on an even subset of the held-out prompts:
#   raw      generator on raw stage-1 latents (no LayerNorm), decoded by the stage-1 decoder
#   ln-s0    generator on stage-2 latents, decoded by a stage-2 decoder trained without noise (sigma = 0)
#   ln-s01   the same generator, decoded by the stage-2 decoder trained with sigma = 0.1
# With the CPU plan's frozen projector the two stage-2 arms share latents (LayerNorm of the same projector output),
# so they share the generator and differ in the decoder only; the sigma-0 decoder is trained exactly as the recipe's
# stage 2 (400 steps, LR 5e-4, warmup 100) with sigma 0.
# Every step resumes or is skipped when done:  cd native-models && nohup bash experiments/table5.sh > runs8/t5.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
RUNS=${RUNS:-runs8}
CONFIG=${CONFIG:-shapes8}
AE1=${AE1:-$RUNS/ae1/ckpt.pt}
AE2_SIGMA01=${AE2_SIGMA01:-$RUNS/ae2/ckpt.pt}  # the recipe's stage 2: 400 steps at sigma 0.1, LR 5e-4 (TRAINING.md)
LATENTS=${LATENTS:-$RUNS/latents}
AE2_STEPS=${AE2_STEPS:-400}
T5_N=${T5_N:-16000}
T5_AR_STEPS=${T5_AR_STEPS:-500}
T5_LIMIT=${T5_LIMIT:-156}
OUT=$RUNS/t5
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
mkdir -p "$OUT"
say() { echo "[table5 $(date +%H:%M:%S)] $*"; }
AR_ARGS=(--config "$CONFIG" --steps "$T5_AR_STEPS" --batch 32 --lr 1e-3 --warmup 50 --ema 0.998
  --diffusion-batch-mul 2 --save-every 100 --eval-every 1000000 --limit "$T5_N" --threads 1)

say "raw stage-1 latents ($T5_N)"
$PY -m vgt.train.encode_latents --ae "$AE1" --out "$OUT/latents-raw" --n "$T5_N" --raw
say "generator on raw stage-1 latents"
$PY -m vgt.train.ar "${AR_ARGS[@]}" --latents "$OUT/latents-raw" --out "$OUT/ar-raw"
say "generator on stage-2 latents"
$PY -m vgt.train.ar "${AR_ARGS[@]}" --latents "$LATENTS" --out "$OUT/ar-ln"
say "stage-2 decoder without noise"
$PY -m vgt.train.ae --config "$CONFIG" --stage 2 --init "$AE1" --freeze-projector --sigma 0 --steps "$AE2_STEPS" \
  --batch 8 --lr 5e-4 --warmup 100 --save-every 50 --eval-every 100000 --threads 1 --out "$OUT/ae2-sigma0"
evaluate() {  # name, generator, decoder, extra flags
  [ -f "$OUT/eval-$1.json" ] && return
  say "ShapesEval: $1"
  $PY -m vgt.train.evaluate gen --ar "$2/ckpt.pt" --ae "$3" --k 4 --limit "$T5_LIMIT" --out "$OUT/eval-$1.json" "${@:4}"
}
evaluate raw "$OUT/ar-raw" "$AE1" --no-latent-ln
evaluate ln-s0 "$OUT/ar-ln" "$OUT/ae2-sigma0/ckpt.pt"
evaluate ln-s01 "$OUT/ar-ln" "$AE2_SIGMA01"
say "done"
