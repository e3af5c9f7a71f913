#!/usr/bin/env bash
# Issue 15, item 6: the long run. The whole local-latent recipe, one resumable command: every stage continues from its
# checkpoint after a kill and is skipped once done, so after an interruption just run it again.
#
#   cd native-models && setsid nohup nice -n -10 bash experiments/long_run.sh >> runs/long_run.log 2>&1 &
#
# Stages (TRAINING.md, "A VGT-AE with local latents" and "Experiments"):
#   1. the shipped model's weights back in PyTorch (the AE fine-tunes start from its VGT-AE)
#   2. AE B: whole-AE fine-tune, local window 1, shape weight 4; B2 and B3: 2,000 decoder-only steps each
#   3. LIMIT distractor-free training scenes encoded by AE B (B2 and B3 share its encoder and projector)
#   4. the probe set of that AE (per-cell colour and shape), grouped like the generator's tokens
#   5. QueryAR, the P4 recipe (grid positions, coarse-first order, noisy context) for STEPS steps; GROUP=2 trains on
#      2x2-cell tokens (--latent-group 2), OBJECT_WEIGHT=4 weighs object tokens 5x (the shipped generator). INIT
#      seeds it from another run's checkpoint (e.g. the 3,000-step P4 arm), once.
#   6. the validation eval, decoded by AE B3
# Both cores: the AE stages run one after another with two threads; QueryAR runs on one (two threads are only ~10 %
# faster), leaving the other core for evaluations.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
ARM=${ARM:-p4-long}
STEPS=${STEPS:-9000}
LIMIT=${LIMIT:-40000}
GROUP=${GROUP:-1}
INIT=${INIT:-}
OBJECT_WEIGHT=${OBJECT_WEIGHT:-0}   # the shipped generator: ARM=p4-ow OBJECT_WEIGHT=4 STEPS=7000 INIT=runs/p4-aeB/ckpt.pt
AE_STEPS=${AE_STEPS:-2000}
say() { echo "[long_run $(date +%H:%M:%S)] $*"; }
export OPENBLAS_NUM_THREADS=1

[ -f runs/rebuilt.pt ] || $PY -m vgt.bundle bundles/vgt-shapes --rebuild runs/rebuilt.pt
AE_COMMON=(--config shapes8 --stage 2 --steps "$AE_STEPS" --batch 8 --lr 2e-4 --sigma 0.1 --bf16 --threads 2
  --shape-weight 4)
say "AE B"
$PY -m vgt.train.ae "${AE_COMMON[@]}" --init runs/rebuilt.pt --train-encoder --local-window 1 --warmup 50 --out runs/ae-B
for pair in "ae-B ae-B2" "ae-B2 ae-B3"; do
  set -- $pair
  say "AE $2 (decoder only)"
  $PY -m vgt.train.ae "${AE_COMMON[@]}" --init "runs/$1/ckpt.pt" --freeze-projector --warmup 20 --out "runs/$2"
done

say "latents"
$PY -m vgt.train.encode_latents --ae runs/ae-B/ckpt.pt --out runs/latents-aeB --n "$LIMIT" --distractor-p 0
PROBE_SET=runs/probe-set-aeB-g$GROUP.pt
[ -f "$PROBE_SET" ] || $PY -m vgt.train.probes build --ae runs/ae-B/ckpt.pt --latent-group "$GROUP" --out "$PROBE_SET"

if [ -n "$INIT" ] && [ ! -f "runs/$ARM/ckpt.pt" ]; then
  mkdir -p "runs/$ARM" && cp "$INIT" "runs/$ARM/ckpt.pt"
fi
say "QueryAR $ARM to step $STEPS"
$PY -m vgt.train.ar --config shapes8 --latents runs/latents-aeB --limit "$LIMIT" --steps "$STEPS" \
  --batch 32 --lr 1e-3 --warmup 100 --ema 0.998 --bf16 --threads 1 --diffusion-batch-mul 4 --positions grid \
  --order coarse --ctx-noise 0.3 --latent-group "$GROUP" --object-weight "$OBJECT_WEIGHT" \
  --probe-set "$PROBE_SET" --probe-every 300 --save-every 100 --log-every 20 --out "runs/$ARM"

say "validation eval"
$PY -m vgt.train.evaluate gen --ar "runs/$ARM/ckpt.pt" --ae runs/ae-B3/ckpt.pt --k 1 4 \
  --prompts data/shapes-val-prompts.jsonl --seeds 2 --order random --cfg 3 --out "runs/$ARM/eval-val.json"
say "done"
